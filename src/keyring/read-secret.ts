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

/** Longest first line of stdin taken as a passphrase, in bytes (its line ending not counted). */
export const MAX_SECRET_LINE = 4096;

/**
 * The first line of a non-terminal stdin (without "\n" or "\r\n"), or all of it when it has no
 * newline; throws NO_PROMPT when that line is longer than MAX_SECRET_LINE bytes.
 */
export function readLineFromStdin(stdin: NodeJS.ReadableStream & { destroy?: () => void } = process.stdin): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Stop reading as soon as the line is known: what follows (`yes pw |`, an ssh session that
    // stays open) must neither pile up in memory nor keep the process alive.
    const stop = (): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.on('error', () => { /* the writer may still be writing into the closed pipe */ });
      stdin.pause();
      stdin.destroy?.();
    };
    const done = (): void => {
      stop();
      let line = Buffer.concat(chunks);
      if (line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
      if (line.length <= MAX_SECRET_LINE) return resolve(line.toString('utf8'));
      reject(new AgentkeepError('NO_PROMPT',
        `the first line of stdin is longer than ${MAX_SECRET_LINE} bytes, which is no passphrase; nothing was stored`,
        'pipe just the passphrase and a newline: printf \'%s\\n\' "$PASS" | agentkeep passphrase set KEY'));
    };
    const onData = (d: Buffer | string): void => {
      const chunk = typeof d === 'string' ? Buffer.from(d, 'utf8') : d;
      const nl = chunk.indexOf(0x0a);
      const part = nl === -1 ? chunk : chunk.subarray(0, nl);
      chunks.push(part);
      size += part.length;
      // Over the cap (plus one byte for a "\r"): no need to wait for the end of the line.
      if (nl !== -1 || size > MAX_SECRET_LINE + 1) done();
    };
    const onEnd = (): void => done();
    const onError = (error: Error): void => { stop(); reject(error); };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
  });
}
