// Running ssh-add: once for all missing keys, prompting on the terminal or through the user's
// askpass (both behind a shim that bounds retries), or fed a passphrase we hold through fd 3.
import type { StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivateDir, removePrivateDir, type PrivateDir } from '../private-dir.js';
import { runChild, startChild } from '../child/run.js';
import { runChildSync } from '../child/run-sync.js';
import type { ChildResult } from '../child/result.js';
import { AgentkeepError } from '../errors.js';
import { ASKPASS_TRIES } from './prompt.js';
import { shellFile } from './shell-dir.js';
import { childrenOf, processInfo, processTree } from '../proc/query.js';
import { readSettings } from '../settings.js';

/** A non-interactive ssh-add (fd 3) that has not finished by then is killed. */
const FD3_TIMEOUT_MS = 30_000;

/** One ssh-add run: the agent, the key files, how to prompt, and ssh-add's flags. */
export interface SshAddOptions {
  sock: string;
  paths: string[];
  /** 'none': the keys need no passphrase, and ssh-add must not find a way to ask for one. */
  prompt: { kind: 'terminal' } | { kind: 'askpass'; program: string } | { kind: 'none' };
  lifetimeSec?: number | undefined;
  confirm: boolean;
  quiet: boolean;
  env: NodeJS.ProcessEnv;
  /** Give up after this long: ssh-add and everything it started (the askpass) are killed. None: wait as long as it takes. */
  timeoutMs?: number | undefined;
  /** Ctrl-C ends the prompt, not agentkeep: ^C at our terminal prompt, or a SIGINT, stops ssh-add and is reported as `interrupted`. */
  catchInterrupt?: boolean | undefined;
}

/** How ssh-add ended; `timedOut` when we killed it at the deadline, `gaveUp` when a key used up its tries. */
export interface SshAddResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut?: boolean;
  gaveUp?: boolean;
  interrupted?: boolean;
}

function sshAddArgs(paths: string[], o: { lifetimeSec?: number | undefined; confirm?: boolean | undefined; quiet?: boolean | undefined }): string[] {
  const args: string[] = [];
  if (o.quiet) args.push('-q');
  if (o.confirm) args.push('-c');
  if (o.lifetimeSec !== undefined) args.push('-t', String(o.lifetimeSec));
  return [...args, '--', ...paths];
}

function baseEnv(env: NodeJS.ProcessEnv, sock: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, SSH_AUTH_SOCK: sock };
  delete out.AGENTKEEP_ASKPASS_PROGRAM;
  delete out.AGENTKEEP_ASKPASS_STATE;
  delete out.AGENTKEEP_ASKPASS_TRIES;
  delete out.AGENTKEEP_ASKPASS_PARENT;
  return out;
}

/** ssh-add's result, or the error for an ssh-add that could not be run. */
function ran(r: ChildResult): ChildResult {
  if (r.error?.code === 'ENOENT') throw new AgentkeepError('KEY_ADD', 'ssh-add is not in PATH', 'install the OpenSSH client');
  if (r.error && r.error.code !== 'ENOBUFS') throw new AgentkeepError('KEY_ADD', r.error.message);
  return r;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/**
 * Kills `root` and its descendants (ssh-add, the askpass shim, the user's program and whatever
 * that runs). ssh-add stays in our process group so a Ctrl-C still reaches it; we find its
 * children by their parent PID instead (src/proc: /proc or ps), stopping each one first so that
 * none forks or is re-parented (and so lost to us) before the SIGKILL.
 */
function killTree(root: number): void {
  const found = [root];
  signal(root, 'SIGSTOP');
  for (let round = 0; round < 5; round++) {
    let fresh: number[];
    try {
      fresh = childrenOf(found).filter((p) => !found.includes(p));
    } catch {
      break; // no process table to read (ps missing): kill what we have
    }
    if (fresh.length === 0) break;
    for (const pid of fresh) signal(pid, 'SIGSTOP');
    found.push(...fresh);
  }
  for (const pid of found) signal(pid, 'SIGKILL');
}

/** Runs one ssh-add for `paths`, prompting as chosen; its output goes to our stderr (stdout may be eval'ed). */
export async function runSshAdd(o: SshAddOptions): Promise<SshAddResult> {
  if (o.paths.length === 0) throw new AgentkeepError('KEY_ADD', 'internal: ssh-add called without key files');
  const env = baseEnv(o.env, o.sock);
  const stateDir = preparePrompt(o, env);
  const stdio: StdioOptions = ['ignore', 2, 2];
  let interrupts: InterruptCatcher | undefined;
  try {
    // At the deadline, ssh-add and everything it started are killed (killTree: it is not in a group of its own).
    const sshAdd = startChild('ssh-add', sshAddArgs(o.paths, o), { env, stdio, timeoutMs: o.timeoutMs, terminate: killTree });
    const { pid, running } = sshAdd;
    if (o.catchInterrupt && pid !== undefined) interrupts = catchInterrupt(pid, running);
    const r = ran(await sshAdd.result);
    return sshAddResult(r, interrupts?.interrupted ?? false, stateDir?.path);
  } finally {
    interrupts?.stop();
    if (stateDir) {
      await restoreTerminal(stateDir.path);
      removePrivateDir(stateDir, process.getuid?.() ?? 0);
    }
  }
}

/**
 * Sets `env` so that ssh-add prompts as chosen, or cannot prompt at all; returns the askpass
 * shim's state directory, which the caller removes, when there is a prompt.
 */
function preparePrompt(o: SshAddOptions, env: NodeJS.ProcessEnv): PrivateDir | undefined {
  if (o.prompt.kind === 'none') {
    Object.assign(env, { SSH_ASKPASS: 'false', SSH_ASKPASS_REQUIRE: 'force' });
    return undefined;
  }
  // ssh-add's own terminal prompt retries a wrong passphrase forever; our terminal reader
  // behind the same shim as the user's askpass gets ASKPASS_TRIES per key, like askpass does.
  // The state directory only counts wrong answers; it never holds a passphrase.
  const stateDir = makePrivateDir(readSettings(o.env), process.getuid?.() ?? 0, 'agentkeep-askpass-');
  Object.assign(env, {
    SSH_ASKPASS: shellFile('agentkeep-askpass'), SSH_ASKPASS_REQUIRE: 'force',
    AGENTKEEP_ASKPASS_PROGRAM: o.prompt.kind === 'terminal' ? shellFile('agentkeep-askpass-tty') : o.prompt.program,
    AGENTKEEP_ASKPASS_STATE: stateDir.path, AGENTKEEP_ASKPASS_TRIES: String(ASKPASS_TRIES), AGENTKEEP_ASKPASS_PARENT: String(process.pid),
  });
  return stateDir;
}

/** A SIGINT handler installed while ssh-add runs: whether one arrived, and how to take it away. */
interface InterruptCatcher {
  interrupted: boolean;
  stop: () => void;
}

/** Makes a SIGINT end ssh-add (pid) and what it started, rather than agentkeep, until `stop`. */
function catchInterrupt(pid: number, running: () => boolean): InterruptCatcher {
  let graceTimer: NodeJS.Timeout | undefined;
  // While our reader waits, ^C is read as a character (no signal; see agentkeep-askpass-tty).
  // A SIGINT still arrives when sent to agentkeep, or typed between two prompts: end ssh-add
  // and the reader then too. TERM first, so that the reader restores the terminal; KILL if
  // that did not end it.
  const onInterrupt = (): void => {
    catcher.interrupted = true;
    if (!running()) return;
    for (const p of processTree(pid).reverse()) signal(p, 'SIGTERM');
    graceTimer ??= setTimeout(() => { if (running()) killTree(pid); }, 2000);
  };
  const catcher: InterruptCatcher = {
    interrupted: false,
    stop: () => {
      clearTimeout(graceTimer);
      process.off('SIGINT', onInterrupt);
    },
  };
  process.on('SIGINT', onInterrupt);
  return catcher;
}

/** How ssh-add ended, with what the askpass shim left in `state` (a key out of tries, a cancelled prompt). */
function sshAddResult(r: ChildResult, interrupted: boolean, state: string | undefined): SshAddResult {
  const result: SshAddResult = { code: r.code, signal: r.signal };
  if (r.timedOut) result.timedOut = true;
  if (interrupted) result.interrupted = true;
  if (state && existsSync(join(state, 'gaveup'))) result.gaveUp = true;
  if (state && existsSync(join(state, 'cancelled'))) result.interrupted = true;
  return result;
}

/**
 * If the terminal reader was killed with echo off, waits briefly for it, then ends the read it
 * left behind (else that orphan would eat the next line typed) and puts back the settings it saved.
 */
async function restoreTerminal(state: string): Promise<void> {
  const saved = join(state, 'tty');
  for (let i = 0; i < 50 && existsSync(saved); i++) await new Promise((r) => setTimeout(r, 20));
  let settings: string;
  try { settings = readFileSync(saved, 'latin1').trim(); } catch { return; }
  try {
    const reader = Number(readFileSync(join(state, 'reader'), 'latin1').trim());
    // Only a dd of ours: the pid was written by the reader a moment ago, but check before killing.
    const info = reader > 1 ? processInfo(reader) : undefined;
    if (info?.name === 'dd' && info.uid === process.getuid?.()) signal(reader, 'SIGKILL');
  } catch { /* no reader recorded, or it is gone */ }
  // `stty -g` prints colon-separated hex numbers (GNU) or name=value pairs (BSD); nothing else is ours to pass on.
  if (!/^[0-9A-Za-z:=]+$/.test(settings)) return;
  let fd: number | undefined;
  try {
    fd = openSync('/dev/tty', 'r+');
    runChildSync('stty', [settings], { stdio: [fd, 'ignore', 'ignore'] });
  } catch { /* no terminal any more: nothing to restore */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** ssh-add's flags and environment when agentkeep supplies the passphrase. */
export interface PassphraseAddOptions {
  lifetimeSec?: number | undefined;
  confirm?: boolean | undefined;
  env: NodeJS.ProcessEnv;
}

/** Adds keys with a passphrase we hold, via a pipe on ssh-add's fd 3 (never argv/env/file); throws KEY_ADD on any failure, never loops. */
export async function addKeysWithPassphrase(sock: string, keyPaths: string[], passphrase: string | Buffer, opts: PassphraseAddOptions): Promise<void> {
  if (keyPaths.length === 0) throw new AgentkeepError('KEY_ADD', 'addKeysWithPassphrase needs at least one key file');
  const env = baseEnv(opts.env, sock);
  Object.assign(env, { SSH_ASKPASS: shellFile('agentkeep-askpass-fd3'), SSH_ASKPASS_REQUIRE: 'force' });
  delete env.DISPLAY;
  const result = ran(await runChild('ssh-add', sshAddArgs(keyPaths, { ...opts, quiet: true }), {
    env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], input: passphrase, inputFd: 3,
    timeoutMs: FD3_TIMEOUT_MS, killSignal: 'SIGKILL', all: true,
  }));
  if (result.code === 0) return;
  const what = result.signal ? `was killed (${result.signal})` : `exited with status ${result.code}`;
  const detail = result.all.trim().split('\n').filter((l) => l !== '').join('; ');
  throw new AgentkeepError('KEY_ADD', `ssh-add ${what} adding ${keyPaths.join(', ')}${detail ? `: ${detail}` : ''}`,
    'check the passphrase; keys that share one are added together, a key with a different passphrase needs its own call');
}
