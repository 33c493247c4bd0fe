// A real sshd for one test: 127.0.0.1 on a free port, its own host key, sshd_config and
// authorized_keys inside the sandbox, started with -D -e, tracked and killed by PID. The client
// side gets an ssh_config (-F) with host aliases, a sandbox known_hosts, and BatchMode.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from './sandbox.js';

export interface Sshd {
  port: number;
  pid: number;
  /** The client's ssh_config, for `ssh -F`, `scp -F` and `rsync -e 'ssh -F ...'`. */
  clientConfig: string;
  /** Allows a public key with authorized_keys options (e.g. a forced command). */
  authorize(pubKeyPath: string, options: string): void;
  /** Adds a `Host ALIAS` entry that authenticates with the agent key matching `pubKeyPath`. */
  alias(name: string, pubKeyPath: string): void;
  /** sshd's stderr so far (for failure messages). */
  log(): string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** How the sshd is set up: by default root's keys in a sandbox file; `accounts` as a real host does. */
export interface SshdOptions {
  /**
   * Each account's own ~/.ssh/authorized_keys with `StrictModes yes` and TCP forwarding allowed
   * (so that only a key's own options can forbid it). Log in as a sandbox user whose home is its own.
   */
  accounts?: boolean;
}

async function launch(sb: Sandbox, dir: string, port: number, opts: SshdOptions): Promise<{ pid: number; log: () => string } | undefined> {
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    'PidFile none',
    ...(opts.accounts
      // StrictModes checks the home and ~/.ssh only, so a sandbox user's home under /tmp passes.
      ? ['AuthorizedKeysFile .ssh/authorized_keys', 'StrictModes yes', 'AllowTcpForwarding yes']
      // The sandbox lives under /tmp (mode 1777), which StrictModes would refuse on the way up.
      : [`AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'StrictModes no']),
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PrintMotd no',
    // scp speaks SFTP; a key's forced command (e.g. sftp-server -R) then replaces the subsystem.
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    'LogLevel INFO',
    '',
  ].join('\n'));
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  sb.track(child.pid!);
  let stderr = '';
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(`Server listening on 127.0.0.1 port ${port}`)) { clearTimeout(timer); resolve(true); }
    });
    child.on('exit', () => { clearTimeout(timer); resolve(false); });
  });
  if (!ready) {
    try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ }
    if (!stderr.includes('Address already in use')) throw new Error(`sshd did not start:\n${stderr}`);
    return undefined;
  }
  return { pid: child.pid!, log: () => stderr };
}

/** Starts sshd for this sandbox (as the current user, i.e. root in the test machines). */
export async function startSshd(sb: Sandbox, opts: SshdOptions = {}): Promise<Sshd> {
  const dir = join(sb.dir, 'sshd');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // sshd refuses to start without its privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')], { encoding: 'utf8' });
  if (keygen.status !== 0) throw new Error(`ssh-keygen (host key) failed: ${keygen.stderr}`);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  let started: { pid: number; log: () => string } | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    started = await launch(sb, dir, port, opts);
  }
  if (!started) throw new Error('sshd could not bind a free port');
  const clientConfig = join(sb.dir, 'ssh_config');
  writeFileSync(clientConfig, [
    'Host *',
    '  HostName 127.0.0.1',
    `  Port ${port}`,
    `  User ${userInfo().username}`,
    `  UserKnownHostsFile ${join(sb.dir, 'known_hosts')}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking accept-new',
    '  BatchMode yes',
    '  IdentitiesOnly yes',
    '  ConnectTimeout 10',
    '  LogLevel ERROR',
    '',
  ].join('\n'));
  chmodSync(clientConfig, 0o600);
  return {
    port,
    pid: started.pid,
    clientConfig,
    log: started.log,
    authorize(pub, options) {
      if (opts.accounts) throw new Error('with accounts: true, sshd reads each account\'s own ~/.ssh/authorized_keys; write there');
      const line = readFileSync(pub, 'utf8').trim();
      appendFileSync(authorizedKeys, `${options} ${line}\n`);
    },
    alias(name, pub) {
      // ssh_config takes the first value it sees, so specific Host blocks go before `Host *`.
      const text = `Host ${name}\n  IdentityFile ${pub}\n`;
      const all = readFileSync(clientConfig, 'utf8');
      writeFileSync(clientConfig, `${text}${all}`);
    },
  };
}
