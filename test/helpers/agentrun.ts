// Helpers for agentrun tests: a cron-like environment, an agent set up the way agentkeep
// leaves it (socket in the key directory, keychain-format H-sh), and agentrun in the background.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENTRUN, HOST, run, type RunOptions, type RunResult, type Sandbox } from './sandbox.js';

/** What cron gives a job: HOME, LOGNAME, SHELL and a minimal PATH (plus node's directory). */
export function cronEnv(sb: Sandbox, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const nodeDir = dirname(process.execPath);
  const path = ['/usr/bin', '/bin'].includes(nodeDir) ? '/usr/bin:/bin' : `/usr/bin:/bin:${nodeDir}`;
  return { HOME: sb.home, LOGNAME: 'root', PATH: path, SHELL: '/bin/sh', ...extra };
}

/** Runs agentrun as cron would: only the cron environment, no terminal. */
export function cronAgentrun(sb: Sandbox, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(AGENTRUN, args, { ...opts, env: cronEnv(sb, opts.env) });
}

/** Starts agentrun in the background in the cron environment, tracked for cleanup. */
export function spawnAgentrun(sb: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<RunResult> } {
  const started = Date.now();
  const child = spawn(AGENTRUN, args, { env: cronEnv(sb, env), stdio: ['ignore', 'pipe', 'pipe'] });
  sb.track(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  return { child, done };
}

/** The agent as agentkeep leaves it: socket `H-agent.sock` in the key directory and `H-sh` naming it. */
export function setupAgent(sb: Sandbox): { sock: string; pid: number } {
  mkdirSync(sb.keydir, { recursive: true, mode: 0o700 });
  chmodSync(sb.keydir, 0o700);
  const agent = sb.startAgent(join(sb.keydir, `${HOST}-agent.sock`));
  writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${agent.sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${agent.pid}; export SSH_AGENT_PID;\n`, { mode: 0o600 });
  chmodSync(sb.file('sh'), 0o600);
  return agent;
}

/** Loads keys into the agent with the real ssh-add. */
export function sshAdd(sb: Sandbox, sock: string, ...keys: string[]): void {
  const out = spawnSync('ssh-add', keys, { env: { ...sb.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ssh-add failed: ${out.stderr}`);
}

/** Wipes every identity with the real ssh-add -D. */
export function sshAddWipe(sb: Sandbox, sock: string): void {
  const out = spawnSync('ssh-add', ['-D'], { env: { ...sb.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`ssh-add -D failed: ${out.stderr}`);
}

/** A shell command that proves the job ran by creating `marker`. */
export function touchJob(marker: string): string[] {
  return ['sh', '-c', 'echo ran > "$1"', 'job', marker];
}
