import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { AGENTKEEP, alive, HOST, parseShEval, Sandbox, waitFor } from '../helpers/sandbox.js';

let sb: Sandbox;
afterEach(() => sb.cleanup());

/** A stand-in `ssh-agent` that never returns, so an agentkeep holding the lock stays frozen. */
function freezingAgentDir(): string {
  const bin = join(sb.dir, 'freeze-bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ssh-agent'), '#!/bin/sh\necho $$ > "$FREEZE_PIDFILE"\nexec sleep 120\n');
  chmodSync(join(bin, 'ssh-agent'), 0o755);
  return bin;
}

/** Starts an agentkeep that takes the lock and then freezes in a stand-in ssh-agent; both tracked. */
async function startFrozenHolder(): Promise<number> {
  const freezePid = join(sb.dir, 'freeze.pid');
  const holder = spawn(process.execPath, [AGENTKEEP, '--eval'], {
    env: { ...sb.env, PATH: `${freezingAgentDir()}:${sb.env.PATH}`, FREEZE_PIDFILE: freezePid }, stdio: 'ignore',
  });
  sb.track(holder.pid!);
  expect(await waitFor(() => existsSync(freezePid), 10_000)).toBe(true);
  sb.track(Number(readFileSync(freezePid, 'utf8')));
  return holder.pid!;
}

describe('many callers at once', () => {
  it('when 50 agentkeep --eval start at once with no agent then exactly one agent exists and all print the same socket', async () => {
    sb = new Sandbox();
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 50 }, () => sb.agentkeep(['--eval', '--quiet', '--lockwait', '30'], { timeoutMs: 60_000 })));
    const slowest = Math.max(...results.map((r) => r.ms));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    expect(sb.sandboxAgents().length).toBe(1);
    expect(parseShEval(results[0]!.stdout).SSH_AGENT_PID).toBe(String(sb.sandboxAgents()[0]));
    console.log(`50 concurrent agentkeep --eval: 1 agent, slowest caller ${slowest} ms, all done in ${Date.now() - started} ms`);
  }, 120_000);

  it('when the lock holder is SIGKILLed then the waiting callers proceed within seconds and one agent results', async () => {
    sb = new Sandbox();
    const holder = await startFrozenHolder();
    expect(existsSync(join(sb.keydir, `${HOST}-lock.lock`))).toBe(true);

    const waiters = Array.from({ length: 5 }, () => sb.agentkeep(['--eval', '--lockwait', '20'], { timeoutMs: 40_000 }));
    await new Promise((r) => setTimeout(r, 500));
    process.kill(holder, 'SIGKILL');
    const killedAt = Date.now();
    const results = await Promise.all(waiters);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    expect(sb.sandboxAgents().length).toBe(1);
    const recovery = Date.now() - killedAt;
    expect(recovery).toBeLessThan(15_000);
    console.log(`lock holder SIGKILLed: waiters finished ${recovery} ms later`);
  });

  it('when the holder is alive then a waiter never steals the lock and --lockwait ends in an error (75)', async () => {
    sb = new Sandbox();
    const holder = await startFrozenHolder();

    // Wait past the stale threshold: a live holder keeps refreshing the lock, so it is never stale.
    const r = await sb.agentkeep(['--eval', '--lockwait', '6']);
    expect(r.code).toBe(75);
    expect(r.stdout).toBe('false;\n');
    expect(r.stderr).toMatch(/gave up after 6\.0 s waiting for the lock/);
    expect(alive(holder)).toBe(true);
    expect(sb.sandboxAgents()).toEqual([]);
  });
});
