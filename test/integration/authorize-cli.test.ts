// `agentkeep authorize` as a user runs it: the README's examples run verbatim and compared line by
// line, every refusal exits 64 with nothing on stdout and no file touched, and --append's safety rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTKEEP, ROOT, Sandbox, run } from '../helpers/sandbox.js';

/** The README section on restricted keys. */
function readmeSection(): string {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('### Restricting the backup keys on the clients');
  expect(start).toBeGreaterThan(0);
  const end = text.indexOf('\n## ', start);
  return text.slice(start, end);
}

/** Splits a README command line into words (plain words and '...' single-quoted ones). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The `$ agentkeep authorize ...` examples of a console block, each with the lines it prints. */
function consoleExamples(section: string): Array<{ command: string; output: string[] }> {
  const block = /```console\n([\s\S]*?)```/.exec(section)?.[1];
  expect(block).toBeDefined();
  const out: Array<{ command: string; output: string[] }> = [];
  for (const line of block!.trimEnd().split('\n')) {
    if (line.startsWith('$ ')) out.push({ command: line.slice(2), output: [] });
    else out.at(-1)!.output.push(line);
  }
  return out;
}

describe('agentkeep authorize on the command line', () => {
  let sb: Sandbox;
  const pubOf = (name: string) => readFileSync(join(sb.home, '.ssh', `${name}.pub`), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

  beforeAll(() => {
    sb = new Sandbox('ak-authz-cli-');
    sb.keygen('k');
  });

  afterAll(() => sb?.cleanup());

  it('when the README examples are run then each prints exactly what the README shows', async () => {
    const examples = consoleExamples(readmeSection());
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const { command, output } of examples) {
      const argv = words(command);
      expect(argv.slice(0, 2)).toEqual(['agentkeep', 'authorize']);
      const key = argv[2]!;
      // The key gets the comment the README's line ends with.
      const comment = output[0]!.split(' ').at(-1)!;
      rmSync(join(sb.home, '.ssh', key), { force: true });
      rmSync(join(sb.home, '.ssh', `${key}.pub`), { force: true });
      const made = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(sb.home, '.ssh', key)], { env: sb.env });
      expect(made.code).toBe(0);
      const r = await sb.agentkeep(argv.slice(1));
      expect(r.code, r.stderr).toBe(0);
      const expected = output.map((l) => l.replace('ssh-ed25519 AAAA...', pubOf(key)));
      expect([...r.stdout.trimEnd().split('\n'), ...r.stderr.trimEnd().split('\n')]).toEqual(expected);
    }
  });

  it('when the README --append line is run twice then the file holds the line once, mode 0600, and the second run says so', async () => {
    const line = /```sh\n(agentkeep authorize [^\n]*--append[^\n]*)\n```/.exec(readmeSection())?.[1];
    expect(line).toBeDefined();
    rmSync(join(sb.home, '.ssh/backup_ed25519'), { force: true });
    rmSync(join(sb.home, '.ssh/backup_ed25519.pub'), { force: true });
    sb.keygen('backup_ed25519');
    copyFileSync(join(sb.home, '.ssh/backup_ed25519.pub'), join(sb.home, 'backup_ed25519.pub'));
    rmSync(join(sb.home, '.ssh/authorized_keys'), { force: true });
    // The line as a user types it in a shell, with the built agentkeep on PATH.
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'agentkeep'), `#!/bin/sh\nexec '${process.execPath}' '${AGENTKEEP}' "$@"\n`, { mode: 0o755 });
    const shell = (command: string) => run('/bin/sh', ['-c', command], { env: { ...sb.env, PATH: `${bin}:${sb.env.PATH}` }, cwd: sb.home });
    const first = await shell(line!);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(/^ \* Added a restricted line for SHA256:\S+ to .*\/\.ssh\/authorized_keys$/m);
    // From the .pub alone (no private key here), the crontab entry names the key by fingerprint.
    expect(first.stderr).toMatch(/^# crontab entry: 15 2 \* \* \* agentrun --require SHA256:\S+ rsync -a -e ssh USER@HOST:\/ DEST\/$/m);
    const second = await shell(line!);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/already has a line for SHA256:\S+ \(line 1\); nothing added/);
    const file = join(sb.home, '.ssh/authorized_keys');
    expect(readFileSync(file, 'utf8')).toBe(`restrict,from="192.0.2.10",command="rrsync -ro /srv" ${pubOf('backup_ed25519')} backup_ed25519\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('when six --append runs with different keys start at once then all six lines are in the file', async () => {
    const file = join(sb.dir, 'busy_keys');
    const names = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    for (const name of names) sb.keygen(name);
    const results = await Promise.all(names.map((name) => sb.agentkeep(['authorize', name, '--rsync-ro', `/srv/${name}`, '--append', file])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').sort();
    expect(lines).toEqual(names.map((name) => `restrict,command="rrsync -ro /srv/${name}" ${pubOf(name)} ${name}`).sort());
    expect(readdirSync(sb.dir).filter((n) => n.startsWith('busy_keys'))).toEqual(['busy_keys']);
  });

  const refusals: Array<[string, string[], RegExp]> = [
    ['no mode', [], /no mode given/],
    ['two modes', ['--rsync-ro', '/srv', '--command', '/bin/true'], /2 modes given/],
    ['a relative --rsync-ro DIR', ['--rsync-ro', 'srv'], /--rsync-ro needs an absolute directory, got "srv"/],
    ['a relative --rsync-wo DIR', ['--rsync-wo', './inbox'], /--rsync-wo needs an absolute directory/],
    ['a double quote in --command', ['--command', '/bin/true" ssh-ed25519 AAAA evil'], /double quote/],
    ['a backslash in --command', ['--command', '/bin/echo a\\b'], /backslash/],
    ['a backslash in DIR', ['--rsync-ro', '/srv\\x'], /backslash/],
    ['a newline in DIR', ['--rsync-ro', '/srv\nssh-ed25519 AAAA'], /line break/],
    ['a single quote in DIR', ['--rsync-ro', "/srv/it's"], /single quote/],
    ['a double quote in --rrsync', ['--rsync-ro', '/srv', '--rrsync', '/usr/bin/rrsync"'], /double quote/],
    ['--rrsync with --command', ['--command', '/bin/true', '--rrsync', '/usr/bin/rrsync'], /--rrsync applies to --rsync-ro and --rsync-wo only/],
    ['a space in --from', ['--rsync-ro', '/srv', '--from', '192.0.2.10, 10.0.0.1'], /--from .* holds a space/],
    ['a double quote in --from', ['--rsync-ro', '/srv', '--from', '192.0.2.10",command="sh'], /double quote/],
    ['a single quote in --from', ['--rsync-ro', '/srv', '--from', "'192.0.2.10'"], /--from .* holds a quote/],
    ['an empty pattern in --from', ['--rsync-ro', '/srv', '--from', '192.0.2.10,'], /empty pattern/],
    ['a newline in --comment', ['--rsync-ro', '/srv', '--comment', 'x\nssh-ed25519 AAAA'], /line break/],
    ['an unknown option', ['--rsync-ro', '/srv', '--pty'], /unknown option '--pty'/],
    ['a missing value', ['--rsync-ro'], /option '--rsync-ro <dir>' argument missing/],
  ];

  it.each(refusals)('when given %s then it exits 64, prints nothing on stdout and leaves --append\'s file alone', async (_what, args, message) => {
    const file = join(sb.dir, 'refusal_keys');
    writeFileSync(file, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA existing\n', { mode: 0o644 });
    const printing = await sb.agentkeep(['authorize', 'k', ...args]);
    expect(printing.code, printing.stderr).toBe(64);
    expect(printing.stdout).toBe('');
    expect(printing.stderr).toMatch(message);
    expect(printing.stderr).toMatch(/^agentkeep authorize: .*\nhint: .+\n$/);
    const appending = await sb.agentkeep(['authorize', 'k', ...args, '--append', file]);
    expect(appending.code).toBe(64);
    expect(appending.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA existing\n');
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it('when no KEY or two KEYs are given then it exits 64', async () => {
    for (const args of [['--rsync-ro', '/srv'], ['k', 'k2', '--rsync-ro', '/srv']]) {
      const r = await sb.agentkeep(['authorize', ...args]);
      expect(r.code).toBe(64);
      expect(r.stdout).toBe('');
    }
  });

  it('when the key does not exist then it exits 1 naming the file, with nothing on stdout', async () => {
    const r = await sb.agentkeep(['authorize', 'no_such_key', '--rsync-ro', '/srv']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`agentkeep authorize: no key file at ${join(sb.home, '.ssh/no_such_key')}`);
    const pub = await sb.agentkeep(['authorize', join(sb.dir, 'gone.pub'), '--rsync-ro', '/srv']);
    expect(pub.code).toBe(1);
    expect(pub.stderr).toContain(`no key file at ${join(sb.dir, 'gone.pub')}`);
  });

  it('when only the private key exists then its clear public part is used, without a passphrase', async () => {
    sb.keygen('locked', { passphrase: 'secret phrase' });
    const pub = pubOf('locked');
    rmSync(join(sb.home, '.ssh/locked.pub'));
    const r = await sb.agentkeep(['authorize', 'locked', '--command', '/usr/local/bin/dbdump.sh', '--comment', 'dump@backup1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`restrict,command="/usr/local/bin/dbdump.sh" ${pub} dump@backup1\n`);
  });

  it('when DIR has spaces then the forced command single-quotes it for the login shell', async () => {
    const r = await sb.agentkeep(['authorize', 'k', '--rsync-wo', '/srv/my backups', '--from', '10.0.0.0/8,!10.0.0.1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`restrict,from="10.0.0.0/8,!10.0.0.1",command="rrsync -wo '/srv/my backups'" ${pubOf('k')} k\n`);
  });

  it('when --append names a symlink then it refuses with 78 and the link and its target stay as they were', async () => {
    const target = join(sb.dir, 'real_keys');
    writeFileSync(target, '', { mode: 0o600 });
    const link = join(sb.dir, 'linked_keys');
    symlinkSync(target, link);
    const r = await sb.agentkeep(['authorize', 'k', '--rsync-ro', '/srv', '--append', link]);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/refusing to add to .*linked_keys: it is a symbolic link/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, 'utf8')).toBe('');
  });

  it('when --append names another user\'s file or a group-writable one then it refuses with 78', async () => {
    const theirs = join(sb.dir, 'theirs_keys');
    writeFileSync(theirs, '', { mode: 0o600 });
    chownSync(theirs, 4242, 4242);
    const r = await sb.agentkeep(['authorize', 'k', '--rsync-ro', '/srv', '--append', theirs]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/owned by uid 4242, not by you/);
    expect(readFileSync(theirs, 'utf8')).toBe('');
    const open = join(sb.dir, 'open_keys');
    writeFileSync(open, '');
    chmodSync(open, 0o664);
    const g = await sb.agentkeep(['authorize', 'k', '--rsync-ro', '/srv', '--append', open]);
    expect(g.code).toBe(78);
    expect(g.stderr).toMatch(/mode 0664 lets group or others write/);
  });

  it('when the file has other keys and no final newline then they are kept and the line goes on a line of its own', async () => {
    const file = join(sb.dir, 'kept_keys');
    sb.keygen('admin');
    const before = `# admin\ncommand="uptime \\"x y\\"",no-pty ${pubOf('admin')} admin@desk`;
    writeFileSync(file, before, { mode: 0o644 });
    const r = await sb.agentkeep(['authorize', 'k', '--rsync-ro', '/srv', '--append', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${before}\nrestrict,command="rrsync -ro /srv" ${pubOf('k')} k\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The key on the options line is recognised too: nothing is added for it.
    const again = await sb.agentkeep(['authorize', 'admin', '--rsync-ro', '/srv', '--append', file]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already has a line for SHA256:\S+ \(line 2\)/);
  });

  it('when --append names a file in a directory that does not exist then it says so and creates nothing', async () => {
    const r = await sb.agentkeep(['authorize', 'k', '--rsync-ro', '/srv', '--append', join(sb.dir, 'nodir/authorized_keys')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the directory does not exist\nhint: create it: mkdir -m 700/);
  });

  it('when asked for --help then it prints the usage and exits 0', async () => {
    const r = await sb.agentkeep(['authorize', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: agentkeep authorize KEY \(--rsync-ro DIR \| --rsync-wo DIR \| --command CMD\)/);
  });
});
