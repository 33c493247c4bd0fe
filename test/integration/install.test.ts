// The install as an administrator meets it: the README's own install line run as root in a
// copy of the checkout, the copy then deleted; the packed tarball under both npm prefixes
// (/usr as NodeSource's npm, /usr/local as Debian's) with `agentkeep hook cron`'s PATH line;
// and a real cron daemon running an agentrun entry from a crontab that uses that line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HOST, ROOT, run, Sandbox, alive, waitFor } from '../helpers/sandbox.js';
import { startOwnCron, stopOwnCron, takeCronSlot } from '../helpers/cron.js';
import { CAN_CREATE_USERS, createUser, keygenAs, removeUser, requireUsers, runAs, type SandboxUser } from '../helpers/users.js';

requireUsers('install tests');

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The README's install line for a root install with the first run as the backup user `bk`. */
const INSTALL_LINE = /^npm ci && npm install -g .* && su -P - bk -c .*$/m.exec(README)?.[0];

/** npm's own cache, so that installs in a sandbox HOME do not download everything again. */
const NPM_CACHE = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();

let sb: Sandbox;
const users: SandboxUser[] = [];

/**
 * npm's environment: the caller's (a registry may need its CA or proxy variables) less any
 * agent, with the sandbox HOME, the given global prefix and the caller's npm cache.
 */
function npmEnv(prefix: string): NodeJS.ProcessEnv {
  const { SSH_AUTH_SOCK: _sock, SSH_AGENT_PID: _pid, ...inherited } = process.env;
  return {
    ...inherited, ...sb.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    npm_config_prefix: prefix, npm_config_cache: NPM_CACHE,
    npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false',
  };
}

/** A copy of the checkout's files (tracked, and new ones not ignored), as a fresh clone would have them. */
function copyCheckout(to: string): void {
  const files = spawnSync('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(to, file));
  }
}

/** Makes every directory from `dir` up to the sandbox traversable, so sandbox users can reach an install. */
function openForUsers(dir: string): void {
  for (let d = dir; d.startsWith(sb.dir) && d !== sb.dir; d = dirname(d)) chmodSync(d, 0o755);
}

/** The PATH= line that `agentkeep hook cron` of an install prints. */
async function cronPathLine(prefix: string): Promise<string> {
  const r = await run(join(prefix, 'bin', 'agentkeep'), ['hook', 'cron'], { env: { ...sb.env, PATH: `${join(prefix, 'bin')}:${sb.env.PATH}` } });
  expect(r.code, r.stderr).toBe(0);
  const line = /^PATH=.*$/m.exec(r.stdout)?.[0];
  expect(line, r.stdout).toBeDefined();
  return line!;
}

beforeAll(() => {
  sb = new Sandbox('ak-install-');
  chmodSync(sb.dir, 0o711);
});
afterAll(() => {
  sb.cleanup();
  for (const user of users) removeUser(user);
});

describe.skipIf(!CAN_CREATE_USERS)('the README install, run as root', () => {
  it('when the README\'s install line runs in a checkout then it installs a copy, starts the backup user\'s agent with the key, none for root, and survives deleting the checkout', async () => {
    expect(INSTALL_LINE, 'README must show the root install line ending in su -P - bk -c ...').toBeDefined();
    const bk = createUser(sb, 'inst', { shell: '/bin/bash' });
    users.push(bk);
    keygenAs(bk, 'id_ed25519');
    const checkout = join(sb.dir, 'checkout');
    const prefix = join(sb.dir, 'prefix');
    copyCheckout(checkout);
    mkdirSync(prefix);
    // Stands in for /usr/bin being on every user's PATH: the sandbox prefix is not.
    writeFileSync(join(bk.home, '.profile'), `PATH="${join(prefix, 'bin')}:$PATH"\n`);
    chownSync(join(bk.home, '.profile'), bk.uid, bk.gid);

    const line = INSTALL_LINE!.replace("su -P - bk -c", `su -P - ${bk.name} -c`);
    const r = await run('sh', ['-c', line], { cwd: checkout, env: npmEnv(prefix), timeoutMs: 240_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    openForUsers(join(prefix, 'lib', 'node_modules', 'agentkeep'));

    // A copy, not a link to the checkout.
    const pkg = join(prefix, 'lib', 'node_modules', 'agentkeep');
    expect(realpathSync(pkg)).toBe(pkg);
    // The backup user's agent holds the key; root got no agent and no key directory.
    const envFile = readFileSync(join(bk.home, '.keychain', `${HOST}-sh`), 'utf8');
    const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(envFile)![1]!;
    const listed = await runAs(bk, 'ssh-add', ['-l'], { env: { SSH_AUTH_SOCK: sock } });
    expect(listed.stdout).toContain('id_ed25519');
    expect(existsSync(join(sb.home, '.keychain'))).toBe(false);

    rmSync(checkout, { recursive: true, force: true });
    const bins = `${join(prefix, 'bin')}:/usr/bin:/bin`;
    const job = await runAs(bk, join(prefix, 'bin', 'agentrun'), ['--require', 'id_ed25519', 'sh', '-c', 'echo job-ran'], { env: { PATH: bins } });
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toBe('job-ran\n');
    const hook = await runAs(bk, join(prefix, 'bin', 'agentkeep'), ['hook', 'sh'], { env: { PATH: bins } });
    expect(hook.stdout).toContain(join(pkg, 'shell', 'agentkeep.sh'));
  }, 300_000);
});

describe('the packed tarball under npm\'s two global prefixes', () => {
  const prefixes = { nodesource: 'usr', debian: 'usr/local' } as const;
  const installed: Record<string, string> = {};

  beforeAll(async () => {
    const packDir = join(sb.dir, 'pack');
    mkdirSync(packDir);
    // --ignore-scripts: pack the dist/ this test run built, without rebuilding it under other tests.
    const packed = spawnSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', packDir], { cwd: ROOT, env: npmEnv(join(sb.dir, 'unused')), encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`npm pack: ${packed.stderr}`);
    const tarball = join(packDir, packed.stdout.trim().split('\n').pop()!);
    await Promise.all(Object.entries(prefixes).map(async ([name, sub]) => {
      const prefix = join(sb.dir, name, sub);
      mkdirSync(prefix, { recursive: true });
      const r = await run('npm', ['install', '-g', tarball], { env: npmEnv(prefix), timeoutMs: 240_000 });
      if (r.code !== 0) throw new Error(`npm install -g --prefix ${prefix}: ${r.stderr}`);
      openForUsers(join(prefix, 'lib', 'node_modules', 'agentkeep'));
      installed[name] = prefix;
    }));
  }, 300_000);

  it.each(Object.keys(prefixes))('when installed with the %s prefix then hook cron\'s PATH finds that agentrun and this node from an empty environment', async (name) => {
    const prefix = installed[name]!;
    const line = await cronPathLine(prefix);
    expect(line.split('=')[1]!.split(':')).toEqual(expect.arrayContaining([join(prefix, 'bin'), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']));
    const probe = await run('env', ['-i', `HOME=${sb.home}`, line, 'sh', '-c', 'command -v agentrun; command -v node; agentrun true'], {});
    const [agentrun, node] = probe.stdout.trim().split('\n');
    expect(agentrun).toBe(join(prefix, 'bin', 'agentrun'));
    expect(realpathSync(node!)).toBe(realpathSync(process.execPath));
    // agentrun and node both ran: 75 is agentrun's own "no agent" answer, not sh's 127.
    expect(probe.code, probe.stderr).toBe(75);
    const hook = await run(join(prefix, 'bin', 'agentkeep'), ['hook', 'sh'], { env: { ...sb.env, PATH: `${join(prefix, 'bin')}:${sb.env.PATH}` } });
    expect(hook.stdout).toContain(join(prefix, 'lib', 'node_modules', 'agentkeep', 'shell', 'agentkeep.sh'));
  });

  describe.skipIf(!CAN_CREATE_USERS)('under a real cron daemon', () => {
    let cronPid: number | undefined;
    let releaseCronSlot: (() => Promise<void>) | undefined;
    const cronUsers: SandboxUser[] = [];

    // The crontabs go (with their users) before the cron slot is given up.
    afterAll(async () => {
      await stopOwnCron(cronPid);
      for (const user of cronUsers) removeUser(user);
      await releaseCronSlot?.();
    });

    it('when a crontab uses hook cron\'s PATH line then the job runs while the agent is up (log status 0) and stops with 75 after the agent was killed, without running', async () => {
      const prefix = installed.nodesource!;
      const line = await cronPathLine(prefix);
      const up = createUser(sb, 'cronup');
      const down = createUser(sb, 'crondown');
      cronUsers.push(up, down);
      for (const user of [up, down]) {
        keygenAs(user, 'id_ed25519');
        const started = await runAs(user, join(prefix, 'bin', 'agentkeep'), ['--quiet', 'id_ed25519'], { env: { PATH: `${join(prefix, 'bin')}:/usr/bin:/bin` } });
        expect(started.code, started.stderr).toBe(0);
      }
      const downPid = Number(/SSH_AGENT_PID=(\d+)/.exec(readFileSync(join(down.home, '.keychain', `${HOST}-sh`), 'utf8'))![1]);
      process.kill(downPid, 'SIGKILL');
      expect(await waitFor(() => !alive(downPid))).toBe(true);

      // Any running cron would run these entries: install them once this file holds the cron slot.
      releaseCronSlot = await takeCronSlot(sb);
      const entry = `* * * * * agentrun --require id_ed25519 --log "$HOME/job.log" sh -c 'date > "$HOME/ran"'`;
      for (const user of [up, down]) {
        const crontab = join(sb.dir, `crontab.${user.name}`);
        writeFileSync(crontab, `${line}\n${entry}\n`);
        const installedTab = spawnSync('crontab', ['-u', user.name, crontab], { encoding: 'utf8' });
        expect(installedTab.status, installedTab.stderr).toBe(0);
      }
      cronPid = await startOwnCron(sb);

      // cron runs entries at the next minute boundary: one shared wait for both users.
      const ended = (user: SandboxUser) => existsSync(join(user.home, 'job.log')) && / (end|not started): /.test(readFileSync(join(user.home, 'job.log'), 'utf8'));
      expect(await waitFor(() => ended(up) && ended(down), 150_000), 'cron did not run both entries within 150 s').toBe(true);
      const upLog = readFileSync(join(up.home, 'job.log'), 'utf8');
      const downLog = readFileSync(join(down.home, 'job.log'), 'utf8');
      expect(upLog).toMatch(/ end: exit status 0 /);
      expect(existsSync(join(up.home, 'ran'))).toBe(true);
      expect(downLog).toMatch(/ not started: .*\(exit status 75\)/);
      expect(existsSync(join(down.home, 'ran'))).toBe(false);
    }, 480_000);
  });
});
