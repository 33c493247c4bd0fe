// `agentrun`: argv → preflight (agent, keys) → lock → the job, with its exit status. The only
// place in agentrun that prints.
import { isatty } from 'node:tty';
import { asAgentkeepError, EXIT } from '../errors.js';
import { silentReporter, type Context } from '../context.js';
import { parseRunArgs, runHelp, type RunArgs } from '../run/args.js';
import { formatDuration } from '../options/values.js';
import { preflight, resolveRequired } from '../run/preflight.js';
import { defaultLockName, takeRunLock } from '../run/lock.js';
import { openRunLog, showCommand, type RunLog } from '../run/log.js';
import { runJob, type JobResult } from '../run/job.js';
import { Capture } from '../run/capture.js';
import { reportError, type Io } from './run-cli.js';
import { contextFor } from './caller-context.js';
import { VERSION } from '../version.js';
import { keyPath } from '../keys/resolve.js';
import { terminalReporter } from './reporter.js';
import { assertUtf8 } from '../utf8-check.js';
import { commandProblem, execable, needsSupervisor, planDescriptor, planExec, planSupervise } from '../run/exec-plan.js';

/** Writes a chunk of the job's output to our own stream; a promise while that stream is full (backpressure). */
function passThrough(out: NodeJS.WriteStream, chunk: Buffer): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => { out.off('drain', done); out.off('close', done); out.off('error', done); resolve(); };
    out.once('drain', done).once('close', done).once('error', done);
  });
}

function describeEnd(result: JobResult, args: RunArgs): string {
  switch (result.kind) {
    case 'exited': return `exit status ${result.code}`;
    case 'signaled': return `killed by ${result.signal} (exit status ${result.status})`;
    case 'timedout': return `timed out after ${formatDuration(args.timeoutMs ?? 0)} and was stopped (exit status ${result.status})`;
    case 'not-run': return `not started: ${result.reason} (exit status ${result.status})`;
  }
}

/** Runs the job once preflight and the lock allow it; returns agentrun's exit status. */
async function runWithAgent(args: RunArgs, io: Io, log: RunLog | undefined): Promise<number> {
  const ctx = contextFor(args, io, silentReporter);
  if (args.ephemeral.length > 0) return runWithEphemeralAgent(ctx, args, io, log);
  const required = resolveRequired(args.require, ctx.home);
  const agent = await preflight(ctx, args, required);
  return runLocked(ctx, args, io, log, { sock: agent.sock, pid: agent.pid });
}

/** `--ephemeral`: a private agent with just these keys, stopped on every way out. */
async function runWithEphemeralAgent(ctx: Context, args: RunArgs, io: Io, log: RunLog | undefined): Promise<number> {
  const { withEphemeralAgent, keyringPassphrases } = await import('../ephemeral/index.js');
  const report = terminalReporter({ quiet: true, debug: false, color: false, write: io.stderr });
  return withEphemeralAgent({
    keys: args.ephemeral.map((k) => keyPath(k, ctx.home)), env: io.env, askpass: args.askpass,
    passphrases: keyringPassphrases(ctx.env, ctx.settings), report,
  }, (agent) => runLocked(ctx, args, io, log, { sock: agent.sock, pid: agent.pid }));
}

/** Takes the --lock (if any) and runs the job with the given agent. */
async function runLocked(ctx: Context, args: RunArgs, io: Io, log: RunLog | undefined, agent: { sock: string; pid: number | undefined }): Promise<number> {
  const lock = args.lock === undefined ? undefined
    : await takeRunLock(ctx.paths.keydir, ctx.uid, args.lock === true ? defaultLockName(args.command) : args.lock, args.lockWaitMs);
  try {
    const env: NodeJS.ProcessEnv = { ...io.env, SSH_AUTH_SOCK: agent.sock };
    if (agent.pid !== undefined) env.SSH_AGENT_PID = String(agent.pid);
    else delete env.SSH_AGENT_PID;
    const capture = args.quiet ? new Capture() : undefined;
    const piped = log !== undefined || capture !== undefined;
    log?.line(`start: ${showCommand(args.command)}`);
    const started = Date.now();
    const result = await runJob({
      argv: args.command, env, timeoutMs: args.timeoutMs, killAfterMs: args.killAfterMs,
      // Own session and process group (setsid) so --timeout reaches grandchildren; but a job at
      // a terminal without --timeout stays in ours, keeping the terminal (ssh can still ask).
      newGroup: args.timeoutMs !== undefined || !isatty(0),
      onStart: (pid, ownGroup) => lock?.recordJob(ownGroup ? { pgid: pid } : { pid }),
      output: piped ? (stream, chunk) => {
        log?.output(stream, chunk);
        if (capture) return capture.add(stream, chunk);
        return passThrough(process[stream], chunk);
      } : undefined,
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    log?.line(`end: ${describeEnd(result, args)} after ${seconds} s`);
    const failed = result.status !== 0;
    if (capture && failed) capture.replay((stream, chunk) => process[stream].write(chunk));
    const logLost = log?.failure() !== undefined ? ` (the log ${log!.path} stopped at ${log!.failure()})` : '';
    if (result.kind === 'not-run') io.stderr(`agentrun: ${result.reason}\n`);
    else if (result.kind === 'timedout' || (capture && failed) || logLost) io.stderr(`agentrun: ${showCommand(args.command)}: ${describeEnd(result, args)}${logLost}\n`);
    return result.status;
  } finally {
    await lock?.release();
  }
}

/**
 * For the launcher: the same preflight, then a plan instead of a run. A plain job is exec'd by
 * the launcher in agentrun's place; a job whose options need a supervisor is handed back.
 */
async function planForLauncher(args: RunArgs, io: Io, planFd: number): Promise<number> {
  if (needsSupervisor(args)) {
    planSupervise(planFd);
    return EXIT.ok;
  }
  const ctx = contextFor(args, io, silentReporter);
  const agent = await preflight(ctx, args, resolveRequired(args.require, ctx.home));
  const command = args.command[0]!;
  if (!execable(command, agent.sock, agent.pid)) {
    planSupervise(planFd);
    return EXIT.ok;
  }
  // A name Node could not decode is left to the shell's own lookup, which sees its real bytes.
  const problem = command.includes('\uFFFD') ? undefined : commandProblem(command, io.env);
  if (problem?.kind === 'not-run') {
    io.stderr(`agentrun: ${problem.reason}\n`);
    return problem.status;
  }
  planExec(planFd, io.argv.length - args.command.length, agent.sock, agent.pid);
  return EXIT.ok;
}

/** Runs `agentrun` with the given Io and returns the exit status. */
export async function agentrunMain(io: Io): Promise<number> {
  const planFd = planDescriptor(io.env);
  let args: RunArgs;
  try {
    const parsed = parseRunArgs(io.argv);
    if (parsed.kind === 'help') { io.stdout(runHelp()); return EXIT.ok; }
    if (parsed.kind === 'version') { io.stdout(`${VERSION}\n`); return EXIT.ok; }
    args = parsed.args;
    const optionWords = io.argv.length - args.command.length;
    io.argv.slice(0, optionWords).forEach((word, i) => assertUtf8(word, `option word ${i + 1}`));
    // A job that replaces agentrun gets its words byte for byte from the launcher; one that Node
    // starts would get them as Node decoded them.
    if (planFd === undefined || needsSupervisor(args)) args.command.forEach((word, i) => assertUtf8(word, `word ${i + 1} of the command (with a supervisor option, Node starts the job)`));
  } catch (error) {
    return reportError('agentrun', error, io);
  }
  if (planFd !== undefined) {
    try {
      return await planForLauncher(args, io, planFd);
    } catch (error) {
      return reportError('agentrun', error, io);
    }
  }
  let log: RunLog | undefined;
  try {
    if (args.log !== undefined) log = openRunLog(args.log, process.getuid?.() ?? 0, process.cwd(), (message) => io.stderr(`agentrun: ${message}\n`));
    return await runWithAgent(args, io, log);
  } catch (error) {
    const status = reportError('agentrun', error, io);
    log?.line(`not started: ${showCommand(args.command)}: ${asAgentkeepError(error).message} (exit status ${status})`);
    return status;
  } finally {
    log?.close();
  }
}
