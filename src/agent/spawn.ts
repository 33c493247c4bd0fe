// Starts a long-lived ssh-agent bound to a given socket path and reports its PID.
import { runChild } from '../child/run.js';
import type { SpawnFailure } from '../child/spawn-error.js';
import { AgentkeepError } from '../errors.js';

/** The error for an ssh-agent that could not even be run (not installed, not executable). */
export function sshAgentSpawnError(failure: SpawnFailure): AgentkeepError {
  return failure.code === 'ENOENT'
    ? new AgentkeepError('AGENT_START', 'ssh-agent is not installed or not on PATH', 'install OpenSSH\'s client tools (Debian: apt-get install openssh-client)')
    : new AgentkeepError('AGENT_START', `cannot run ssh-agent: ${failure.reason}`);
}

/** Starts `ssh-agent -a SOCK [-t SECONDS]`; it forks, detaches and closes our stdio. */
export async function startSshAgent(sock: string, env: NodeJS.ProcessEnv, lifetimeSec?: number): Promise<{ pid: number }> {
  const args = ['-s', '-a', sock];
  if (lifetimeSec !== undefined) args.push('-t', String(lifetimeSec));
  const childEnv = { ...env };
  delete childEnv.SSH_AUTH_SOCK;
  delete childEnv.SSH_AGENT_PID;
  const r = await runChild('ssh-agent', args, { env: childEnv });
  if (r.error) throw sshAgentSpawnError(r.error);
  const pid = /SSH_AGENT_PID=(\d+);/.exec(r.stdout)?.[1];
  if (r.code === 0 && pid) return { pid: Number(pid) };
  const detail = r.stderr.trim() || `exit status ${r.status}`;
  const inUse = /Address already in use/i.test(r.stderr);
  throw new AgentkeepError('AGENT_START', `ssh-agent could not start at ${sock}: ${detail}`,
    inUse ? 'another agent took the socket first; run agentkeep again' : 'run with --debug for details');
}
