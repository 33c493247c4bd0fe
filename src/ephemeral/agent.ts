// A private, short-lived ssh-agent for one job: its socket lives in a fresh 0700 directory,
// it is our own child (`ssh-agent -D`), and it never touches ~/.keychain or the long-lived agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestIdentities } from '../agent/protocol.js';
import { sshAgentSpawnError } from '../agent/spawn.js';
import { AgentkeepError } from '../errors.js';

/** A running private agent. */
export interface EphemeralAgent {
  /** The 0700 directory that holds the socket; removed when the agent stops. */
  dir: string;
  sock: string;
  pid: number;
  /** The variables a job needs to use this agent. */
  env: { SSH_AUTH_SOCK: string; SSH_AGENT_PID: string };
}

const START_WAIT_MS = 5000;
const STOP_WAIT_MS = 2000;
// Agents started and not yet stopped, by PID: what the signal and exit hooks must clean up.
const live = new Map<number, { child: ChildProcess; dir: string }>();
const stopping = new Map<number, Promise<void>>();

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false); }, ms);
    const onExit = (): void => { clearTimeout(timer); resolve(true); };
    child.once('exit', onExit);
  });
}

/** Starts `ssh-agent -D -a DIR/agent.sock` in a new 0700 directory and waits until it answers. */
export async function startEphemeralAgent(env: NodeJS.ProcessEnv, baseDir = env.TMPDIR || tmpdir()): Promise<EphemeralAgent> {
  // mkdtemp creates the directory with mode 0700 whatever the umask.
  const dir = mkdtempSync(join(baseDir, 'agentkeep-ephemeral-'));
  const sock = join(dir, 'agent.sock');
  const childEnv = { ...env };
  delete childEnv.SSH_AUTH_SOCK;
  delete childEnv.SSH_AGENT_PID;
  const child = spawn('ssh-agent', ['-D', '-a', sock], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const spawnError = new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw sshAgentSpawnError(await spawnError);
  }
  live.set(pid, { child, dir });
  const agent: EphemeralAgent = { dir, sock, pid, env: { SSH_AUTH_SOCK: sock, SSH_AGENT_PID: String(pid) } };
  const deadline = Date.now() + START_WAIT_MS;
  for (;;) {
    if (exited(child)) break;
    try {
      await requestIdentities(sock, 500);
      return agent;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await stopEphemeralAgent(agent);
  throw new AgentkeepError('AGENT_START', `the private ssh-agent did not start at ${sock}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
    'check that TMPDIR is a writable local directory with a short path');
}

async function stop(agent: EphemeralAgent): Promise<void> {
  const child = live.get(agent.pid)?.child;
  try {
    if (child && !exited(child)) {
      // By PID of our own child only: SIGTERM lets ssh-agent remove its socket, SIGKILL if it hangs.
      child.kill('SIGTERM');
      if (!await waitExit(child, STOP_WAIT_MS)) {
        child.kill('SIGKILL');
        await waitExit(child, STOP_WAIT_MS);
      }
    }
  } finally {
    live.delete(agent.pid);
    rmSync(agent.dir, { recursive: true, force: true });
  }
}

/** Stops the agent (SIGTERM, then SIGKILL) and removes its directory; safe to call more than once. */
export function stopEphemeralAgent(agent: EphemeralAgent): Promise<void> {
  let done = stopping.get(agent.pid);
  if (!done) {
    done = stop(agent).finally(() => stopping.delete(agent.pid));
    stopping.set(agent.pid, done);
  }
  return done;
}

/** Last resort for a process that is about to die: SIGKILL every agent still running, remove their directories. */
export function killEphemeralAgentsSync(): void {
  for (const [pid, { child, dir }] of live) {
    try { if (!exited(child)) child.kill('SIGKILL'); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
    live.delete(pid);
  }
}

/** How many private agents this process is running now. */
export function liveEphemeralAgents(): number {
  return live.size;
}
