// A plain job replaces agentrun (the installed launcher exec's it after the Node preflight):
// same PID, signals straight to the job, nothing of agentrun resident, argv byte for byte, the
// environment as the caller gave it, and the same 126/127 as a supervised job.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { AGENTRUN, Sandbox, alive, run, waitFor } from '../helpers/sandbox.js';
import { cronAgentrun, cronEnv, setupAgent, spawnAgentrun, sshAdd } from '../helpers/agentrun.js';

/** The PIDs of every process whose command line is exactly `argv` (NULs between words). */
function processesRunning(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === wanted;
    } catch {
      return false;
    }
  }).map(Number);
}

/** Words that a shell would split, expand or run, each of which must reach the job as is. */
const HOSTILE_WORDS = [
  'two words', ' lead and trail ', "it's", '"double"', '$(touch pwned)', '`touch pwned`', '$HOME', '${PATH}',
  '*', '?', '[a-z]*', '~', 'line\nbreak', '\ttab', '', '-', '--', '--lock', '-q', '--timeout=1', 'a;b|c&d',
  '\\backslash\\', 'é ü 日本', '%s%n', '!', '#not-a-comment',
];

describe('agentrun with a plain job (no supervisor options)', () => {
  let sb: Sandbox;
  let agent: { sock: string; pid: number };
  beforeEach(() => {
    sb = new Sandbox('ak-run-exec-');
    agent = setupAgent(sb);
    sshAdd(sb, agent.sock, sb.keygen('backup_ed25519'));
  });
  afterEach(() => sb.cleanup());

  it('when the job prints its PID then it is the PID the caller started: the job replaced agentrun', async () => {
    const { child, done } = spawnAgentrun(sb, ['sh', '-c', 'echo $$']);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(child.pid);
  });

  it('when a supervisor option is given then the job runs under agentrun, as before, which ps names agentrun', async () => {
    const { child, done } = spawnAgentrun(sb, ['--timeout', '1h', 'sh', '-c', 'echo $$; ps -o comm= -o args= -p "$PPID"']);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const [pid, supervisor] = r.stdout.split('\n');
    expect(Number(pid)).not.toBe(child.pid);
    expect(supervisor?.trim()).toMatch(/^agentrun\s+agentrun/);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('when %s is sent to agentrun\'s PID then the job itself receives it', async (signal) => {
    const marker = join(sb.dir, 'got');
    const ready = join(sb.dir, 'ready');
    const name = signal.slice(3);
    const { child, done } = spawnAgentrun(sb, ['sh', '-c', `trap 'echo ${name} $$ > "$1"; exit 9' ${name}; touch "$2"; while :; do sleep 0.05; done`, 'job', marker, ready]);
    expect(await waitFor(() => existsSync(ready), 10_000)).toBe(true);
    child.kill(signal);
    const r = await done;
    expect(r.code).toBe(9);
    expect(readFileSync(marker, 'utf8')).toBe(`${name} ${child.pid}\n`);
  });

  it('when agentrun\'s PID is killed with SIGKILL then nothing of the job is left running', async () => {
    const job = ['sleep', `${300 + (process.pid % 1000) / 1000}`];
    const { child, done } = spawnAgentrun(sb, job);
    expect(await waitFor(() => processesRunning(job).length > 0, 10_000)).toBe(true);
    expect(processesRunning(job)).toEqual([child.pid]);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(await waitFor(() => processesRunning(job).length === 0)).toBe(true);
  });

  it.each([[[]], [['--timeout', '1h']]])('when the words are hostile (options %j) then the job receives them byte for byte and no shell runs them', async (opts) => {
    const r = await cronAgentrun(sb, [...opts, 'sh', '-c', 'printf "%s\\0" "$@"', 'job', ...HOSTILE_WORDS], { cwd: sb.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE_WORDS);
    expect(existsSync(join(sb.dir, 'pwned'))).toBe(false);
  });

  it('when the command itself is a hostile word then it is run by that exact name', async () => {
    const bin = join(sb.dir, 'bin');
    const weird = "we'ird $(name) *";
    mkdirSync(bin);
    writeFileSync(join(bin, weird), '#!/bin/sh\nprintf "%s|" "$0" "$@"\n', { mode: 0o755 });
    const r = await cronAgentrun(sb, [weird, 'a b'], { env: { PATH: `${bin}:${cronEnv(sb).PATH}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${join(bin, weird)}|a b|`);
  });

  it('when the caller passes an environment then the job gets exactly it plus the agent\'s two variables', async () => {
    const env = { ...cronEnv(sb), PWD: sb.dir, ODD: 'a\nb $(x) `y` \'z\'', EMPTY: '', SSH_AGENT_PID: '1' };
    const r = await cronAgentrun(sb, ['env', '-0'], { env, cwd: sb.dir });
    expect(r.code, r.stderr).toBe(0);
    const got = Object.fromEntries(r.stdout.split('\0').slice(0, -1).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(got).toEqual({ ...env, SSH_AUTH_SOCK: agent.sock, SSH_AGENT_PID: String(agent.pid) });
  });

  it('when the caller gives the job a descriptor beyond stderr then the job still has it (the plan descriptor never shadows it)', async () => {
    const child = spawn(AGENTRUN, ['sh', '-c', 'echo via-three >&3; echo via-nine >&9'], {
      env: cronEnv(sb), stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'pipe'],
    });
    sb.track(child.pid!);
    let three = '';
    let nine = '';
    const extra = child.stdio as unknown as (Readable | null)[];
    extra[3]!.on('data', (d: Buffer) => { three += d.toString(); });
    extra[9]!.on('data', (d: Buffer) => { nine += d.toString(); });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(three).toBe('via-three\n');
    expect(nine).toBe('via-nine\n');
  });

  it.each([
    ['a missing command', () => ['no-such-command-xyz'], 127],
    ['a file that is not executable', (dir: string) => { writeFileSync(join(dir, 'plain.sh'), 'echo hi\n', { mode: 0o644 }); return [join(dir, 'plain.sh')]; }, 126],
    ['a directory', (dir: string) => [dir], 126],
  ] as const)('when the command is %s then the plain and the supervised run give the same status and message', async (_what, make, status) => {
    const command = make(sb.dir);
    const plain = await cronAgentrun(sb, [...command]);
    const supervised = await cronAgentrun(sb, ['--timeout', '1h', ...command]);
    expect(plain.code).toBe(status);
    expect(supervised.code).toBe(status);
    expect(plain.stderr).toBe(supervised.stderr);
    expect(plain.stderr).toMatch(/^agentrun: .*(command not found on PATH=|cannot execute: permission denied)/);
  });

  it('when there is no agent then the plain job is refused with 75 exactly as a supervised one', async () => {
    process.kill(agent.pid, 'SIGKILL');
    expect(await waitFor(() => !alive(agent.pid))).toBe(true);
    const marker = join(sb.dir, 'ran');
    const plain = await cronAgentrun(sb, ['touch', marker]);
    const supervised = await cronAgentrun(sb, ['--timeout', '1h', 'touch', marker]);
    expect(plain.code).toBe(75);
    expect(plain.stderr).toBe(supervised.stderr);
    expect(existsSync(marker)).toBe(false);
  });

  it('when node is not on PATH then agentrun says so with the fix and exits 127 without running anything', async () => {
    const marker = join(sb.dir, 'ran');
    const r = await run(AGENTRUN, ['/usr/bin/touch', marker], { env: { ...cronEnv(sb), PATH: '/nonexistent' } });
    expect(r.code).toBe(127);
    expect(r.stderr).toBe('agentrun: node: command not found on PATH=/nonexistent (agentrun runs on Node.js)\nhint: put node\'s directory on the crontab\'s PATH line: agentkeep hook cron prints it\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('when agentrun is reached through a relative symlink (as npm links bins) then it finds its preflight', async () => {
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(relative(bin, AGENTRUN), join(bin, 'agentrun'));
    const r = await run('agentrun', ['sh', '-c', 'echo "$SSH_AUTH_SOCK"'], { env: { ...cronEnv(sb), PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${agent.sock}\n`);
  });
});
