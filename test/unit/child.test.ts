// The child-process helper (src/child) against real children: sh, sleep, cat. Every process a
// test starts that could outlive it is recorded and, if still there, killed by its PID.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runChild, startChild } from '../../src/child/run.js';
import { runChildSync } from '../../src/child/run-sync.js';
import { exitStatus, signalStatus } from '../../src/child/status.js';

const started: number[] = [];

/** True while PID exists and is not a zombie (a container's init may never reap one). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: kill(0) is all we know
  }
}

/** The grandchild's PID, which the test's shell prints as its first line. */
function grandchild(stdout: string): number {
  const pid = Number(/^(\d+)\n/.exec(stdout)?.[1]);
  expect(pid).toBeGreaterThan(1);
  started.push(pid);
  return pid;
}

afterEach(() => {
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

describe('runChild', () => {
  it('when the child writes and exits then its output and exit status are captured', async () => {
    const r = await runChild('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r.status).toBe(3);
    expect(r).toMatchObject({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false, error: undefined });
  });

  it('when input is given then the child reads it on stdin, or on the descriptor named', async () => {
    expect((await runChild('cat', [], { input: 'on stdin' })).stdout).toBe('on stdin');
    const fd3 = await runChild('sh', ['-c', 'cat <&3'], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], input: Buffer.from('on fd 3'), inputFd: 3 });
    expect(fd3.status).toBe(0);
    expect(fd3.stdout).toBe('on fd 3');
  });

  it('when asked for all then stdout and stderr are interleaved in the order written', async () => {
    const r = await runChild('sh', ['-c', 'echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three'], { all: true });
    expect(r.all).toBe('one\ntwo\nthree\n');
  });

  it('when a signal kills the child then the status is 128 + N', async () => {
    const term = await runChild('sh', ['-c', 'kill -TERM $$']);
    expect(term.status).toBe(143);
    expect(term).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect((await runChild('sh', ['-c', 'kill -KILL $$'])).status).toBe(137);
  });

  it('when the command does not exist then the result says "not found" in words and the status is 127', async () => {
    const r = await runChild('agentkeep-no-such-command', ['x']);
    expect(r.status).toBe(127);
    expect(r.error).toEqual({ code: 'ENOENT', reason: 'not found', message: 'cannot run agentkeep-no-such-command: not found' });
  });

  it('when the command is not executable then the status is 126 and the reason says permission denied', async () => {
    const r = await runChild('/etc', []);
    expect(r.status).toBe(126);
    expect(r.error?.reason).toMatch(/^permission denied/);
  });

  it('when the deadline passes in a group of its own then the whole group dies, the grandchild too', async () => {
    const t0 = Date.now();
    const r = await runChild('sh', ['-c', 'sleep 30 & echo $!; wait'], { newGroup: true, timeoutMs: 1500 });
    const pid = grandchild(r.stdout);
    expect(r.timedOut).toBe(true);
    expect(r.status).toBe(143);
    expect(alive(pid)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('when the group ignores SIGTERM then SIGKILL follows after killAfterMs and reaches the grandchild', async () => {
    const r = await runChild('sh', ['-c', "trap '' TERM; sleep 30 & echo $!; wait"], { newGroup: true, timeoutMs: 1500, killAfterMs: 1000 });
    const pid = grandchild(r.stdout);
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', status: 137 });
    expect(alive(pid)).toBe(false);
  });

  it('when the leader exits on SIGTERM but a grandchild ignores it then the grandchild is killed when the grace ends', async () => {
    const r = await runChild('sh', ['-c', "(trap '' TERM; exec sleep 30) & echo $!; wait"], { newGroup: true, timeoutMs: 1500, killAfterMs: 1000 });
    const pid = grandchild(r.stdout);
    expect(r.timedOut).toBe(true);
    expect(alive(pid)).toBe(false);
  });

  it('when the output passes maxBuffer then the child is killed and the error says so', async () => {
    const r = await runChild('sh', ['-c', 'while :; do echo xxxxxxxxxxxxxxx; done'], { maxBuffer: 1000 });
    expect(r.error?.code).toBe('ENOBUFS');
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout.length).toBeLessThanOrEqual(1000);
  });

  it('when a terminate function is given then the deadline calls it instead of signalling', async () => {
    const calls: number[] = [];
    const run = startChild('sleep', ['30'], { timeoutMs: 100, terminate: (pid) => { calls.push(pid); process.kill(pid, 'SIGKILL'); } });
    started.push(run.pid!);
    expect(run.running()).toBe(true);
    const r = await run.result;
    expect(calls).toEqual([run.pid]);
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(run.running()).toBe(false);
  });
});

describe('runChildSync', () => {
  it('when the child writes and exits then its output and exit status are captured', () => {
    const r = runChildSync('sh', ['-c', 'echo out; echo err >&2; exit 5']);
    expect(r).toMatchObject({ code: 5, status: 5, stdout: 'out\n', stderr: 'err\n', error: undefined });
  });

  it('when a signal kills the child then the status is 128 + N', () => {
    expect(runChildSync('sh', ['-c', 'kill -TERM $$'])).toMatchObject({ signal: 'SIGTERM', status: 143 });
  });

  it('when the command does not exist then the result says "not found" and the status is 127', () => {
    const r = runChildSync('agentkeep-no-such-command', []);
    expect(r.status).toBe(127);
    expect(r.error?.message).toBe('cannot run agentkeep-no-such-command: not found');
  });

  it('when the deadline passes then the child is killed and timedOut is set', () => {
    const r = runChildSync('sleep', ['30'], { timeoutMs: 200 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', status: 137, error: undefined });
  });

  it('when the output passes maxBuffer then the error is ENOBUFS, not "not found"', () => {
    const r = runChildSync('sh', ['-c', 'while :; do echo xxxxxxxxxxxxxxx; done'], { maxBuffer: 1000 });
    expect(r.error?.code).toBe('ENOBUFS');
    expect(r.status).not.toBe(127);
  });
});

describe('exitStatus', () => {
  it.each([
    [0, null, undefined, 0],
    [3, null, undefined, 3],
    [null, 'SIGKILL', undefined, 137],
    [null, 'SIGHUP', undefined, 129],
    [null, null, { code: 'ENOENT' }, 127],
    [null, null, { code: 'EACCES' }, 126],
  ] as const)('when code %s and signal %s (spawn error %o) then the status is %i', (code, signal, error, status) => {
    expect(exitStatus(code, signal, error)).toBe(status);
  });

  it('when the signal is SIGTERM then signalStatus is 143', () => {
    expect(signalStatus('SIGTERM')).toBe(143);
  });
});
