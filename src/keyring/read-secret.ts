// Reads a passphrase for `agentkeep passphrase set`: typed on /dev/tty with echo off, or the
// first line of stdin when stdin is not a terminal (scripted setup). Never argv, never env.
import { openSync, closeSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { AgentkeepError } from '../errors.js';

/** Prompts on the controlling terminal without echo; throws NO_PROMPT when there is none or on Ctrl-C. */
export function readHiddenFromTty(prompt: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return Promise.reject(new AgentkeepError('NO_PROMPT', 'there is no terminal to type the passphrase on',
      'run it in a terminal, or pipe the passphrase on stdin: agentkeep passphrase set KEY < file'));
  }
  const input = new ReadStream(fd);
  input.setRawMode(true);
  writeSync(fd, prompt);
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const finish = (error?: Error): void => {
      input.off('data', onData);
      input.setRawMode(false);
      writeSync(fd, '\n');
      input.destroy();
      try { closeSync(fd); } catch { /* the stream closed it */ }
      if (error) reject(error); else resolve(text);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return finish(new AgentkeepError('NO_PROMPT', 'cancelled; nothing was stored'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch === '\u0015') text = '';
        else if (ch >= ' ' || ch === '\t') text += ch;
      }
    };
    input.on('data', onData);
  });
}

/** The first line of a non-terminal stdin (without its line ending). */
export function readLineFromStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stdin.setEncoding('utf8');
    stdin.on('data', (d: string) => { text += d; });
    stdin.on('error', reject);
    stdin.on('end', () => resolve(text.split(/\r?\n/)[0] ?? ''));
  });
}
