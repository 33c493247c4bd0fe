// Starts a long-lived ssh-agent bound to a given socket path and reports its PID.
import { spawn } from 'node:child_process';
import { AgentkeepError } from '../errors.js';

/** The error for an ssh-agent that could not even be run (not installed, not executable). */
export function sshAgentSpawnError(error: NodeJS.ErrnoException): AgentkeepError {
  return error.code === 'ENOENT'
    ? new AgentkeepError('AGENT_START', 'ssh-agent is not installed or not on PATH', 'install OpenSSH\'s client tools (Debian: apt-get install openssh-client)')
    : new AgentkeepError('AGENT_START', `cannot run ssh-agent: ${error.message}`);
}

/** Starts `ssh-agent -a SOCK [-t SECONDS]`; it forks, detaches and closes our stdio. */
export function startSshAgent(sock: string, env: NodeJS.ProcessEnv, lifetimeSec?: number): Promise<{ pid: number }> {
  const args = ['-s', '-a', sock];
  if (lifetimeSec !== undefined) args.push('-t', String(lifetimeSec));
  const childEnv = { ...env };
  delete childEnv.SSH_AUTH_SOCK;
  delete childEnv.SSH_AGENT_PID;
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-agent', args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (error: NodeJS.ErrnoException) => reject(sshAgentSpawnError(error)));
    child.on('close', (code) => {
      const pid = /SSH_AGENT_PID=(\d+);/.exec(out)?.[1];
      if (code === 0 && pid) return resolve({ pid: Number(pid) });
      const detail = err.trim() || `exit status ${code}`;
      const inUse = /Address already in use/i.test(err);
      reject(new AgentkeepError('AGENT_START', `ssh-agent could not start at ${sock}: ${detail}`,
        inUse ? 'another agent took the socket first; run agentkeep again' : 'run with --debug for details'));
    });
  });
}
