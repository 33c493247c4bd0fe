import { describe, expect, it } from 'vitest';
import { authorizedKeysLine, clientHints, forcedCommand, unsafeValueReason } from '../../src/authorize/line.js';
import { blobOfAuthorizedLine, lineWithKey } from '../../src/authorize/append.js';
import { authorizeCommand } from '../../src/cli/authorize-command.js';
import type { Io } from '../../src/cli/run-cli.js';

/** An ed25519 public key blob (type string, then 32 bytes of key). */
function blob(fill: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const out = Buffer.alloc(4 + type.length + 4 + 32, fill);
  out.writeUInt32BE(type.length, 0);
  type.copy(out, 4);
  out.writeUInt32BE(32, 4 + type.length);
  return out;
}

function io(argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const value: Io = { argv, env: { HOME: '/nonexistent' }, stdout: (t) => { out.stdout += t; }, stderr: (t) => { out.stderr += t; }, stderrIsTTY: false };
  return { io: value, out };
}

describe('unsafeValueReason', () => {
  it.each([
    ['a"b', /double quote/],
    ['a\\b', /backslash/],
    ['a\nb', /line break/],
    ['a\rb', /line break/],
    ['a\0b', /NUL/],
    ['a\tb', /control character/],
  ])('when a value holds %j then it names why', (value, why) => {
    expect(unsafeValueReason(value)).toMatch(why);
  });

  it('when a value is plain text with spaces and single quotes then it is accepted', () => {
    expect(unsafeValueReason("/usr/local/bin/dump.sh --all 'db 1'")).toBeUndefined();
  });
});

describe('authorizeCommand in-process', () => {
  // A NUL cannot travel through argv, so only an in-process caller can send one.
  it.each([['--command', '/bin/true\0x'], ['--rsync-ro', '/srv\0'], ['--comment', 'a\0b']])('when %s holds a NUL then it exits 64 with nothing on stdout', async (option, value) => {
    const args = option === '--comment' ? ['k', '--rsync-ro', '/srv', option, value] : ['k', option, value];
    const { io: i, out } = io(args);
    expect(await authorizeCommand(args, i)).toBe(64);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/NUL byte/);
  });
});

describe('authorizedKeysLine', () => {
  it('when a caller bypasses the option checks then the line is still refused', () => {
    expect(() => authorizedKeysLine({ mode: { kind: 'command', command: 'x" evil' }, blob: blob(1) })).toThrow(/double quote/);
    expect(() => authorizedKeysLine({ mode: { kind: 'command', command: 'x' }, from: 'a"', blob: blob(1) })).toThrow(/double quote/);
  });

  it('when every part is given then restrict comes first, then from=, then command=, then the key and comment', () => {
    const line = authorizedKeysLine({ mode: { kind: 'rsync-ro', dir: '/srv/a b', rrsync: 'rrsync' }, from: '192.0.2.10', blob: blob(7), comment: 'c d' });
    expect(line).toBe(`restrict,from="192.0.2.10",command="rrsync -ro '/srv/a b'" ssh-ed25519 ${blob(7).toString('base64')} c d`);
  });

  it('when the mode is write-only with a named rrsync then the command says -wo', () => {
    expect(forcedCommand({ kind: 'rsync-wo', dir: '/in', rrsync: '/opt/rsync/rrsync' })).toBe('/opt/rsync/rrsync -wo /in');
  });
});

describe('clientHints', () => {
  it('when the key has an odd name then the crontab entry quotes it for sh', () => {
    expect(clientHints({ kind: 'command', command: '/x' }, 'my key').crontab).toBe("15 2 * * * agentrun --require 'my key' ssh USER@HOST > dump.sql");
  });
});

describe('blobOfAuthorizedLine / lineWithKey', () => {
  const key = blob(3);
  const text = `ssh-ed25519 ${key.toString('base64')} plain`;

  it.each([
    ['a plain key line', text],
    ['options with quoted spaces', `restrict,command="rrsync -ro '/srv/a b' x y" ${text}`],
    ['an escaped quote inside an option', `command="echo \\"a b\\" c d",no-pty ${text}`],
    ['several options and tabs', `from="10.0.0.1",no-pty\t${text}`],
  ])('when the line has %s then its key is found', (_what, line) => {
    expect(blobOfAuthorizedLine(line)?.equals(key)).toBe(true);
  });

  it('when the words inside a command look like a key type and base64 then they are not taken for the key', () => {
    expect(blobOfAuthorizedLine(`command="ssh-ed25519 ${blob(9).toString('base64')} x" ${text}`)?.equals(key)).toBe(true);
  });

  it('when the file holds comments and other keys then the 1-based line of the key is returned', () => {
    const file = `# keys\n\nssh-ed25519 ${blob(4).toString('base64')} other\nrestrict ${text}\n`;
    expect(lineWithKey(file, key)).toBe(4);
    expect(lineWithKey(file, blob(5))).toBeUndefined();
  });
});
