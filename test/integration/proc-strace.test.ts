// With the ps backend forced (AGENTKEEP_PROC_BACKEND=ps), no code path of ours reads another
// process's /proc entries or /proc/net: the commands that ask about processes run under
// `strace -f`, and every file syscall naming /proc/<pid>/ or /proc/net/ is an error unless a
// `ps` made it (procps' ps reads /proc: its PIDs are known from their execve lines). /proc/self
// and /proc/thread-self (Node, libuv, the C library) are fine. Run as a sandbox user, since
// --stop all would otherwise reach the agents of whoever runs the suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTKEEP, AGENTRUN, alive, backendEnv, parseShEval, run, Sandbox, SHELL_DIR, untilAgentCatchesSigterm, waitFor, withNode, type RunResult } from '../helpers/sandbox.js';
import { agentkeepAs, asUser, CAN_CREATE_USERS, createUser, keygenAs, removeUser, requireUsers, type SandboxUser } from '../helpers/users.js';

requireUsers('the strace check of the ps backend');

let sb: Sandbox;
let user: SandboxUser;
let traces = 0;

beforeAll(() => {
  sb = new Sandbox('ak-strace-');
  if (CAN_CREATE_USERS) user = createUser(sb, 'strace');
});
afterAll(() => {
  sb.cleanup();
  removeUser(user);
});

/**
 * Lines of a `strace -f` log that name /proc/<pid>/ or /proc/net/, made by a process of ours: not
 * by a ps (every process that ever tries to exec a ps is one), nor by the test's own setpriv
 * before it execs our program (libcap-ng reads /proc/<its pid>/status).
 */
function procReadsOutsidePs(log: string): string[] {
  const lines = log.split('\n');
  const psPids = new Set(lines.flatMap((l) => /^(\d+) +execve\("[^"]*\/ps"/.exec(l)?.[1] ?? []));
  const program = new Map<string, string>();
  return lines.filter((l) => {
    const [, pid, call] = /^(\d+) +(.*)$/.exec(l) ?? [];
    if (pid === undefined || call === undefined || psPids.has(pid)) return false;
    const exec = /^execve\("([^"]*)"/.exec(call)?.[1];
    if (exec !== undefined) program.set(pid, exec);
    return !program.get(pid)?.endsWith('/setpriv') && /"\/proc\/(\d+|net)(\/[^"]*)?"/.test(call);
  });
}

/** Runs `cmd args` as the sandbox user under strace with the ps backend forced; its result and what it read under /proc. */
async function traced(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult & { reads: string[] }> {
  const log = join(sb.dir, `trace-${++traces}`);
  const r = await run('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', log, 'setpriv', ...asUser(user, cmd, args)], {
    env: withNode({ ...user.env, ...env, ...backendEnv('ps') }), timeoutMs: 60_000,
  });
  return { ...r, reads: procReadsOutsidePs(readFileSync(log, 'utf8')) };
}

async function pidFrom(path: string): Promise<number> {
  expect(await waitFor(() => existsSync(path) && /^\d+\n/.test(readFileSync(path, 'utf8')), 10_000)).toBe(true);
  return Number(readFileSync(path, 'utf8').trim());
}

/** Starts an ssh-agent as the user outside agentkeep (untraced); `-a SOCK`, or none as `eval "$(ssh-agent)"` does. */
function agentAs(sock: string | undefined): { sock: string; pid: number } {
  const args = sock === undefined ? ['-s'] : ['-s', '-a', sock];
  const out = spawnSync('setpriv', asUser(user, 'ssh-agent', args), { env: { ...user.env, TMPDIR: user.home }, encoding: 'utf8' });
  const env = parseShEval(out.stdout.replace(/ echo Agent pid \d+;/, ''));
  const pid = Number(env.SSH_AGENT_PID);
  if (!pid || !env.SSH_AUTH_SOCK) throw new Error(`ssh-agent as ${user.name}: ${out.stderr}`);
  sb.track(pid);
  untilAgentCatchesSigterm(pid);
  return { sock: env.SSH_AUTH_SOCK, pid };
}

describe.skipIf(!CAN_CREATE_USERS)('the ps backend under strace', () => {
  it('when stop, adoption, doctor, the hook, the askpass kill and the --lock orphan check run with the ps backend then none reads /proc/<pid> or /proc/net', async () => {
    // Untraced set-up: agentkeep's agent (strace -f would follow the daemon), two other agents,
    // one started as `eval "$(ssh-agent)"` does (no -a), and an orphaned --lock job.
    const started = await agentkeepAs(user, ['--eval', '--quiet']);
    expect(started.code, started.stderr).toBe(0);
    const mine = { sock: parseShEval(started.stdout).SSH_AUTH_SOCK!, pid: Number(parseShEval(started.stdout).SSH_AGENT_PID) };
    sb.track(mine.pid);
    // agentrun runs a job only when the agent holds a key.
    const added = spawnSync('setpriv', asUser(user, 'ssh-add', [keygenAs(user, 'plain_ed25519')]), { env: { ...user.env, SSH_AUTH_SOCK: mine.sock }, encoding: 'utf8' });
    expect(added.status, added.stderr).toBe(0);
    const bound = agentAs(join(user.home, 'bound.sock'));
    const plain = agentAs(undefined);
    const jobPidFile = join(user.home, 'job.pid');
    const supervisor = spawn('setpriv', asUser(user, AGENTRUN, ['--lock', 'nightly', 'sh', '-c', 'echo $$ > "$1"; exec sleep 600', 'job', jobPidFile]),
      { env: withNode(user.env), stdio: 'ignore' });
    sb.track(supervisor.pid!);
    const jobPid = await pidFrom(jobPidFile);
    sb.track(jobPid);
    // The job can write its PID before agentrun has recorded it beside the lock: kill agentrun after that.
    expect(await waitFor(() => existsSync(join(user.home, '.keychain', 'run-locks', 'nightly.job')), 10_000)).toBe(true);
    supervisor.kill('SIGKILL');
    const killedAt = Date.now();

    // Adoption: an inherited agent started without -a (its PID hint decides) and one with -a only (its argument decides).
    const adoptPlain = await traced(process.execPath, [AGENTKEEP, '--eval', '--debug', '--dir', join(user.home, 'kd-plain'), '--absolute'],
      { SSH_AUTH_SOCK: plain.sock, SSH_AGENT_PID: String(plain.pid) });
    expect(adoptPlain.code, adoptPlain.stderr).toBe(0);
    expect(parseShEval(adoptPlain.stdout)).toEqual({ SSH_AUTH_SOCK: plain.sock, SSH_AGENT_PID: String(plain.pid) });
    expect(adoptPlain.stderr).toContain(`which process holds ${plain.sock} cannot be checked without /proc (ps backend)`);
    const adoptBound = await traced(process.execPath, [AGENTKEEP, '--eval', '--dir', join(user.home, 'kd-bound'), '--absolute'], { SSH_AUTH_SOCK: bound.sock });
    expect(adoptBound.code, adoptBound.stderr).toBe(0);
    expect(parseShEval(adoptBound.stdout)).toEqual({ SSH_AUTH_SOCK: bound.sock, SSH_AGENT_PID: String(bound.pid) });

    // doctor sees the live agent.
    const doctor = await traced(process.execPath, [AGENTKEEP, 'doctor', '--json']);
    expect((JSON.parse(doctor.stdout) as { agent: unknown }).agent).toMatchObject({ socket: mine.sock, pid: mine.pid, pidAlive: true, answering: true });

    // The hook's fast path, in dash and bash (AGENTKEEP_BIN=false: a fallback would show as status 1).
    const hook = `. '${join(SHELL_DIR, 'agentkeep.sh')}'; agentkeep_login -q; echo "status=$? sock=$SSH_AUTH_SOCK"`;
    // The hook gives ssh-add 2 s; strace -f on a loaded machine can take longer once: then try again.
    const tracedHook = async (shell: string) => {
      const first = await traced(shell, ['-c', hook], { AGENTKEEP_BIN: 'false' });
      if (!first.stdout.startsWith('status=1 ')) return first;
      const again = await traced(shell, ['-c', hook], { AGENTKEEP_BIN: 'false' });
      return { ...again, reads: [...first.reads, ...again.reads] };
    };
    const hooks = [await tracedHook('dash'), await tracedHook('bash')];
    for (const h of hooks) expect(h.stdout, h.stderr).toBe(`status=0 sock=${mine.sock}\n`);

    // A hung askpass, and the child it started, are killed at the deadline: their tree is found through ps.
    keygenAs(user, 'locked_ed25519', 'a passphrase');
    const askPids = join(user.home, 'ask.pids');
    const hang = join(user.home, 'hang-askpass');
    writeFileSync(hang, `#!/bin/sh\necho $$ >> '${askPids}'\nsleep 300 &\necho $! >> '${askPids}'\nwait\n`, { mode: 0o755 });
    chownSync(hang, user.uid, user.gid);
    const ask = await traced(process.execPath, [AGENTKEEP, '--eval', '--quiet', 'locked_ed25519'], { SSH_ASKPASS: hang, AGENTKEEP_ASKPASS_TIMEOUT: '2' });
    expect(ask.code, ask.stderr).toBe(1);
    expect(ask.stderr).toContain('the askpass program did not answer within 2 s');
    const askpass = readFileSync(askPids, 'utf8').trim().split('\n').map(Number);
    for (const pid of askpass) sb.track(pid);
    expect(askpass).toHaveLength(2);
    expect(await waitFor(() => askpass.every((pid) => !alive(pid)))).toBe(true);

    // The orphaned job still holds its --lock once the lock itself is stale (4 s): found through its process group.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + 5000 - Date.now())));
    const locked = await traced(AGENTRUN, ['--lock', 'nightly', 'true']);
    expect(locked.code, locked.stderr).toBe(75);
    expect(locked.stderr).toContain('is still running, although its agentrun is gone');
    process.kill(-jobPid, 'SIGKILL');

    // --stop others, mine, all.
    const others = await traced(process.execPath, [AGENTKEEP, '--stop', 'others']);
    expect(others.code, others.stderr).toBe(0);
    expect(await waitFor(() => !alive(bound.pid) && !alive(plain.pid))).toBe(true);
    expect(alive(mine.pid)).toBe(true);
    const stopMine = await traced(process.execPath, [AGENTKEEP, '--stop', 'mine']);
    expect(stopMine.stderr).toContain(`Stopped ssh-agent: ${mine.pid}`);
    const extra = agentAs(join(user.home, 'extra.sock'));
    const all = await traced(process.execPath, [AGENTKEEP, '--stop', 'all']);
    expect(all.code, all.stderr).toBe(0);
    expect(await waitFor(() => !alive(extra.pid) && !alive(mine.pid))).toBe(true);

    const reads = [adoptPlain, adoptBound, doctor, ...hooks, ask, locked, others, stopMine, all].flatMap((r) => r.reads);
    expect(reads).toEqual([]);
  }, 120_000);

  it('when a trace shows our process reading a /proc/<pid> or /proc/net entry then the check reports it, and the reads of ps and setpriv are left out', () => {
    const log = [
      '100 execve("/usr/bin/setpriv", ["setpriv"], 0x0 /* 2 vars */) = 0',
      '100 openat(AT_FDCWD, "/proc/100/status", O_RDONLY) = 3',
      '100 execve("/usr/bin/node", ["node"], 0x0 /* 2 vars */) = 0',
      '100 openat(AT_FDCWD, "/proc/self/maps", O_RDONLY) = 3',
      '100 openat(AT_FDCWD, "/proc/4242/status", O_RDONLY) = 3',
      '100 openat(AT_FDCWD, "/proc/net/unix", O_RDONLY) = 3',
      '101 execve("/usr/bin/ps", ["ps", "-A"], 0x0 /* 2 vars */) = 0',
      '101 openat(AT_FDCWD, "/proc/4242/stat", O_RDONLY) = 3',
      '100 openat(AT_FDCWD, "/proc/uptime", O_RDONLY) = 3',
    ].join('\n');
    expect(procReadsOutsidePs(log)).toEqual([log.split('\n')[4], log.split('\n')[5]]);
  });
});

