// Hostile inputs and faults, each bounded and refused clearly with nothing lost: a swapped
// private directory (a second, attacking user), a full disk under --log (a small tmpfs),
// a killed supervisor (the lock and the private agent), timers past Node's 32-bit limit, a slow
// reader of the job's output, and log files that are hard links or group-writable.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENTKEEP, AGENTRUN, alive, backendEnv, parseShEval, PROC_BACKENDS, run, Sandbox, waitFor, withNode } from '../helpers/sandbox.js';
import { cronAgentrun, cronEnv, setupAgent, spawnAgentrun, sshAdd } from '../helpers/agentrun.js';
import { agentkeepAs, agentrunAs, asUser, CAN_CREATE_USERS, createUser, keygenAs, removeUser, requireUsers, type SandboxUser } from '../helpers/users.js';
import { loadedFingerprints } from '../helpers/askpass.js';

const PASS = 'victim passphrase 7';

/** Live ssh-agent processes whose command line names `dir`. */
function agentsIn(dir: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.includes('ssh-agent') && l.includes(dir) && !/^\s*\d+\s+Z/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

/** A sandbox with a victim and an attacker account for one describe block; `cleanup` runs first in afterAll. */
function victimAndAttacker(cleanup: () => void = () => {}): { sb: () => Sandbox; victim: () => SandboxUser; attacker: () => SandboxUser } {
  let sb: Sandbox;
  let victim: SandboxUser;
  let attacker: SandboxUser;
  beforeAll(() => {
    sb = new Sandbox('ak-hostile-');
    if (!CAN_CREATE_USERS) return;
    victim = createUser(sb, 'victim');
    attacker = createUser(sb, 'attacker');
  });
  afterAll(() => {
    cleanup();
    sb.cleanup();
    removeUser(victim);
    removeUser(attacker);
  });
  return { sb: () => sb, victim: () => victim, attacker: () => attacker };
}

async function pidFrom(path: string): Promise<number> {
  expect(await waitFor(() => existsSync(path) && /^\d+\n/.test(readFileSync(path, 'utf8')), 10_000)).toBe(true);
  return Number(readFileSync(path, 'utf8').trim());
}

describe('a private agent directory in a TMPDIR others may write (a victim and an attacker)', () => {
  requireUsers('the socket-swap race');
  let attackerAgent: { sock: string; pid: number } | undefined;
  const accounts = victimAndAttacker(() => { if (attackerAgent) accounts.sb().track(attackerAgent.pid); });

  it.skipIf(!CAN_CREATE_USERS)('when an attacker keeps swapping fresh directories in a world-writable TMPDIR for one holding their socket then the key never reaches them and the job runs from a safe place', async () => {
    const [sb, victim, attacker] = [accounts.sb(), accounts.victim(), accounts.attacker()];
    // The shared TMPDIR: anyone may write, no sticky bit.
    const shared = join(sb.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    keygenAs(victim, 'backup_ed25519', PASS);
    const askpass = join(victim.home, 'askpass');
    writeFileSync(askpass, `#!/bin/sh\necho '${PASS}'\n`, { mode: 0o700 });
    chownSync(askpass, victim.uid, victim.gid);

    // The attacker's own agent, its socket hard-linked into every directory they swap in.
    const bait = join(shared, 'bait');
    const started = spawnSync('setpriv', asUser(attacker, 'sh', ['-c', `mkdir -m 700 '${bait}' && ssh-agent -s -a '${bait}/agent.sock'`]), { env: attacker.env, encoding: 'utf8' });
    expect(started.status, started.stderr).toBe(0);
    attackerAgent = { sock: join(bait, 'agent.sock'), pid: Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)![1]) };
    const race = spawn('setpriv', asUser(attacker, 'sh', ['-c', `
      i=0
      while [ "$i" -lt 4000 ]; do
        i=$((i + 1)); sleep 0.005
        for d in '${shared}'/agentkeep-*; do
          [ -d "$d" ] || continue
          case $d in *.stolen) continue ;; esac
          mv "$d" "$d.stolen" 2>/dev/null && mkdir "$d" && ln '${attackerAgent.sock}' "$d/agent.sock" 2>/dev/null
        done
      done`]), { env: attacker.env, stdio: 'ignore' });
    sb.track(race.pid!);

    for (let i = 0; i < 5; i++) {
      const r = await agentrunAs(victim, ['--ephemeral', 'backup_ed25519', '--askpass', askpass, 'sh', '-c', 'echo "$SSH_AUTH_SOCK"; ssh-add -l'], { env: { TMPDIR: shared, LOGNAME: victim.name } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith(shared), r.stdout).toBe(false);
      expect(r.stdout).toContain('backup_ed25519');
    }
    race.kill('SIGKILL');
    expect(loadedFingerprints(attackerAgent.sock)).toEqual([]);
  });
});

describe('the short socket directory, when the stable socket path is too long (a victim and an attacker)', () => {
  requireUsers('the short socket directory taken first');
  const taken: string[] = [];
  const accounts = victimAndAttacker(() => { for (const dir of taken) spawnSync('rm', ['-rf', dir]); });

  function takeAsAttacker(dir: string): void {
    const attacker = accounts.attacker();
    const r = spawnSync('setpriv', asUser(attacker, 'mkdir', ['-m', '700', dir]), { env: attacker.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    taken.push(dir);
  }

  it.skipIf(!CAN_CREATE_USERS)('when an attacker creates the short directory first, at the old predictable name or after seeing the current one, then the victim still gets an agent', async () => {
    const [sb, victim] = [accounts.sb(), accounts.victim()];
    takeAsAttacker(`/tmp/agentkeep-${victim.uid}`);
    const deep = join(victim.home, 'd'.repeat(60), 'e'.repeat(40));
    spawnSync('setpriv', asUser(victim, 'mkdir', ['-p', '-m', '700', deep]), { env: victim.env });
    const first = await agentkeepAs(victim, ['--eval', '--dir', deep]);
    expect(first.code, first.stderr).toBe(0);
    const sock = parseShEval(first.stdout).SSH_AUTH_SOCK!;
    const pid = Number(parseShEval(first.stdout).SSH_AGENT_PID);
    sb.track(pid);
    expect(sock).toMatch(new RegExp(`^/tmp/agentkeep-${victim.uid}-[0-9a-f]{16}/[0-9a-f]{16}\\.sock$`));
    taken.push(dirname(sock));
    // A reboot empties /tmp; the attacker, who saw the name in ps, takes it before the victim logs in.
    process.kill(pid, 'SIGTERM');
    expect(await waitFor(() => !alive(pid))).toBe(true);
    spawnSync('rm', ['-rf', dirname(sock)]);
    takeAsAttacker(dirname(sock));
    const again = await agentkeepAs(victim, ['--eval', '--dir', deep]);
    expect(again.code, again.stderr).toBe(0);
    const sock2 = parseShEval(again.stdout).SSH_AUTH_SOCK!;
    sb.track(Number(parseShEval(again.stdout).SSH_AGENT_PID));
    taken.push(dirname(sock2));
    expect(dirname(sock2)).not.toBe(dirname(sock));
    expect(sock2).toMatch(new RegExp(`^/tmp/agentkeep-${victim.uid}-[0-9a-f]{16}/`));
  });
});

describe('files that never end or never arrive (FIFOs, devices) in place of keys', () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  function withAgentAndFifo(): { fifo: string } {
    sb = new Sandbox('ak-fifo-');
    const agent = setupAgent(sb);
    sshAdd(sb, agent.sock, sb.keygen('backup_ed25519'));
    const fifo = join(sb.home, '.ssh', 'fifo_key');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(spawnSync('mkfifo', [`${fifo}.pub`]).status).toBe(0);
    return { fifo };
  }

  it.each([
    ['agentrun --require FIFO', (fifo: string) => [AGENTRUN, '--require', fifo, 'true']],
    ['agentrun --require /dev/zero', () => [AGENTRUN, '--require', '/dev/zero', 'true']],
    ['agentrun --ephemeral FIFO', (fifo: string) => [AGENTRUN, '--ephemeral', fifo, 'true']],
    ['agentkeep --eval FIFO', (fifo: string) => [process.execPath, AGENTKEEP, '--eval', fifo]],
    ['agentkeep doctor --require FIFO', (fifo: string) => [process.execPath, AGENTKEEP, 'doctor', '--require', fifo]],
  ] as const)('when %s then it ends without reading the file (a FIFO blocks, /dev/zero never ends), with a message naming it', async (_what, argv) => {
    const { fifo } = withAgentAndFifo();
    const [cmd, ...args] = argv(fifo) as readonly string[];
    // Opening the FIFO would block forever: any bound tells a hang from a (loaded, slow) answer.
    const r = await run(cmd!, [...args], { env: cronEnv(sb), timeoutMs: 30_000 });
    expect(r.signal, 'killed by the test\'s 30 s bound').toBeNull();
    // agentkeep skips an unreadable key with a warning, as it does a missing one; the others refuse.
    if (cmd === AGENTRUN) expect(r.code).not.toBe(0);
    // doctor reports on stdout, the others on stderr.
    expect(r.stderr + r.stdout).toMatch(/not a regular file|more than the \d+ a key/);
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
  });
});

describe('supervised jobs under faults', () => {
  let sb: Sandbox;
  let mounted: string | undefined;
  afterEach(() => {
    if (mounted) spawnSync('umount', ['-l', mounted]);
    mounted = undefined;
    sb.cleanup();
  });

  /** A tmpfs of `size` in the sandbox, unmounted after the test: a disk that fills up. */
  function smallDisk(size: string): string {
    const disk = join(sb.dir, 'small');
    mkdirSync(disk);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', disk], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    mounted = disk;
    return disk;
  }

  function withKey(): { sock: string; pid: number } {
    sb = new Sandbox('ak-faults-');
    const agent = setupAgent(sb);
    sshAdd(sb, agent.sock, sb.keygen('backup_ed25519'));
    return agent;
  }

  it.skipIf(!CAN_CREATE_USERS)('when --log fills its disk then the job goes on with its lock and status, and agentrun says so without a stack trace', async () => {
    withKey();
    const disk = smallDisk('64k');
    const log = join(disk, 'job.log');
    const pidfile = join(sb.dir, 'job.pid');
    const release = join(sb.dir, 'release');
    // The job holds its lock until the second run has been refused: no race with a loaded machine.
    const first = spawnAgentrun(sb, ['--lock', 'nightly', '--timeout', '1m', '--log', log, 'sh', '-c',
      'head -c 300000 /dev/zero | tr "\\0" "x" | fold -w 100; echo $$ > "$1"; while [ ! -e "$2" ]; do sleep 0.05; done; exit 3', 'job', pidfile, release]);
    await pidFrom(pidfile);
    const second = await cronAgentrun(sb, ['--lock', 'nightly', 'true']);
    writeFileSync(release, '');
    expect(second.code, second.stderr).toBe(75);
    const r = await first.done;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`agentrun: cannot write the log ${log}: ENOSPC; the job goes on without it\n`);
    expect(r.stderr).toMatch(/: exit status 3 \(the log .* stopped at ENOSPC\)\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout.length).toBeGreaterThan(300_000);
  });

  it.skipIf(!CAN_CREATE_USERS)('when the key directory\'s disk is full then agentkeep stops the agent it started and says the disk is full', async () => {
    sb = new Sandbox('ak-faults-');
    const disk = smallDisk('16k');
    const keydir = join(disk, 'kd');
    mkdirSync(keydir, { mode: 0o700 });
    spawnSync('dd', ['if=/dev/zero', `of=${join(disk, 'fill')}`, 'bs=4k', 'count=100'], { stdio: 'ignore' });
    const r = await sb.agentkeep(['--eval', '--dir', keydir, '--absolute']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('false;\n');
    expect(r.stderr).toMatch(/cannot write .*: the file system is full \(ENOSPC\)/);
    expect(await waitFor(() => sb.sandboxAgents().length === 0 || agentsIn(keydir).length === 0)).toBe(true);
    expect(agentsIn(keydir)).toEqual([]);
  });

  it.each(PROC_BACKENDS)('when the supervisor is killed with SIGKILL (%s backend) then its --lock stays held while the orphaned job runs, and is free once it ends', async (backend) => {
    withKey();
    const env = backendEnv(backend);
    const pidfile = join(sb.dir, 'job.pid');
    const first = spawnAgentrun(sb, ['--lock', 'nightly', 'sh', '-c', 'echo $$ > "$1"; sleep 30', 'job', pidfile], env);
    const jobPid = await pidFrom(pidfile);
    sb.track(jobPid);
    // On a loaded machine the job can write its PID before agentrun has recorded the job beside
    // the lock (the record follows spawn()): kill agentrun only once the record is there.
    expect(await waitFor(() => existsSync(join(sb.keydir, 'run-locks', 'nightly.job')), 10_000)).toBe(true);
    const killed = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await killed; // not first.done: the orphaned job still holds the output pipes
    // Past the lock's 4 s staleness: the lock directory is stale, but the job still runs.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const marker = join(sb.dir, 'second-ran');
    const second = await cronAgentrun(sb, ['--lock', 'nightly', 'touch', marker], { env });
    expect(second.code, second.stderr).toBe(75);
    expect(second.stderr).toContain('is still running, although its agentrun is gone');
    expect(existsSync(marker)).toBe(false);
    process.kill(-jobPid, 'SIGKILL');
    expect(await waitFor(() => !alive(jobPid))).toBe(true);
    const third = await cronAgentrun(sb, ['--lock', 'nightly', 'touch', marker], { env });
    expect(third.code, third.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('when agentrun --ephemeral is killed with SIGKILL during the job then its private agent, key loaded, dies with it', async () => {
    sb = new Sandbox('ak-faults-');
    sb.keygen('eph_ed25519');
    const pidfile = join(sb.dir, 'agent.pid');
    const run = spawnAgentrun(sb, ['--ephemeral', 'eph_ed25519', 'sh', '-c', 'echo "$SSH_AGENT_PID" > "$1"; sleep 30', 'job', pidfile]);
    const agentPid = await pidFrom(pidfile);
    sb.track(agentPid);
    expect(alive(agentPid)).toBe(true);
    const killed = new Promise((resolve) => run.child.once('exit', resolve));
    run.child.kill('SIGKILL');
    await killed;
    expect(await waitFor(() => !alive(agentPid), 5000)).toBe(true);
  });

  it('when --timeout is longer than Node\'s 32-bit timer limit (700h) then the job is not stopped at once', async () => {
    withKey();
    const r = await cronAgentrun(sb, ['--timeout', '700h', '--kill-after', '700h', 'sh', '-c', 'sleep 1; exit 3']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.ms).toBeGreaterThanOrEqual(900);
  });

  it('when the job prints 200 MB through --log and its reader is slow then agentrun\'s memory stays bounded', async () => {
    withKey();
    const log = join(sb.dir, 'big.log');
    const child = spawn(AGENTRUN, ['--log', log, 'head', '-c', '200000000', '/dev/zero'], { env: cronEnv(sb), stdio: ['ignore', 'pipe', 'pipe'] });
    sb.track(child.pid!);
    const stdout = child.stdout!;
    stdout.pause();
    let peakKiB = 0;
    const sample = setInterval(() => {
      for (const pid of [child.pid!]) {
        try {
          const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
          peakKiB = Math.max(peakKiB, rss);
        } catch { /* gone */ }
      }
    }, 20);
    // Nobody reads for 2 s, then slowly.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    let got = 0;
    stdout.on('data', (d: Buffer) => { got += d.length; });
    stdout.resume();
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearInterval(sample);
    expect(code).toBe(0);
    expect(got).toBe(200_000_000);
    expect(peakKiB / 1024, 'peak RSS in MiB').toBeLessThan(120);
  });

  it.each([
    ['a second hard link', (log: string) => { writeFileSync(log, '', { mode: 0o600 }); linkSync(log, `${log}.other`); }, /it has 2 hard links/],
    ['group write permission', (log: string) => { writeFileSync(log, ''); chmodSync(log, 0o620); }, /lets the group write to it/],
  ] as const)('when the --log file has %s then agentrun refuses with 78 and runs nothing', async (_what, make, why) => {
    withKey();
    const log = join(sb.dir, 'job.log');
    make(log);
    const marker = join(sb.dir, 'ran');
    const r = await cronAgentrun(sb, ['--log', log, 'touch', marker]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(why);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('logins and preflights that must not hang or mislead', () => {
  let sb: Sandbox;
  afterEach(() => sb.cleanup());

  it('when the user\'s SSH_ASKPASS program hangs then the login gives up at the deadline, keeps the agent, and says why', async () => {
    sb = new Sandbox('ak-askhang-');
    sb.keygen('locked_ed25519', { passphrase: PASS });
    const hang = join(sb.dir, 'hang-askpass');
    writeFileSync(hang, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
    const r = await sb.agentkeep(['--eval', '--quiet', 'locked_ed25519'], { env: { SSH_ASKPASS: hang, AGENTKEEP_ASKPASS_TIMEOUT: '2' }, timeoutMs: 20_000 });
    expect(r.signal, 'killed by the test bound').toBeNull();
    expect(r.ms).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^SSH_AUTH_SOCK=.*\nSSH_AGENT_PID=\d+; export SSH_AGENT_PID;\nfalse;\n$/);
    expect(r.stderr).toContain('the askpass program did not answer within 2 s');
    sb.track(Number(parseShEval(r.stdout).SSH_AGENT_PID));
  });

  it('when a path argument or HOME holds bytes that are not UTF-8 then agentkeep and agentrun refuse it with 64 instead of using another name', async () => {
    sb = new Sandbox('ak-utf8-');
    // spawn() encodes strings as UTF-8; a latin1 string of raw bytes goes through sh -c "$1" instead.
    const viaSh = (cmd: string) => run('sh', ['-c', cmd], { env: withNode(sb.env) });
    const dir = await viaSh(`exec node '${AGENTKEEP}' --eval --dir "$(printf '${sb.dir}/caf\\351')"`);
    expect(dir.code, dir.stderr).toBe(64);
    expect(dir.stdout).toBe('false;\n');
    expect(dir.stderr).toContain('holds bytes that are not UTF-8');
    const home = await viaSh(`HOME="$(printf '${sb.dir}/caf\\351')" exec '${AGENTRUN}' true`);
    expect(home.code, home.stderr).toBe(64);
    expect(home.stderr).toContain('HOME holds bytes that are not UTF-8');
    const log = await viaSh(`exec '${AGENTRUN}' --log "$(printf '${sb.dir}/caf\\351')" true`);
    expect(log.code, log.stderr).toBe(64);
  });

  it('when the env file is there but its socket is gone then agentrun says the socket is missing, not the env file', async () => {
    sb = new Sandbox('ak-nosock-');
    const agent = setupAgent(sb);
    writeFileSync(join(sb.keydir, 'otherhost-sh'), '', { mode: 0o600 });
    process.kill(agent.pid, 'SIGTERM');
    expect(await waitFor(() => !existsSync(agent.sock))).toBe(true);
    const r = await cronAgentrun(sb, ['true']);
    expect(r.code).toBe(75);
    expect(r.stderr).toContain(`${agent.sock} does not exist`);
    expect(r.stderr).not.toContain('written under another host name');
  });
});
