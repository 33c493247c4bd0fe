// A private, short-lived ssh-agent for one job: its socket lives in a fresh 0700 directory made
// where nobody else can rename entries (private-dir.ts), and it never touches ~/.keychain or the
// long-lived agent. It runs under a small sh watchdog whose stdin is a pipe from us: however we
// die (SIGKILL, the OOM killer, SIGABRT), the pipe closes and the watchdog kills the agent, so a
// loaded key never outlives agentrun.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { requestIdentities } from '../agent/protocol.js';
import { sshAgentSpawnError } from '../agent/spawn.js';
import { startChild } from '../child/run.js';
import { spawnFailure } from '../child/spawn-error.js';
import { AgentkeepError } from '../errors.js';
import { assertOwnSocketIn, makePrivateDir, makePrivateDirIn, removePrivateDir, type PrivateDir } from '../private-dir.js';
import { readSettings } from '../settings.js';

/** A running private agent. */
export interface EphemeralAgent {
  /** The 0700 directory that holds the socket; removed when the agent stops. */
  dir: string;
  /** That directory's identity, checked before a key goes to the socket and before removal. */
  privateDir: PrivateDir;
  sock: string;
  pid: number;
  /** The variables a job needs to use this agent. */
  env: { SSH_AUTH_SOCK: string; SSH_AGENT_PID: string };
}

const START_WAIT_MS = 5000;
const STOP_WAIT_MS = 2000;
// Watchdogs started and not yet stopped, by PID: what the signal and exit hooks must clean up.
const live = new Map<number, { child: ChildProcess; dir: PrivateDir }>();
const uid = (): number => process.getuid?.() ?? 0;

/**
 * The watchdog: starts ssh-agent in the background, prints its PID, and kills it when its stdin
 * (our pipe) reaches end of file — when we close it, or when we die. SIGTERM to the watchdog
 * does the same. Its stdout carries one line, the agent's PID.
 */
export const WATCHDOG = [
  'command -v ssh-agent >/dev/null 2>&1 || exit 127',
  // ssh-agent -D prints its own SSH_AUTH_SOCK lines; only the PID line below may reach our pipe.
  'ssh-agent -D -a "$1" </dev/null >/dev/null & agent=$!',
  'echo "$agent"',
  'trap \'kill "$agent" 2>/dev/null; exit 0\' TERM HUP',
  'while read -r _; do :; done',
  'kill "$agent" 2>/dev/null; wait "$agent"',
  // Left alone (we died), the emptied directory goes too; rmdir never removes anything else.
  'rmdir "${1%/*}" 2>/dev/null; exit 0',
].join('\n');

const stopping = new Map<number, Promise<void>>();
// The watchdog's PID for each agent's PID.
const watchdogs = new Map<number, number>();

/** Makes the private directory: under `baseDir` when given (it must be safe), else where privateParent says. */
function privateDirFor(env: NodeJS.ProcessEnv, baseDir: string | undefined): PrivateDir {
  return baseDir === undefined ? makePrivateDir(readSettings(env), uid(), 'agentkeep-ephemeral-') : makePrivateDirIn(baseDir, uid(), 'agentkeep-ephemeral-');
}

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

/** The agent's PID, as the watchdog prints it first thing; undefined if it ends, or says something else, or nothing within `ms`. */
function agentPidFrom(child: ChildProcess, ms: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const done = (pid: number | undefined): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(pid);
    };
    const onData = (d: string): void => {
      text += d;
      const end = text.indexOf('\n');
      if (end >= 0) done(/^\d+$/.test(text.slice(0, end)) ? Number(text.slice(0, end)) : undefined);
    };
    const timer = setTimeout(() => done(undefined), ms);
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', () => done(undefined));
    child.once('error', () => done(undefined));
  });
}

/** Starts `ssh-agent -D -a DIR/agent.sock` in a new private directory and waits until it answers. */
export async function startEphemeralAgent(env: NodeJS.ProcessEnv, baseDir?: string): Promise<EphemeralAgent> {
  const privateDir = privateDirFor(env, baseDir);
  const dir = privateDir.path;
  const sock = join(dir, 'agent.sock');
  const childEnv = { ...env };
  delete childEnv.SSH_AUTH_SOCK;
  delete childEnv.SSH_AGENT_PID;
  const watchdog = startChild('/bin/sh', ['-c', WATCHDOG, 'agentkeep-watchdog', sock], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  const child = watchdog.child;
  if (child.pid === undefined) {
    removePrivateDir(privateDir, uid());
    throw sshAgentSpawnError((await watchdog.result).error ?? spawnFailure('/bin/sh', new Error('no process id')));
  }
  const pid = await agentPidFrom(child, START_WAIT_MS);
  live.set(child.pid, { child, dir: privateDir });
  const agent: EphemeralAgent = { dir, privateDir, sock, pid: pid ?? child.pid, env: { SSH_AUTH_SOCK: sock, SSH_AGENT_PID: String(pid ?? child.pid) } };
  watchdogs.set(agent.pid, child.pid);
  const deadline = Date.now() + START_WAIT_MS;
  for (;;) {
    if (exited(child) || pid === undefined) break;
    try {
      await requestIdentities(sock, 500);
      assertOwnSocketIn(privateDir, sock, uid());
      return agent;
    } catch (error) {
      if (error instanceof AgentkeepError) { await stopEphemeralAgent(agent); throw error; }
      /* not listening yet */
    }
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await stopEphemeralAgent(agent);
  if (pid === undefined && child.exitCode === 127) {
    throw sshAgentSpawnError(spawnFailure('ssh-agent', { code: 'ENOENT' }));
  }
  const stderr = watchdog.output().stderr;
  throw new AgentkeepError('AGENT_START', `the private ssh-agent did not start at ${sock}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
    'check that TMPDIR is a writable local directory with a short path');
}

async function stop(agent: EphemeralAgent): Promise<void> {
  const watchdog = watchdogs.get(agent.pid);
  const child = watchdog === undefined ? undefined : live.get(watchdog)?.child;
  try {
    if (child && !exited(child)) {
      // Closing the watchdog's stdin makes it SIGTERM the agent (which removes its socket) and
      // wait for it; SIGKILL to both, by PID, if that hangs.
      child.stdin!.end();
      if (!await waitExit(child, STOP_WAIT_MS)) {
        try { process.kill(agent.pid, 'SIGKILL'); } catch { /* gone */ }
        child.kill('SIGKILL');
        await waitExit(child, STOP_WAIT_MS);
      }
    }
  } finally {
    if (watchdog !== undefined) live.delete(watchdog);
    watchdogs.delete(agent.pid);
    removePrivateDir(agent.privateDir, uid());
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
    // Closing its stdin is enough for the watchdog; killing it would leave the agent behind.
    try { child.stdin?.destroy(); } catch { /* already gone */ }
    removePrivateDir(dir, uid());
    live.delete(pid);
  }
}

/** How many private agents this process is running now. */
export function liveEphemeralAgents(): number {
  return live.size;
}
