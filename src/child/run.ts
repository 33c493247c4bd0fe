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

/** One spawned child and what its handlers share: the captured output, and how it was stopped. */
interface ChildState {
  command: string;
  child: ChildProcess;
  pid: number | undefined;
  /** Spawned in its own session and process group (newGroup). */
  group: boolean;
  maxBuffer: number;
  out: { stdout: string; stderr: string; all: string };
  timedOut: boolean;
  /** A stream passed maxBuffer, so the child was killed. */
  overflow: boolean;
  timer: LongTimeout | undefined;
  killTimer: LongTimeout | undefined;
  /** When the deadline's SIGKILL falls due; Infinity while none is scheduled. */
  killAt: number;
}

/** Starts `command` with `args`; throws only what spawn() itself throws (an invalid argument). */
export function startChild(command: string, args: readonly string[], opts: ChildOptions = {}): RunningChild {
  const group = opts.newGroup ?? false;
  const child = spawn(command, args, { env: opts.env ?? process.env, stdio: opts.stdio ?? defaultStdio(opts), detached: group });
  const state: ChildState = {
    command, child, pid: child.pid, group, maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER, out: { stdout: '', stderr: '', all: '' },
    timedOut: false, overflow: false, timer: undefined, killTimer: undefined, killAt: Infinity,
  };
  captureOutput(state, opts);
  if (opts.input !== undefined) feedInput(child, opts.inputFd ?? 0, opts.input);
  if (opts.timeoutMs !== undefined && state.pid !== undefined) armDeadline(state, state.pid, opts.timeoutMs, opts);
  const result = settle(state);
  const output = () => ({ stdout: state.out.stdout, stderr: state.out.stderr });
  return { child, pid: state.pid, running: () => isRunning(state), kill: (signal) => killIfRunning(state, signal), output, result };
}

/** stdin a pipe when there is input for fd 0, else ignored; stdout and stderr piped (captured). */
function defaultStdio(opts: ChildOptions): StdioOptions {
  const inputFd = opts.inputFd ?? 0;
  return [opts.input !== undefined && inputFd === 0 ? 'pipe' : 'ignore', 'pipe', 'pipe'];
}

/** Not yet reaped, so its pid is still this child's. */
function isRunning(state: ChildState): boolean {
  return state.pid !== undefined && state.child.exitCode === null && state.child.signalCode === null;
}

/** Sends `signal` to a running child, or to its group when it has one. */
function killIfRunning(state: ChildState, signal: NodeJS.Signals): void {
  if (isRunning(state)) signalChild(state.pid!, state.group, signal);
}

/** Collects stdout and stderr (and with `all`, both interleaved); a stream past maxBuffer stops growing and the child is killed. */
function captureOutput(state: ChildState, opts: ChildOptions): void {
  for (const name of ['stdout', 'stderr'] as const) {
    state.child[name]?.setEncoding('utf8').on('data', (d: string) => {
      if (state.out[name].length + d.length > state.maxBuffer) {
        if (!state.overflow) { state.overflow = true; killIfRunning(state, 'SIGKILL'); }
        return;
      }
      state.out[name] += d;
      if (opts.all) state.out.all += d;
    });
  }
}

/** Writes `input` to the child's descriptor `inputFd` and closes it. */
function feedInput(child: ChildProcess, inputFd: number, input: string | Buffer): void {
  const sink = child.stdio[inputFd] as Writable | null | undefined;
  sink?.on('error', () => { /* the child exited without reading: its status says why */ });
  sink?.end(input);
}

/** After `timeoutMs`, marks the child timed out and stops it: `terminate`, or `killSignal` and later SIGKILL. */
function armDeadline(state: ChildState, pid: number, timeoutMs: number, opts: ChildOptions): void {
  state.timer = setLongTimeout(() => {
    if (!isRunning(state)) return;
    state.timedOut = true;
    if (opts.terminate) return opts.terminate(pid);
    const signal = opts.killSignal ?? 'SIGTERM';
    killIfRunning(state, signal);
    if (signal === 'SIGKILL') return;
    const after = opts.killAfterMs ?? 2000;
    state.killAt = Date.now() + after;
    state.killTimer = setLongTimeout(() => killIfRunning(state, 'SIGKILL'), after);
  }, timeoutMs);
}

/** The child's result, once it has closed (after a timed-out group's stragglers are reaped), or could not start. */
function settle(state: ChildState): Promise<ChildResult> {
  return new Promise<ChildResult>((resolve) => {
    let reaped: Promise<void> = Promise.resolve();
    const finish = (code: number | null, signal: NodeJS.Signals | null, error: ChildResult['error']): void => {
      state.timer?.clear();
      state.killTimer?.clear();
      resolve({ code, signal, status: exitStatus(code, signal, error), ...state.out, timedOut: state.timedOut, error });
    };
    state.child.on('error', (error) => {
      // After a successful spawn, an error (a failed kill) changes nothing; 'close' still comes.
      if (state.pid === undefined) finish(null, null, spawnFailure(state.command, error));
    });
    // A timed-out group may outlive its leader: the rest gets until killAt, then SIGKILL.
    state.child.on('exit', () => { if (state.timedOut && state.group && state.pid !== undefined) reaped = reapGroup(state.pid, state.killAt === Infinity ? Date.now() : state.killAt); });
    state.child.on('close', (code, signal) => {
      if (state.pid === undefined) return;
      const error = overflowError(state);
      void reaped.then(() => finish(code, signal, error));
    });
  });
}

/** The error of a child killed for writing more than maxBuffer; undefined when it did not. */
function overflowError(state: ChildState): ChildResult['error'] {
  if (!state.overflow) return undefined;
  const reason = `more than ${state.maxBuffer} characters of output`;
  return { code: 'ENOBUFS', reason, message: `${state.command} was stopped: ${reason}` };
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
