// --stop runs only as dedicated, unprivileged sandbox users created for this test, so that it
// can never reach the agents of whoever runs the suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AGENTKEEP, alive, parseShEval, run, Sandbox, waitFor } from '../helpers/sandbox.js';

const USERS = ['akstop-a', 'akstop-b'] as const;
const canCreateUsers = process.getuid?.() === 0;
const reason = 'needs root to create the sandbox users akstop-a and akstop-b';
if (!canCreateUsers && process.env.CI === 'true') throw new Error(`stop tests: ${reason}; CI must run them`);

let sb: Sandbox;
const ids: Record<string, number> = {};

function ensureUser(name: string): number {
  if (spawnSync('id', ['-u', name]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`useradd ${name}: ${made.stderr}`);
  }
  return Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
}

function homeOf(name: string): string {
  return join(sb.dir, name);
}

function envOf(name: string): NodeJS.ProcessEnv {
  return { ...sb.env, HOME: homeOf(name), USER: name, LOGNAME: name };
}

function asUser(name: string, cmd: string, args: string[]): string[] {
  return ['--reuid', name, '--regid', name, '--clear-groups', '--', cmd, ...args];
}

/** Starts a plain ssh-agent as `name`, tracked for cleanup. */
function agentAs(name: string, sockName: string): number {
  const out = spawnSync('setpriv', asUser(name, 'ssh-agent', ['-s', '-a', join(homeOf(name), sockName)]), { env: envOf(name), encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out.stdout)?.[1]);
  if (!pid) throw new Error(`ssh-agent as ${name}: ${out.stderr}`);
  sb.track(pid);
  return pid;
}

function agentkeepAs(name: string, args: string[]) {
  return run('setpriv', asUser(name, process.execPath, [AGENTKEEP, ...args]), { env: envOf(name) });
}

beforeAll(() => {
  sb = new Sandbox();
  if (!canCreateUsers) return;
  chmodSync(sb.dir, 0o711);
  for (const name of USERS) {
    ids[name] = ensureUser(name);
    mkdirSync(homeOf(name), { mode: 0o700 });
    chownSync(homeOf(name), ids[name]!, ids[name]!);
  }
});
afterAll(() => sb.cleanup());

describe.skipIf(!canCreateUsers)('--stop touches only the invoking user\'s ssh-agents', () => {
  it('when A stops others, then mine, then all then only A\'s ssh-agents die, and never B\'s, root\'s or a non-agent process', async () => {
    const mineStart = await agentkeepAs('akstop-a', ['--eval']);
    expect(mineStart.code, mineStart.stderr).toBe(0);
    let mine = Number(parseShEval(mineStart.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const others = [agentAs('akstop-a', 'o1.sock'), agentAs('akstop-a', 'o2.sock')];
    const bAgent = agentAs('akstop-b', 'b.sock');
    const rootAgent = sb.startAgent(join(sb.dir, 'root.sock')).pid;
    const bystander = spawn('setpriv', asUser('akstop-a', 'sleep', ['120']), { stdio: 'ignore' });
    sb.track(bystander.pid!);
    await waitFor(() => alive(bystander.pid!));

    const stopOthers = await agentkeepAs('akstop-a', ['--stop', 'others']);
    expect(stopOthers.code, stopOthers.stderr).toBe(0);
    expect(await waitFor(() => others.every((pid) => !alive(pid)))).toBe(true);
    expect([mine, bAgent, rootAgent, bystander.pid!].map(alive)).toEqual([true, true, true, true]);

    const stopMine = await agentkeepAs('akstop-a', ['--stop', 'mine']);
    expect(stopMine.code).toBe(0);
    expect(stopMine.stderr).toContain(`Stopped ssh-agent: ${mine}`);
    expect(await waitFor(() => !alive(mine))).toBe(true);
    expect([bAgent, rootAgent, bystander.pid!].map(alive)).toEqual([true, true, true]);

    const again = await agentkeepAs('akstop-a', ['--eval']);
    mine = Number(parseShEval(again.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const more = [agentAs('akstop-a', 'o3.sock')];
    const stopAll = await agentkeepAs('akstop-a', ['--stop', 'all']);
    expect(stopAll.code).toBe(0);
    expect(await waitFor(() => [mine, ...more].every((pid) => !alive(pid)))).toBe(true);
    expect([bAgent, rootAgent, bystander.pid!].map(alive)).toEqual([true, true, true]);
  });

  it('when agentkeep\'s own agent is alive but not answering then --stop others still leaves it alone', async () => {
    const start = await agentkeepAs('akstop-b', ['--eval']);
    expect(start.code, start.stderr).toBe(0);
    const mine = Number(parseShEval(start.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const other = agentAs('akstop-b', 'b-other.sock');
    process.kill(mine, 'SIGSTOP');
    try {
      const r = await agentkeepAs('akstop-b', ['--stop', 'others']);
      expect(r.code, r.stderr).toBe(0);
      expect(await waitFor(() => !alive(other))).toBe(true);
      expect(alive(mine)).toBe(true);
    } finally {
      process.kill(mine, 'SIGCONT');
    }
    expect((await agentkeepAs('akstop-b', ['--stop', 'mine'])).stderr).toContain(`Stopped ssh-agent: ${mine}`);
  });

  it('when there is nothing to stop then --stop mine says so and exits 0', async () => {
    const r = await agentkeepAs('akstop-b', ['--stop', 'mine']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('No ssh-agent to stop');
  });
});
