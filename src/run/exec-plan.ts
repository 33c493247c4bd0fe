// The plan the installed `agentrun` launcher (src/cli/agentrun.sh) carries out after the Node
// preflight: exec the job in agentrun's place, or run the Node bin as the job's supervisor.
// The plan is data on a descriptor the launcher reads; it is never evaluated as shell code.
import { writeSync } from 'node:fs';
import { executableByUs, lookupCommand, type Execability } from '../path-lookup.js';
import type { RunArgs } from './args.js';
import { notRun, type JobResult } from './job.js';

/** The environment variable through which the launcher hands the preflight its plan descriptor. */
export const PLAN_FD_VARIABLE = 'AGENTRUN_EXEC_PLAN_FD';

/** The descriptor the launcher opens for the plan (the only value it ever sets). */
const PLAN_FD = 3;

/** The plan descriptor when the launcher asked for a plan, else undefined (agentrun run as `node agentrun.cjs`). */
export function planDescriptor(env: NodeJS.ProcessEnv): number | undefined {
  const asked = env[PLAN_FD_VARIABLE];
  delete env[PLAN_FD_VARIABLE];
  return asked === String(PLAN_FD) ? PLAN_FD : undefined;
}

/** True when an option needs agentrun beside the job for its whole run (lock, timer, output, private agent). */
export function needsSupervisor(args: RunArgs): boolean {
  return args.lock !== undefined || args.timeoutMs !== undefined || args.log !== undefined
    || args.quiet || args.ephemeral.length > 0;
}

/**
 * What execvp(3) would make of the command, decided before exec so that a missing or
 * unexecutable command gets agentrun's own message and 127/126, exactly as a spawned job does.
 * `judge` judges one candidate path (doctor --user judges it for another user).
 */
export function commandProblem(command: string, env: NodeJS.ProcessEnv, judge: (path: string) => Execability = executableByUs): JobResult | undefined {
  const lookup = lookupCommand(command, env.PATH ?? '', { judge });
  if (lookup.found !== undefined) return undefined;
  return notRun({ code: lookup.denied ? 'EACCES' : 'ENOENT' }, command, env);
}

function writePlan(fd: number, lines: string[]): void {
  const text = Buffer.from(`${lines.join('\n')}\n`);
  for (let at = 0; at < text.length;) at += writeSync(fd, text, at);
}

/** Tells the launcher to run the Node bin itself, as the job's supervisor. */
export function planSupervise(fd: number): void {
  writePlan(fd, ['supervise', 'end']);
}

/**
 * True when the launcher can exec the job with these values: a value holding a newline could
 * not travel as one line, and a command starting with "-" would be read as an option by some
 * shells' exec; both are left to the supervisor, which spawns without a shell.
 */
export function execable(command: string, sock: string, pid: number | undefined): boolean {
  return !command.startsWith('-') && !sock.includes('\n') && !(pid !== undefined && !Number.isInteger(pid));
}

/** Tells the launcher to drop `optionWords` arguments, set the agent's variables and exec the rest. */
export function planExec(fd: number, optionWords: number, sock: string, pid: number | undefined): void {
  writePlan(fd, ['exec', String(optionWords), sock, pid === undefined ? '' : String(pid), 'end']);
}
