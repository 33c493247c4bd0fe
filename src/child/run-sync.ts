// Running a short-lived child synchronously, for the callers that cannot wait on a promise
// (doctor's account lookups, the ps backend, restoring a terminal). Same result as runChild.
import { spawnSync } from 'node:child_process';
import { DEFAULT_MAX_BUFFER, type ChildResult } from './result.js';
import { spawnFailure } from './spawn-error.js';
import { exitStatus } from './status.js';
import type { ChildOptions } from './run.js';

/** How to run one child synchronously: runChild's options that a blocking run can honour. */
export interface SyncChildOptions extends Pick<ChildOptions, 'env' | 'stdio' | 'maxBuffer'> {
  /** Written to stdin, which is then closed. */
  input?: string | Buffer | undefined;
  /** SIGKILL after this long. Only the child itself: a sync run cannot reach its group. */
  timeoutMs?: number | undefined;
}

/** Runs `command` with `args` to its end, blocking; a command that cannot start is a result, never a throw. */
export function runChildSync(command: string, args: readonly string[], opts: SyncChildOptions = {}): ChildResult {
  const r = spawnSync(command, args, {
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER,
    ...(opts.input !== undefined && { input: opts.input }),
    ...(opts.timeoutMs !== undefined && { timeout: opts.timeoutMs, killSignal: 'SIGKILL' as const }),
  });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  const timedOut = code === 'ETIMEDOUT';
  // spawnSync reports a child it killed (deadline, maxBuffer) with an error too, though it ran.
  const ran = r.pid !== 0 && r.pid !== undefined;
  const maxBuffer = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const reason = code === 'ENOBUFS' ? `more than ${maxBuffer} bytes of output` : r.error?.message ?? '';
  const error = r.error === undefined || timedOut ? undefined
    : ran ? { code: code ?? 'EUNKNOWN', reason, message: `${command} was stopped: ${reason}` }
      : spawnFailure(command, r.error);
  return {
    code: r.status, signal: r.signal, status: exitStatus(r.status, r.signal, ran ? undefined : error),
    stdout: r.stdout ?? '', stderr: r.stderr ?? '', all: '', timedOut, error,
  };
}
