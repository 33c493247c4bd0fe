// Runs the job: spawn with the agent's environment, forward signals, enforce --timeout on the
// whole process group, and turn what happened into an exit status.
// newGroup spawns with `detached: true`, which is setsid(): a new SESSION as well as a new
// process group. Signals to the group then reach grandchildren, and nothing at a terminal can
// stop the job; the price is that the job has no controlling terminal, so /dev/tty cannot be
// opened (ssh cannot ask about an unknown host key or for a password).
// It keeps its own spawn (streamed output with backpressure, signal forwarding, onStart); the
// group kill and the 128 + N status are child/'s, shared with every other child agentkeep runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { reapGroup, signalChild as sendTo } from '../child/kill-group.js';
import { signalStatus } from '../child/status.js';
import { EXIT } from '../errors.js';
import { setLongTimeout, type LongTimeout } from '../long-timeout.js';
import { openSignalScope } from '../signal-scope.js';

/** The 128 + N status of a signalled job (child/status.ts), where the job's other statuses are. */
export { signalStatus };

/** The job: argv, environment, limits, process group, and where its output goes. */
export interface JobSpec {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Own session and process group (setsid), so that --timeout and forwarded signals reach grandchildren; no controlling terminal. */
  newGroup: boolean;
  timeoutMs?: number | undefined;
  killAfterMs: number;
  /**
   * Receives the job's stdout/stderr; undefined passes the streams straight through. Returning
   * a promise pauses that stream until it settles, so a slow reader slows the job instead of
   * filling our memory.
   */
  output?: ((stream: 'stdout' | 'stderr', chunk: Buffer) => void | Promise<void>) | undefined;
  /** Told the job's PID once it runs, and whether it leads its own process group. */
  onStart?: ((pid: number, ownGroup: boolean) => void) | undefined;
}

/** How the job ended and the exit status agentrun reports for it. */
export type JobResult =
  | { kind: 'exited'; code: number; status: number }
  | { kind: 'signaled'; signal: NodeJS.Signals; status: number }
  | { kind: 'timedout'; status: number }
  | { kind: 'not-run'; status: number; reason: string };

/** The refusal of a command that could not be started (ENOENT: 127, anything else: 126), with the words both run paths use. */
export function notRun(error: { code?: string | undefined; message?: string }, command: string, env: NodeJS.ProcessEnv): JobResult {
  if (error.code === 'ENOENT') {
    const where = command.includes('/') ? '' : ` on PATH=${env.PATH ?? '(unset)'}`;
    return { kind: 'not-run', status: EXIT.notFound, reason: `${command}: command not found${where}` };
  }
  const why = error.code === 'EACCES' ? 'permission denied (not executable, or a directory)' : `${error.code ?? error.message ?? 'unknown error'}`;
  return { kind: 'not-run', status: EXIT.notExecutable, reason: `${command}: cannot execute: ${why}` };
}

/** Runs the job to its end (including the grace period after a timeout) and reports how it ended. */
export function runJob(spec: JobSpec): Promise<JobResult> {
  const [command, ...rest] = spec.argv as [string, ...string[]];
  return new Promise((resolve) => {
    // The scope opens before the spawn: the job may be running (and someone may signal us)
    // before spawn() returns, and a signal without a handler would kill us and orphan the job.
    // JavaScript handlers run only after this synchronous block, when child.pid is known. While
    // the job runs, the signals are the job's: an enclosing scope (the private agent) waits.
    const closeScope = openSignalScope((signal) => { if (child.pid !== undefined) sendTo(child.pid, spec.newGroup, signal); });
    let child: ChildProcess;
    try {
      child = spawnJob(spec, command, rest);
    } catch (error) {
      closeScope();
      resolve(notRun(error as NodeJS.ErrnoException, command, spec.env));
      return;
    }
    if (child.pid !== undefined) spec.onStart?.(child.pid, spec.newGroup);
    watchJob({
      spec, command, child, closeScope, resolve,
      timedOut: false, killAt: Infinity, timer: undefined, killTimer: undefined,
      streamsOpen: spec.output ? 2 : 0, ended: undefined,
    });
  });
}

/** A started job and what its watchers share until its result is out. */
interface RunningJob {
  spec: JobSpec;
  command: string;
  child: ChildProcess;
  closeScope: () => void;
  resolve: (result: JobResult) => void;
  /** Set when --timeout fired; the SIGKILL follows at `killAt`. */
  timedOut: boolean;
  killAt: number;
  timer: LongTimeout | undefined;
  killTimer: LongTimeout | undefined;
  /** Output pipes still open; -1 once the result is out. */
  streamsOpen: number;
  /** How the job ended, waiting for its pipes to close. */
  ended: JobResult | undefined;
}

/** Spawns the job, in its own session and process group when `spec.newGroup` (setsid). */
function spawnJob(spec: JobSpec, command: string, args: string[]): ChildProcess {
  return spawn(command, args, {
    env: spec.env,
    stdio: ['inherit', spec.output ? 'pipe' : 'inherit', spec.output ? 'pipe' : 'inherit'],
    detached: spec.newGroup,
  });
}

/** Arms the timeout, passes the output on, and settles the result once the job has ended. */
function watchJob(job: RunningJob): void {
  armTimeout(job);
  if (job.spec.output) {
    for (const name of ['stdout', 'stderr'] as const) passOutput(job, name, job.spec.output);
  }
  job.child.on('error', (error: NodeJS.ErrnoException) => {
    if (job.child.pid !== undefined) return; // errors after a successful spawn (e.g. a failed kill) change nothing
    job.streamsOpen = 0;
    job.ended = notRun(error, job.command, job.spec.env);
    settle(job);
  });
  job.child.on('exit', (code, signal) => {
    const pid = job.child.pid!;
    const done = (): void => recordEnd(job, code, signal);
    if (job.timedOut && job.spec.newGroup) void reapGroup(pid, job.killAt).then(done);
    else done();
  });
}

/** With --timeout: SIGTERM to the job (its group with newGroup) at the deadline, SIGKILL `killAfterMs` later. */
function armTimeout(job: RunningJob): void {
  const { spec, child } = job;
  if (spec.timeoutMs === undefined) return;
  job.timer = setLongTimeout(() => {
    if (child.pid === undefined) return;
    job.timedOut = true;
    job.killAt = Date.now() + spec.killAfterMs;
    sendTo(child.pid, spec.newGroup, 'SIGTERM');
    job.killTimer = setLongTimeout(() => { if (child.pid !== undefined) sendTo(child.pid, spec.newGroup, 'SIGKILL'); }, spec.killAfterMs);
  }, spec.timeoutMs);
}

/** Passes one output stream to `output`, pausing it while `output` is busy (backpressure). */
function passOutput(job: RunningJob, name: 'stdout' | 'stderr', output: NonNullable<JobSpec['output']>): void {
  const stream = job.child[name]!;
  stream.on('data', (chunk: Buffer) => {
    const busy = output(name, chunk);
    if (busy) {
      stream.pause();
      void busy.finally(() => stream.resume());
    }
  });
  stream.on('close', () => { job.streamsOpen--; settle(job); });
}

/** Notes how the job ended and settles once its pipes are closed. */
function recordEnd(job: RunningJob, code: number | null, signal: NodeJS.Signals | null): void {
  job.ended = endedAs(job.timedOut, code, signal);
  // A background process may keep the pipes open after the job itself has exited.
  if (job.streamsOpen > 0) {
    setTimeout(() => {
      if (job.streamsOpen > 0) { job.child.stdout?.destroy(); job.child.stderr?.destroy(); job.streamsOpen = 0; settle(job); }
    }, 2000).unref();
  }
  settle(job);
}

/** The result of a job that exited: timed out, killed by a signal (128 + N), or its own exit code. */
function endedAs(timedOut: boolean, code: number | null, signal: NodeJS.Signals | null): JobResult {
  if (timedOut) return { kind: 'timedout', status: EXIT.timeout };
  if (signal) return { kind: 'signaled', signal, status: signalStatus(signal) };
  return { kind: 'exited', code: code ?? 0, status: code ?? 0 };
}

/** Once the job has ended and its pipes have closed: drops its signal scope and timers, then resolves its result (only once). */
function settle(job: RunningJob): void {
  if (!job.ended || job.streamsOpen > 0) return;
  const result = job.ended;
  job.ended = undefined;
  job.streamsOpen = -1;
  job.closeScope();
  job.timer?.clear();
  job.killTimer?.clear();
  job.resolve(result);
}
