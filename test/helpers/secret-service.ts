// A real Secret Service for one test: a private D-Bus session bus (no service activation, so
// nothing else is ever started on it) and gnome-keyring-daemon on that bus, both tracked by
// PID in the Sandbox. The keyring lives in the sandbox HOME and is unlocked with a test password.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, run, waitFor, type Sandbox } from './sandbox.js';

export const KEYRING_PASSWORD = 'keyring-test-password';

export interface SecretService {
  /** The variables that point a program at this bus. */
  env: { DBUS_SESSION_BUS_ADDRESS: string; XDG_RUNTIME_DIR: string; XDG_DATA_HOME: string };
  busPid: number;
  keyringPid: number | undefined;
  /** Restarts gnome-keyring-daemon without --unlock: the login keyring exists but is locked. */
  lock(): Promise<void>;
  /** Stops gnome-keyring-daemon, leaving the bus with no Secret Service at all. */
  stopKeyring(): Promise<void>;
  /** `secret-tool ARGS` against this bus. */
  secretTool(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts a private session bus; with `keyring` also an unlocked gnome-keyring-daemon on it. */
export async function startSecretService(sb: Sandbox, opts: { keyring?: boolean } = {}): Promise<SecretService> {
  const base = join(sb.dir, 'dbus');
  const runtime = join(sb.dir, 'run');
  mkdirSync(base, { mode: 0o700 });
  mkdirSync(runtime, { mode: 0o700 });
  const busPath = join(base, 'bus');
  const config = join(base, 'session.conf');
  writeFileSync(config, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${busPath}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`);
  const out = spawnSync('dbus-daemon', ['--config-file', config, '--fork', '--print-address=1', '--print-pid=1'], { encoding: 'utf8', env: sb.env, timeout: 10_000 });
  const [address, pidText] = out.stdout.trim().split('\n');
  const busPid = Number(pidText);
  if (out.status !== 0 || !address || !busPid) throw new Error(`dbus-daemon failed: ${out.stderr}`);
  sb.track(busPid);
  const env = { DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: join(sb.home, '.local', 'share') };
  const toolEnv = { ...sb.env, ...env };

  const hasSecrets = async (): Promise<boolean> => {
    const r = await run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], { env: toolEnv, timeoutMs: 5000 });
    return /boolean true/.test(r.stdout);
  };

  const service: SecretService = {
    env, busPid, keyringPid: undefined,
    async lock() {
      await service.stopKeyring();
      await startKeyring(false);
    },
    async stopKeyring() {
      const pid = service.keyringPid;
      if (pid === undefined) return;
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !alive(pid), 5000);
      service.keyringPid = undefined;
      await waitForCondition(async () => !await hasSecrets());
    },
    secretTool(args, input) {
      return run('secret-tool', args, { env: toolEnv, timeoutMs: 10_000, ...(input === undefined ? {} : { input }) });
    },
  };

  async function startKeyring(unlock: boolean): Promise<void> {
    const args = ['--foreground', '--components=secrets', ...(unlock ? ['--unlock'] : [])];
    const child = spawn('gnome-keyring-daemon', args, { env: toolEnv, stdio: [unlock ? 'pipe' : 'ignore', 'ignore', 'ignore'] });
    if (!child.pid) throw new Error('gnome-keyring-daemon did not start');
    sb.track(child.pid);
    child.unref();
    // --unlock reads the login keyring's password from stdin (and creates the keyring with it).
    if (unlock) child.stdin!.end(KEYRING_PASSWORD);
    service.keyringPid = child.pid;
    if (!await waitForCondition(hasSecrets)) throw new Error('gnome-keyring-daemon did not take org.freedesktop.secrets');
  }

  if (opts.keyring !== false) await startKeyring(true);
  return service;
}

async function waitForCondition(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
