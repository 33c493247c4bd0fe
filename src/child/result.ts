// What running a child gave, the same shape from the async and the sync runner.
import type { SpawnFailure } from './spawn-error.js';

/** How a child ended and what it wrote. */
export interface ChildResult {
  /** Its exit code; null when a signal ended it or it never ran. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The shell's number for it: the code, 128 + N for signal N, 127 not found, 126 not executable. */
  status: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived, when asked for (`all`); else ''. */
  all: string;
  /** We killed it at the deadline. */
  timedOut: boolean;
  /** It never ran (ENOENT, EACCES), or its output passed maxBuffer and we killed it. */
  error: SpawnFailure | undefined;
}

/** Captured output per stream unless the caller says otherwise. */
export const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;
