// Running a short-lived child: spawn, feed it input, capture its output, and at a deadline kill it
// (or, spawned in its own group, every process it started). The supervisor (run/job.ts) streams a
// job's output with backpressure instead, and shares only kill-group.ts and status.ts.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Writable } from 'node:stream';
import { setLongTimeout, type LongTimeout } from '../long-timeout.js';
import { reapGroup, signalChild } from './kill-group.js';
import { DEFAULT_MAX_BUFFER, type ChildResult } from './result.js';
import { spawnFailure } from './spawn-error.js';
import { exitStatus } from './status.js';

/** How to run one child. */
export interface ChildOptions {
  env?: NodeJS.ProcessEnv | undefined;
  /** Default: stdin 'pipe' when there is input for fd 0, else 'ignore'; stdout and stderr 'pipe' (captured). */
  stdio?: StdioOptions | undefined;
  /** Written to the child's `inputFd` (a pipe), which is then closed. */
  input?: string | Buffer | undefined;
  /** The descriptor `input` goes to; default 0. Any other must be a 'pipe' in `stdio`. */
  inputFd?: number | undefined;
  /** Kill it after this long (any length: long timers are chained). None: wait as long as it takes. */
  timeoutMs?: number | undefined;
  /** The signal sent at the deadline; default SIGTERM. */
  killSignal?: NodeJS.Signals | undefined;
  /** After `killSignal`, SIGKILL once this much longer has passed; default 2000 ms. */
  killAfterMs?: number | undefined;
  /** Own session and process group (setsid), so the deadline's signals reach grandchildren too. */
  newGroup?: boolean | undefined;
  /** Replaces the deadline's signals: for a child kept in our group, whose descendants the caller finds itself. */
  terminate?: ((pid: number) => void) | undefined;
  /** Captured characters per stream; past it the child is killed and `error` says so. Default 16 MiB. */
  maxBuffer?: number | undefined;
  /** Also keep stdout and stderr interleaved in `all`. */
  all?: boolean | undefined;
}

/** A child that is running, and the promise of its result. */
export interface RunningChild {
  /** The process itself, for a caller that drives a stream (a stdin held open, a first line read early). */
  child: ChildProcess;
  /** Undefined when it could not be started; `result` then says why. */
  pid: number | undefined;
  /** Not yet reaped, so `pid` is still this child's. */
  running(): boolean;
  /** Sends `signal` to the child, or to its group when it has one. */
  kill(signal: NodeJS.Signals): void;
  /** What it has written so far to the captured streams. */
  output(): { stdout: string; stderr: string };
  /** Settles (never rejects) when the child has exited and its output streams have closed. */
  result: Promise<ChildResult>;
}

/** Starts `command` with `args`; throws only what spawn() itself throws (an invalid argument). */
export function startChild(command: string, args: readonly string[], opts: ChildOptions = {}): RunningChild {
  const inputFd = opts.inputFd ?? 0;
  const stdio = opts.stdio ?? [opts.input !== undefined && inputFd === 0 ? 'pipe' : 'ignore', 'pipe', 'pipe'];
  const group = opts.newGroup ?? false;
  const child = spawn(command, args, { env: opts.env ?? process.env, stdio, detached: group });
  const pid = child.pid;
  const running = (): boolean => pid !== undefined && child.exitCode === null && child.signalCode === null;
  const kill = (signal: NodeJS.Signals): void => { if (running()) signalChild(pid!, group, signal); };
  const maxBuffer = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const out = { stdout: '', stderr: '', all: '' };
  let timedOut = false;
  let overflow = false;
  let timer: LongTimeout | undefined;
  let killTimer: LongTimeout | undefined;
  let killAt = Infinity;

  for (const name of ['stdout', 'stderr'] as const) {
    child[name]?.setEncoding('utf8').on('data', (d: string) => {
      if (out[name].length + d.length > maxBuffer) {
        if (!overflow) { overflow = true; kill('SIGKILL'); }
        return;
      }
      out[name] += d;
      if (opts.all) out.all += d;
    });
  }
  if (opts.input !== undefined) {
    const sink = child.stdio[inputFd] as Writable | null | undefined;
    sink?.on('error', () => { /* the child exited without reading: its status says why */ });
    sink?.end(opts.input);
  }
  if (opts.timeoutMs !== undefined && pid !== undefined) {
    timer = setLongTimeout(() => {
      if (!running()) return;
      timedOut = true;
      if (opts.terminate) return opts.terminate(pid);
      const signal = opts.killSignal ?? 'SIGTERM';
      kill(signal);
      if (signal === 'SIGKILL') return;
      const after = opts.killAfterMs ?? 2000;
      killAt = Date.now() + after;
      killTimer = setLongTimeout(() => kill('SIGKILL'), after);
    }, opts.timeoutMs);
  }

  const result = new Promise<ChildResult>((resolve) => {
    let reaped: Promise<void> = Promise.resolve();
    const finish = (code: number | null, signal: NodeJS.Signals | null, error: ChildResult['error']): void => {
      timer?.clear();
      killTimer?.clear();
      resolve({ code, signal, status: exitStatus(code, signal, error), ...out, timedOut, error });
    };
    child.on('error', (error) => {
      // After a successful spawn, an error (a failed kill) changes nothing; 'close' still comes.
      if (pid === undefined) finish(null, null, spawnFailure(command, error));
    });
    // A timed-out group may outlive its leader: the rest gets until killAt, then SIGKILL.
    child.on('exit', () => { if (timedOut && group && pid !== undefined) reaped = reapGroup(pid, killAt === Infinity ? Date.now() : killAt); });
    child.on('close', (code, signal) => {
      if (pid === undefined) return;
      const reason = `more than ${maxBuffer} characters of output`;
      const error = overflow ? { code: 'ENOBUFS', reason, message: `${command} was stopped: ${reason}` } : undefined;
      void reaped.then(() => finish(code, signal, error));
    });
  });
  return { child, pid, running, kill, output: () => ({ stdout: out.stdout, stderr: out.stderr }), result };
}

/** Runs `command` to its end and gives its result; a command that cannot start is a result too, never a throw. */
export function runChild(command: string, args: readonly string[], opts: ChildOptions = {}): Promise<ChildResult> {
  try {
    return startChild(command, args, opts).result;
  } catch (error) {
    const failure = spawnFailure(command, error);
    return Promise.resolve({ code: null, signal: null, status: exitStatus(null, null, failure), stdout: '', stderr: '', all: '', timedOut: false, error: failure });
  }
}
