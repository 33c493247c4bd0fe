// --stop runs only as dedicated, unprivileged sandbox users created for this test, so that it
// can never reach the agents of whoever runs the suite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { alive, backendEnv, HOST, parseShEval, PROC_BACKENDS, Sandbox, untilAgentCatchesSigterm, waitFor } from '../helpers/sandbox.js';
import { agentkeepAs, asUser, CAN_CREATE_USERS, createUser, removeUser, requireUsers, type SandboxUser } from '../helpers/users.js';
import { ENV_FLAVOURS } from '../../src/shells/flavours.js';

requireUsers('stop tests');

let sb: Sandbox;
let userA: SandboxUser;
let userB: SandboxUser;

/** Starts a plain ssh-agent as `user`, tracked for cleanup. */
function agentAs(user: SandboxUser, sockName: string): number {
  const out = spawnSync('setpriv', asUser(user, 'ssh-agent', ['-s', '-a', join(user.home, sockName)]), { env: user.env, encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out.stdout)?.[1]);
  if (!pid) throw new Error(`ssh-agent as ${user.name}: ${out.stderr}`);
  sb.track(pid);
  untilAgentCatchesSigterm(pid);
  return pid;
}

beforeAll(() => {
  sb = new Sandbox();
  if (!CAN_CREATE_USERS) return;
  userA = createUser(sb, 'stopa');
  userB = createUser(sb, 'stopb');
});
afterAll(() => {
  sb.cleanup();
  removeUser(userA);
  removeUser(userB);
});

describe.skipIf(!CAN_CREATE_USERS)('--stop touches only the invoking user\'s ssh-agents', () => {
  it.each(PROC_BACKENDS)('when A stops others, then mine, then all (%s backend) then only A\'s ssh-agents die, and never B\'s, root\'s or a non-agent process', async (backend) => {
    const opts = { env: backendEnv(backend) };
    const mineStart = await agentkeepAs(userA, ['--eval'], opts);
    expect(mineStart.code, mineStart.stderr).toBe(0);
    let mine = Number(parseShEval(mineStart.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const others = [agentAs(userA, `o1-${backend}.sock`), agentAs(userA, `o2-${backend}.sock`)];
    const bAgent = agentAs(userB, `b-${backend}.sock`);
    const rootAgent = sb.startAgent(join(sb.dir, `root-${backend}.sock`)).pid;
    const bystander = spawn('setpriv', asUser(userA, 'sleep', ['120']), { stdio: 'ignore' });
    sb.track(bystander.pid!);
    await waitFor(() => alive(bystander.pid!));

    const stopOthers = await agentkeepAs(userA, ['--stop', 'others'], opts);
    expect(stopOthers.code, stopOthers.stderr).toBe(0);
    expect(await waitFor(() => others.every((pid) => !alive(pid)))).toBe(true);
    expect([mine, bAgent, rootAgent, bystander.pid!].map(alive)).toEqual([true, true, true, true]);

    const stopMine = await agentkeepAs(userA, ['--stop', 'mine'], opts);
    expect(stopMine.code).toBe(0);
    expect(stopMine.stderr).toContain(`Stopped ssh-agent: ${mine}`);
    expect(await waitFor(() => !alive(mine))).toBe(true);
    expect([bAgent, rootAgent, bystander.pid!].map(alive)).toEqual([true, true, true]);

    const again = await agentkeepAs(userA, ['--eval'], opts);
    mine = Number(parseShEval(again.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const more = [agentAs(userA, `o3-${backend}.sock`)];
    const stopAll = await agentkeepAs(userA, ['--stop', 'all'], opts);
    expect(stopAll.code).toBe(0);
    expect(await waitFor(() => [mine, ...more].every((pid) => !alive(pid)))).toBe(true);
    expect([bAgent, rootAgent, bystander.pid!].map(alive)).toEqual([true, true, true]);
  });

  it('when agentkeep\'s own agent is alive but not answering then --stop others still leaves it alone', async () => {
    const start = await agentkeepAs(userB, ['--eval']);
    expect(start.code, start.stderr).toBe(0);
    const mine = Number(parseShEval(start.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const other = agentAs(userB, 'b-other.sock');
    process.kill(mine, 'SIGSTOP');
    try {
      const r = await agentkeepAs(userB, ['--stop', 'others']);
      expect(r.code, r.stderr).toBe(0);
      expect(await waitFor(() => !alive(other))).toBe(true);
      expect(alive(mine)).toBe(true);
    } finally {
      process.kill(mine, 'SIGCONT');
    }
    expect((await agentkeepAs(userB, ['--stop', 'mine'])).stderr).toContain(`Stopped ssh-agent: ${mine}`);
  });

  it('when --stop others runs then the env files stay; when the agent they name is stopped then they go, as keychain does', async () => {
    const start = await agentkeepAs(userB, ['--eval']);
    expect(start.code, start.stderr).toBe(0);
    const mine = Number(parseShEval(start.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const files = ENV_FLAVOURS.map((f) => join(userB.home, '.keychain', `${HOST}-${f}`));
    expect(files.every((f) => existsSync(f))).toBe(true);
    expect((await agentkeepAs(userB, ['--stop', 'others'])).code).toBe(0);
    expect(files.every((f) => existsSync(f))).toBe(true);
    const stopMine = await agentkeepAs(userB, ['--stop', 'mine']);
    expect(stopMine.code, stopMine.stderr).toBe(0);
    expect(files.filter((f) => existsSync(f))).toEqual([]);
  });

  it('when -k comes bare, as in an old ~/.bash_logout, then it warns and stops all of the user\'s agents', async () => {
    const start = await agentkeepAs(userB, ['--eval']);
    const mine = Number(parseShEval(start.stdout).SSH_AGENT_PID);
    sb.track(mine);
    const other = agentAs(userB, 'b-bare.sock');
    const r = await agentkeepAs(userB, ['-k']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('--stop without an argument is deprecated; stopping all of your ssh-agents');
    expect(await waitFor(() => !alive(mine) && !alive(other))).toBe(true);
    expect(existsSync(join(userB.home, '.keychain', `${HOST}-sh`))).toBe(false);
  });

  it('when there is nothing to stop then --stop mine says so and exits 0', async () => {
    const r = await agentkeepAs(userB, ['--stop', 'mine']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('No ssh-agent to stop');
  });
});
