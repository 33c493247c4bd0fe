// A private world for one test: its own HOME under a fresh temp dir, a clean environment with
// no SSH_AUTH_SOCK/SSH_AGENT_PID, and cleanup that kills only the agents this sandbox started.
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, realpathSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { EnvFlavour } from '../../src/shells/flavours.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const AGENTKEEP = join(ROOT, 'dist/agentkeep.cjs');
/** The installed agentrun bin: the sh launcher, which runs the Node preflight and then exec's the job. */
export const AGENTRUN = join(ROOT, 'dist/agentrun');
/** agentrun's Node entry on its own: the supervisor, and the preflight the launcher asks for a plan. */
export const AGENTRUN_NODE = join(ROOT, 'dist/agentrun.cjs');
export const SHELL_DIR = join(ROOT, 'shell');
export const HOST = hostname();

/** `env` with the running node's directory on PATH (appended when missing): the agentrun launcher runs `node` from PATH, as cron's PATH must provide it. */
export function withNode(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const nodeDir = dirname(process.execPath);
  const path = env.PATH ?? '';
  return path.split(delimiter).includes(nodeDir) ? env : { ...env, PATH: path === '' ? nodeDir : `${path}${delimiter}${nodeDir}` };
}

/** The process backends (src/proc) that backend-sensitive tests run under: Linux's /proc, and ps as on macOS and the BSDs. */
export const PROC_BACKENDS = ['proc', 'ps'] as const;

/** The environment that makes agentkeep, agentrun and the sh hook use `backend`. */
export function backendEnv(backend: (typeof PROC_BACKENDS)[number]): NodeJS.ProcessEnv {
  return { AGENTKEEP_PROC_BACKEND: backend };
}

/** What a finished process did. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** Runs a program to completion, capturing its output; never inherits the test's stdio. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? {}, cwd: opts.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** One test's private HOME, environment and agents. */
export class Sandbox {
  readonly dir: string;
  readonly home: string;
  readonly keydir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Tracked PIDs with their start time, so that cleanup never kills a later process that reused the PID. */
  private readonly pids = new Map<number, string | undefined>();

  constructor(prefix = 'ak-') {
    // realpath: /tmp may be a symlink on some systems, and socket paths are compared as strings.
    this.dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    this.home = join(this.dir, 'home');
    mkdirSync(join(this.home, '.ssh'), { recursive: true, mode: 0o700 });
    this.keydir = join(this.home, '.keychain');
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      USER: process.env.USER ?? 'root',
      LOGNAME: process.env.LOGNAME ?? process.env.USER ?? 'root',
      SHELL: '/bin/sh',
      LANG: 'C',
    };
  }

  /** The env file of the given flavour for this host. */
  file(flavour: EnvFlavour): string {
    return join(this.keydir, `${HOST}-${flavour}`);
  }

  /** Runs agentkeep in this sandbox. */
  agentkeep(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(process.execPath, [AGENTKEEP, ...args], { ...opts, env: { ...this.env, ...opts.env } });
  }

  /** Runs agentrun in this sandbox. */
  agentrun(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(AGENTRUN, args, { ...opts, env: withNode({ ...this.env, ...opts.env }) });
  }

  /** Records a PID this test started, so cleanup can kill it. */
  track(pid: number): void {
    this.pids.set(pid, startTimeOf(pid));
  }

  /** Starts a plain ssh-agent at `sock` (outside agentkeep), tracked for cleanup. */
  startAgent(sock: string): { sock: string; pid: number } {
    const out = spawnSync('ssh-agent', ['-s', '-a', sock], { env: this.env, encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out.stdout)?.[1]);
    if (!pid) throw new Error(`ssh-agent failed: ${out.stderr}`);
    this.track(pid);
    untilAgentCatchesSigterm(pid);
    return { sock, pid };
  }

  /** Generates a key in ~/.ssh (ed25519 unless told otherwise). */
  keygen(name: string, opts: { passphrase?: string; type?: 'ed25519' | 'rsa' | 'ecdsa'; bits?: number } = {}): string {
    const path = join(this.home, '.ssh', name);
    const args = ['-q', '-t', opts.type ?? 'ed25519', '-N', opts.passphrase ?? '', '-C', name, '-f', path];
    if (opts.bits) args.push('-b', String(opts.bits));
    const out = spawnSync('ssh-keygen', args, { env: this.env, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`ssh-keygen failed: ${out.stderr}`);
    return path;
  }

  /** PIDs of ssh-agents whose command line names a path inside this sandbox. */
  sandboxAgents(): number[] {
    const pids: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const comm = readFileSync(`/proc/${name}/comm`, 'utf8').trim();
        const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
        if (comm === 'ssh-agent' && cmdline.includes(this.dir)) pids.push(Number(name));
      } catch { /* exited */ }
    }
    return pids;
  }

  /** Kills what this sandbox started (by PID) and removes its directory. */
  cleanup(): void {
    const mine = [...this.pids].filter(([pid, started]) => started !== undefined && startTimeOf(pid) === started).map(([pid]) => pid);
    for (const pid of new Set([...mine, ...this.sandboxAgents()])) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A process's start time (field 22 of /proc/PID/stat), telling it apart from a later one with the same PID. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Parses `KEY=value; export KEY;` output of --eval (sh flavour) into a map. */
export function parseShEval(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^(\w+)=(.*?); export \1;$/gm)) out[m[1]!] = m[2]!;
  return out;
}

/** Waits until `check` is true or `ms` passes. */
export async function waitFor(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/**
 * `ssh-agent -s` prints the PID before the forked agent installs its SIGTERM handler; a TERM sent in
 * that window kills it without removing its socket. Call this before a test may signal the agent.
 */
export function untilAgentCatchesSigterm(pid: number, ms = 5000): void {
  const deadline = Date.now() + ms;
  while (!catchesSigterm(pid) && Date.now() < deadline) spawnSync('sleep', ['0.01']);
}

/** True when the process has a handler for SIGTERM (signal 15: bit 14 of SigCgt in /proc/PID/status). */
function catchesSigterm(pid: number): boolean {
  try {
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return caught !== undefined && (BigInt(`0x${caught}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

/** True when the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}
