// Which way this process learns about other processes: Linux's /proc, or POSIX `ps` (macOS,
// the BSDs, and wherever /proc is missing). AGENTKEEP_PROC_BACKEND=ps forces `ps`, so that the
// tests prove on Linux the path that macOS and FreeBSD take.
import { existsSync } from 'node:fs';
import { readSettings } from '../settings.js';
import { procfsBackend } from './procfs.js';
import { psBackend } from './ps.js';

/** What agentkeep needs to know about one process. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its process group. */
  pgid: number;
  /** Its real uid (as `kill` permissions and agentkeep's ownership checks count it). */
  uid: number;
  /** The state letter: R, S, D, T, I… and Z (zombie) or X (dead), which run nothing. */
  state: string;
  /** The short command name (Linux comm, the BSDs' accounting name): `ssh-agent`, `dd`. */
  name: string;
}

/** A process's command line: the exact argv (/proc), or ps's text with the words joined by spaces. */
export type CommandLine = { argv: string[] } | { text: string };

/** One way of asking about processes. */
export interface ProcBackend {
  readonly name: 'proc' | 'ps';
  /** One process; undefined when there is none with that PID. */
  info(pid: number): ProcessInfo | undefined;
  /** Every process this user may see. */
  list(): ProcessInfo[];
  /** The command line of `pid`; undefined when it is gone or hidden. */
  commandLine(pid: number): CommandLine | undefined;
}

let detected: ProcBackend | undefined;
let selected: 'proc' | 'ps' | 'auto' | undefined;

/** Fixes the backend for this process from its Settings (cli/ does this once, where the Context is made). */
export function selectProcBackend(name: 'proc' | 'ps' | undefined): void {
  selected = name ?? 'auto';
}

/**
 * The backend to use: AGENTKEEP_PROC_BACKEND's choice (a test seam: `ps` on Linux tests the
 * macOS/BSD path), else /proc on Linux when it is mounted, else ps. Only Linux's /proc format is
 * read: FreeBSD's procfs, where mounted, differs. Library callers that made no Context (tests)
 * get the choice of `env`, else of this process's environment, read through Settings.
 */
export function procBackend(env?: NodeJS.ProcessEnv): ProcBackend {
  const choice = env === undefined && selected !== undefined ? selected : readSettings(env ?? process.env).procBackend ?? 'auto';
  if (choice === 'ps') return psBackend;
  if (choice === 'proc') return procfsBackend;
  detected ??= process.platform === 'linux' && existsSync('/proc/self/stat') ? procfsBackend : psBackend;
  return detected;
}

/** True for a process that runs nothing any more (a zombie waiting to be reaped, or dead). */
export function isGone(info: ProcessInfo): boolean {
  return info.state === 'Z' || info.state === 'X';
}
