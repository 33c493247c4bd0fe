// `agentkeep authorize` against a real sshd on loopback (UsePAM no, StrictModes yes): the backup
// host is this test's root account with its own agent; the machine being backed up is a second,
// unprivileged sandbox account whose ~/.ssh/authorized_keys gets the lines through --append.
// Every client command is the one authorize printed, with USER@HOST, DEST and SRC filled in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, symlinkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join, relative } from 'node:path';
import { AGENTRUN, Sandbox, run, type RunResult } from '../helpers/sandbox.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { cronEnv, setupAgent, sshAdd } from '../helpers/agentrun.js';
import { agentkeepAs, CAN_CREATE_USERS, createUser, removeUser, requireUsers, type SandboxUser } from '../helpers/users.js';

requireUsers('agentkeep authorize against sshd');

/** Every file under `root` with its contents, sorted, for comparing trees. */
function tree(root: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push([relative(root, path), readFileSync(path, 'utf8')]);
    }
  };
  walk(root);
  return out;
}

/** What authorize printed: the line on stdout and the three comment lines on stderr. */
interface Printed { line: string; use: string; crontab: string }

function printed(r: RunResult): Printed {
  expect(r.code, r.stderr).toBe(0);
  const use = /^# use it with: (.*)$/m.exec(r.stderr)?.[1];
  const crontab = /^# crontab entry: 15 2 \* \* \* (.*)$/m.exec(r.stderr)?.[1];
  expect(use, r.stderr).toBeDefined();
  expect(crontab, r.stderr).toBeDefined();
  return { line: r.stdout.trimEnd(), use: use!, crontab: crontab! };
}

/** Reads whatever a TCP connection to `port` yields until it closes (bounded). */
function readAll(port: number, ms = 5000): Promise<string | 'refused'> {
  return new Promise((resolve) => {
    let data = '';
    const sock = connect(port, '127.0.0.1');
    const timer = setTimeout(() => { sock.destroy(); resolve(data); }, ms);
    sock.on('data', (d: Buffer) => { data += d.toString(); });
    sock.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : data);
    });
    sock.on('close', () => { clearTimeout(timer); resolve(data); });
  });
}

describe.skipIf(!CAN_CREATE_USERS)('agentkeep authorize with a real sshd and a second account', () => {
  let sb: Sandbox;
  let sshd: Sshd;
  let client: SandboxUser;
  let bin: string;
  let agentSock: string;
  let authorizedKeys: string;
  let srv: string;
  let inbox: string;
  let dumpScript: string;
  const lines: Record<string, Printed> = {};

  /** The backup host's cron environment, with `ssh` using the test's client config. */
  const jobEnv = () => cronEnv(sb, { PATH: `${bin}:${cronEnv(sb).PATH}` });

  /** Runs a crontab entry's command the way cron does: /bin/sh -c in cron's environment. */
  const cronLine = (command: string) => run('/bin/sh', ['-c', command], { env: jobEnv() });

  /** Runs ssh as the backup host with its agent. */
  const ssh = (args: string[], opts: { input?: string } = {}) =>
    run('ssh', ['-F', sshd.clientConfig, ...args], { env: { ...sb.env, SSH_AUTH_SOCK: agentSock }, ...opts });

  /** The printed client command with the placeholders filled in for host alias `host`. */
  const fill = (command: string, host: string, values: Record<string, string> = {}) => {
    let out = command.replace('USER@HOST', `${client.name}@${host}`);
    for (const [from, to] of Object.entries(values)) out = out.replace(from, to);
    return out;
  };

  /** Prints a line on the backup host, then adds it on the client from a copy of KEY.pub. */
  async function authorize(key: string, mode: string[]): Promise<Printed> {
    const onServer = printed(await sb.agentkeep(['authorize', key, ...mode]));
    const pubCopy = join(client.home, `${key}.pub`);
    copyFileSync(join(sb.home, '.ssh', `${key}.pub`), pubCopy);
    chownSync(pubCopy, client.uid, client.gid);
    const onClient = await agentkeepAs(client, ['authorize', pubCopy, ...mode, '--append', authorizedKeys]);
    expect(onClient.code, onClient.stderr).toBe(0);
    expect(onClient.stdout).toBe('');
    expect(onClient.stderr).toMatch(/^ \* Added a restricted line for SHA256:\S+ to /);
    expect(readFileSync(authorizedKeys, 'utf8').split('\n')).toContain(onServer.line);
    return onServer;
  }

  beforeAll(async () => {
    sb = new Sandbox('ak-authz-');
    client = createUser(sb, 'authz');
    // useradd leaves the password locked ("!"), which sshd without PAM treats as a locked account.
    const unlock = spawnSync('usermod', ['-p', '*', client.name], { encoding: 'utf8' });
    if (unlock.status !== 0) throw new Error(`usermod: ${unlock.stderr}`);
    sshd = await startSshd(sb, { accounts: true });
    authorizedKeys = join(client.home, '.ssh', 'authorized_keys');

    // The backup host's PATH for cron jobs: agentrun, and ssh and scp with the test's client config.
    bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F '${sshd.clientConfig}' "$@"\n`, { mode: 0o755 });
    // scp runs /usr/bin/ssh by its own path, not through PATH.
    writeFileSync(join(bin, 'scp'), `#!/bin/sh\nexec /usr/bin/scp -S '${join(bin, 'ssh')}' "$@"\n`, { mode: 0o755 });
    symlinkSync(AGENTRUN, join(bin, 'agentrun'));

    // The client's data, its inbox for pushed backups, and its dump script.
    srv = join(client.home, 'srv');
    mkdirSync(join(srv, 'etc/nested dir'), { recursive: true });
    writeFileSync(join(srv, 'etc/hosts'), '127.0.0.1 localhost\n');
    writeFileSync(join(srv, 'etc/nested dir/deep file.conf'), 'deep=1\n');
    writeFileSync(join(srv, 'read me.txt'), 'backup me\n'.repeat(100));
    inbox = join(client.home, 'inbox');
    mkdirSync(inbox);
    dumpScript = join(client.home, 'dbdump.sh');
    writeFileSync(dumpScript, '#!/bin/sh\necho "-- dump of db1 (asked: $SSH_ORIGINAL_COMMAND)"\necho "INSERT INTO t VALUES (1);"\n', { mode: 0o755 });
    spawnSync('chown', ['-R', `${client.uid}:${client.gid}`, srv, inbox, dumpScript]);

    const names = ['backup_ro', 'backup_wo', 'backup_dump', 'backup_scp', 'admin_plain'];
    const keys = names.map((name) => sb.keygen(name));
    const agent = setupAgent(sb);
    agentSock = agent.sock;
    sshAdd(sb, agentSock, ...keys);
    for (const name of names) sshd.alias(name.replace('_', '-'), join(sb.home, '.ssh', `${name}.pub`));

    // A control key with no restriction at all, in a file the client already has (0644, as often found).
    writeFileSync(authorizedKeys, readFileSync(join(sb.home, '.ssh', 'admin_plain.pub')), { mode: 0o644 });
    chmodSync(authorizedKeys, 0o644);
    chownSync(authorizedKeys, client.uid, client.gid);

    lines.ro = await authorize('backup_ro', ['--rsync-ro', srv, '--from', '127.0.0.1']);
    lines.wo = await authorize('backup_wo', ['--rsync-wo', inbox, '--rrsync', '/usr/bin/rrsync']);
    lines.dump = await authorize('backup_dump', ['--command', dumpScript]);
    lines.scp = await authorize('backup_scp', ['--command', '/usr/lib/openssh/sftp-server -R', '--from', '127.0.0.1']);
  });

  afterAll(() => {
    sb?.cleanup();
    removeUser(client);
  });

  it('when the lines are added then authorized_keys is the client\'s, mode 0600, one line per key, and each line reads as printed', () => {
    const st = statSync(authorizedKeys);
    expect(st.uid).toBe(client.uid);
    expect(st.mode & 0o777).toBe(0o600);
    const text = readFileSync(authorizedKeys, 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(5);
    expect(lines.ro!.line).toMatch(new RegExp(`^restrict,from="127\\.0\\.0\\.1",command="rrsync -ro ${srv}" ssh-ed25519 \\S+ backup_ro$`));
    expect(lines.wo!.line).toMatch(new RegExp(`^restrict,command="/usr/bin/rrsync -wo ${inbox}" ssh-ed25519 \\S+ backup_wo$`));
    expect(lines.dump!.line).toMatch(new RegExp(`^restrict,command="${dumpScript}" ssh-ed25519 \\S+ backup_dump$`));
    expect(lines.ro!.use).toBe('rsync -a -e ssh USER@HOST:/ DEST/');
    expect(lines.ro!.crontab).toBe('agentrun --require backup_ro rsync -a -e ssh USER@HOST:/ DEST/');
  });

  it('when the --rsync-ro crontab entry runs then the pull of USER@HOST:/ is an identical tree, spaces in names included', async () => {
    const dest = join(sb.dir, 'backups/ro');
    mkdirSync(dest, { recursive: true });
    const r = await cronLine(fill(lines.ro!.crontab, 'backup-ro', { 'DEST/': `'${dest}/'` }));
    expect(r.code, `${r.stderr}\n${sshd.log()}`).toBe(0);
    const got = tree(dest);
    expect(got.map(([p]) => p)).toEqual(['etc/hosts', 'etc/nested dir/deep file.conf', 'read me.txt']);
    expect(got).toEqual(tree(srv));
  });

  it('when the read-only key asks for a shell command then no command runs', async () => {
    const marker = join(sb.dir, 'ro-ran');
    const r = await ssh([`${client.name}@backup-ro`, `id; touch ${marker}`]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(/uid=/);
    expect(existsSync(marker)).toBe(false);
    // Control: the unrestricted key does run it, so the refusal above is the line's doing.
    const control = await ssh([`${client.name}@admin-plain`, 'id']);
    expect(control.code, control.stderr).toBe(0);
    expect(control.stdout).toMatch(new RegExp(`uid=${client.uid}\\(`));
  });

  it('when the read-only key pushes then rrsync refuses and nothing lands', async () => {
    const local = join(sb.dir, 'upload.txt');
    writeFileSync(local, 'x\n');
    const r = await cronLine(fill(`agentrun --require backup_ro rsync -a -e ssh '${local}' USER@HOST:/`, 'backup-ro'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/read-only|not allowed|refus/i);
    expect(existsSync(join(srv, 'upload.txt'))).toBe(false);
  });

  it('when the connection comes from 127.0.0.2 then the from= key is refused (and the unrestricted key is not)', async () => {
    const r = await ssh(['-b', '127.0.0.2', `${client.name}@backup-ro`, 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied/);
    const control = await ssh(['-b', '127.0.0.2', `${client.name}@admin-plain`, 'true']);
    expect(control.code, control.stderr).toBe(0);
  });

  it('when the key opens a local port forward then no connection is carried (the unrestricted key carries one)', async () => {
    let accepted = 0;
    const listener: Server = createServer((sock) => { accepted++; sock.end('hello through the tunnel\n'); });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const target = (listener.address() as { port: number }).port;
    const forward = async (host: string): Promise<string> => {
      const local = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
      });
      const child = spawn('ssh', ['-F', sshd.clientConfig, '-N', '-o', 'ExitOnForwardFailure=yes', '-L', `127.0.0.1:${local}:127.0.0.1:${target}`, `${client.name}@${host}`],
        { env: { ...sb.env, SSH_AUTH_SOCK: agentSock }, stdio: 'ignore' });
      sb.track(child.pid!);
      try {
        // ssh listens only once it is logged in; until then the local port refuses.
        let got: string | 'refused' = 'refused';
        const deadline = Date.now() + 15_000;
        while (got === 'refused' && Date.now() < deadline && child.exitCode === null) {
          got = await readAll(local);
          if (got === 'refused') await new Promise((r) => setTimeout(r, 100));
        }
        expect(got, `ssh -L through ${host} never listened`).not.toBe('refused');
        return got as string;
      } finally {
        child.kill('SIGTERM');
      }
    };
    try {
      expect(await forward('backup-ro')).toBe('');
      expect(accepted).toBe(0);
      expect(await forward('admin-plain')).toBe('hello through the tunnel\n');
      expect(accepted).toBe(1);
    } finally {
      listener.close();
    }
  });

  it('when the --rsync-wo crontab entry pushes then the files land in DIR, and a pull is refused', async () => {
    expect(lines.wo!.crontab).toBe('agentrun --require backup_wo rsync -a -e ssh SRC/ USER@HOST:/');
    const src = join(sb.dir, 'outgoing');
    mkdirSync(join(src, 'sub dir'), { recursive: true });
    writeFileSync(join(src, 'sub dir/night 1.tar'), 'archive\n');
    const r = await cronLine(fill(lines.wo!.crontab, 'backup-wo', { 'SRC/': `'${src}/'` }));
    expect(r.code, `${r.stderr}\n${sshd.log()}`).toBe(0);
    expect(tree(inbox)).toEqual(tree(src));
    const dest = join(sb.dir, 'backups/wo');
    mkdirSync(dest, { recursive: true });
    const pull = await cronLine(fill('agentrun --require backup_wo rsync -a -e ssh USER@HOST:/ DEST/', 'backup-wo', { 'DEST/': `'${dest}/'` }));
    expect(pull.code).not.toBe(0);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('when the --command key is asked to run anything then the script runs instead', async () => {
    expect(lines.dump!.use).toBe('ssh USER@HOST > dump.sql');
    const out = join(sb.dir, 'dump.sql');
    const r = await cronLine(fill(lines.dump!.crontab, 'backup-dump', { 'dump.sql': `'${out}'` }));
    expect(r.code, `${r.stderr}\n${sshd.log()}`).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('-- dump of db1 (asked: )\nINSERT INTO t VALUES (1);\n');
    const marker = join(sb.dir, 'dump-ran');
    const other = await ssh([`${client.name}@backup-dump`, `touch ${marker}; cat /etc/passwd`]);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toBe(`-- dump of db1 (asked: touch ${marker}; cat /etc/passwd)\nINSERT INTO t VALUES (1);\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('when the read-only SFTP key (--command sftp-server -R) is used by scp then it pulls and cannot push', async () => {
    const dest = join(sb.dir, 'backups/scp');
    mkdirSync(dest, { recursive: true });
    const r = await cronLine(`agentrun --require backup_scp scp -r -p ${client.name}@backup-scp:'${srv}/.' '${dest}/'`);
    expect(r.code, `${r.stderr}\n${sshd.log()}`).toBe(0);
    expect(tree(dest)).toEqual(tree(srv));
    const local = join(sb.dir, 'scp-upload.txt');
    writeFileSync(local, 'x\n');
    const push = await cronLine(`agentrun --require backup_scp scp '${local}' ${client.name}@backup-scp:'${srv}/'`);
    expect(push.code).not.toBe(0);
    expect(existsSync(join(srv, 'scp-upload.txt'))).toBe(false);
  });
});
