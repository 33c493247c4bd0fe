// One crontab entry that runs agentrun, judged the way that run would go: cron's sh finding
// agentrun and node on the entry's PATH, agentrun's own parser and preflight, its --log, its
// --lock, and the job's command on that PATH — each reason it would not run with its exit status
// and fix, in the order agentrun meets them. Also what the --log file says about the last run.
import { lstatSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { asAgentkeepError, AgentkeepError, EXIT } from '../errors.js';
import { silentReporter, userContext, type Context } from '../context.js';
import { findAgent } from '../agent/discover.js';
import { parseRunArgs, type RunArgs } from '../run/args.js';
import { fixCommand, preflight, resolveRequired, type RequiredKey } from '../run/preflight.js';
import { defaultLockName, lockHeldError, orphanedJob, runLockPath } from '../run/lock.js';
import { lastEvents, logFileProblem, readLogTail, showCommand, type LogEvent } from '../run/log.js';
import { commandProblem } from '../run/exec-plan.js';
import { isLockHeld } from '../lock/lock.js';
import { SYSTEM_PATH } from '../cron-path.js';
import { canAccess, findOnPath, judgeFor, type Who } from './access.js';
import type { CrontabEntry } from './crontab.js';
import type { JobIssue, ProblemCode } from './problems.js';
import { splitCommands } from './sh-words.js';
import { localTime } from './times.js';

/** Everything doctor learned about one agentrun entry; `--json` prints it as an element of `jobs`. */
export interface JobReport {
  line: number;
  schedule: string;
  /** The command as cron hands it to the shell (the crontab text before any `%`). */
  command: string;
  /** The PATH the entry runs with, and where it was set. */
  path: string;
  pathSource: 'crontab' | 'default' | 'entry';
  shell: string;
  mailto: string | null;
  /** Where cron's sh finds agentrun and the launcher finds node on that PATH; null when not found. */
  agentrun: string | null;
  node: string | null;
  /** The job's own command (agentrun's COMMAND) and where it resolves on that PATH; null when not found. */
  program: { name: string; path: string | null } | null;
  ephemeral: boolean;
  required: Array<{ key: string; fingerprint: string | null; loaded: boolean }>;
  lock: { name: string; path: string; held: boolean } | null;
  log: { path: string; exists: boolean; lastStart: LogEvent | null; lastEnd: LogEvent | null } | null;
  /** The last run the --log file records: when, its exit status (null while it runs), how long, and why it failed. */
  lastRun: { at: string; status: number | null; seconds: number | null; why: string | null } | null;
  /** What agentrun would exit with if the entry ran now, before the job itself runs: 0 when it would run. */
  status: number;
  /** Every reason it would not run, the first one giving `status`. */
  issues: JobIssue[];
  /** Set when the command holds something only the shell can expand (`$(...)`), so words may differ at run time. */
  note: string | null;
}

/** Who the entries belong to and how to word the advice, shared by every entry of one crontab. */
export interface JobsContext {
  account: { name: string; uid: number; home: string };
  /** Whose permissions decide access checks: undefined for ourselves. */
  who: Who;
  /** `log in as bk and run: CMD`, worded for whoever reads the report. */
  advice: (command: string) => string;
  /** cron's PATH where the crontab sets none. */
  defaultPath: string;
  /** The caller's PATH, to point at a program the crontab's PATH misses. */
  userPath: string;
  boot: Date | null;
  agent: { answering: boolean; started: Date | null };
}

/** The agentrun command of an entry: its words, the variables set before it, and whether it holds a shell substitution. */
interface AgentrunCommand { words: string[]; assignments: Record<string, string>; dynamic: boolean }

/** The words of the first simple command in an entry that runs agentrun (by name, or a path ending in /agentrun). */
function findAgentrun(entry: CrontabEntry, env: Record<string, string>): AgentrunCommand | undefined {
  for (const cmd of splitCommands(entry.command, (name) => env[name])) {
    const first = cmd.words[0];
    if (first === 'agentrun' || first?.endsWith('/agentrun')) {
      return { words: cmd.words, assignments: Object.fromEntries(cmd.assignments.map((a) => [a.name, a.value])), dynamic: cmd.dynamic };
    }
  }
  return undefined;
}

/** The first executable NAME on the entry's PATH for the job's user, from cron's working directory (HOME). */
function which(name: string, path: string, jc: JobsContext): string | null {
  return findOnPath(name, path, jc.who, jc.account.home);
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The fix for a program missing from the entry's PATH: the directory where it is, or what to install. */
function pathFix(name: string, entryPath: string, jc: JobsContext, install: string): string {
  const found = which(name, [...jc.userPath.split(':'), ...SYSTEM_PATH].join(':'), jc);
  if (found === null) return install;
  const dir = dirname(found);
  return `${name} is ${found}; put its directory on the crontab's PATH line: PATH=${dir}:${entryPath}`;
}

/** "no agent: rebooted at ..., nobody logged in since" and the like, from the last run's log line. */
function lastRunWhy(event: LogEvent, command: string[], jc: JobsContext): string | null {
  if (event.status === 0 || event.status === null) return null;
  let text = event.text.replace(/ after [\d.]+ s$/, '').replace(/ \(exit status \d+\)$/, '');
  if (event.kind === 'end' && /^exit status \d+$/.test(text)) return 'the job itself failed (see its output in the log)';
  text = text.replace(/^not started: /, '');
  const shown = `${showCommand(command)}: `;
  if (text.startsWith(shown)) text = text.slice(shown.length);
  if (/^no (usable )?ssh-agent/.test(text)) {
    const at = new Date(event.at);
    if (jc.boot === null || jc.boot > at) return 'no agent';
    const since = jc.agent.started !== null && jc.agent.started > at
      ? `the agent was started later, at ${localTime(jc.agent.started)}`
      : jc.agent.answering ? 'an agent answers now' : 'nobody logged in since';
    return `no agent: rebooted at ${localTime(jc.boot)}, ${since}`;
  }
  if (/answers but holds no keys/.test(text)) return 'the agent held no keys';
  const missing = /^required keys? not loaded in the ssh-agent at .*?: (.*?); it holds/.exec(text);
  if (missing) return `key not loaded: ${missing[1]}`;
  if (/the lock ".*" is held/.test(text)) return 'the lock was held by an earlier run';
  return text;
}

/** The problem code for a refusal from agentrun's preflight. */
function preflightCode(error: AgentkeepError, ctx: Context): ProblemCode {
  switch (error.code) {
    case 'KEY_NOT_LOADED': return 'JOB_KEY_NOT_LOADED';
    case 'NO_IDENTITIES': return 'NO_IDENTITIES';
    case 'KEY_FILE': return 'KEY_FILE';
    case 'UNSAFE_PATH': case 'UNSAFE_HOME': return 'UNSAFE_PATH';
    case 'NO_AGENT':
      if (!lstatSync(ctx.paths.keydir, { throwIfNoEntry: false })) return 'KEYDIR_MISSING';
      if (!lstatSync(ctx.paths.sh, { throwIfNoEntry: false })) return 'ENV_FILE_MISSING';
      return error.message.includes('not a valid env file') ? 'ENV_FILE_INVALID' : 'AGENT_NOT_ANSWERING';
    default: return 'AGENT_NOT_ANSWERING';
  }
}

/** The --log checks agentrun makes when it opens the log (exit 78 or 1), made without opening it for writing. */
function logIssue(path: string, jc: JobsContext): JobIssue | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch { /* missing, or above a directory we cannot search: the directory checks below say which */ }
  if (st) {
    const refused = logFileProblem(path, st, jc.account.uid);
    if (refused) return { code: 'UNSAFE_PATH', status: refused.exitCode, message: refused.message, fix: refused.hint ?? '' };
    if (!canAccess(path, jc.who, 'w')) {
      return { code: 'JOB_LOG_NOT_WRITABLE', status: EXIT.failure, message: `${jc.account.name} cannot write to the log ${path}`, fix: `run: chmod u+w '${path}'` };
    }
    return undefined;
  }
  const dir = dirname(path);
  if (!isDir(dir)) return { code: 'JOB_LOG_NOT_WRITABLE', status: EXIT.failure, message: `the log's directory ${dir} does not exist, so agentrun cannot create ${path}`, fix: `create it: mkdir -p '${dir}'` };
  if (!canAccess(dir, jc.who, 'w') || !canAccess(dir, jc.who, 'x')) {
    return { code: 'JOB_LOG_NOT_WRITABLE', status: EXIT.failure, message: `${jc.account.name} cannot create the log ${path}: the directory ${dir} is not writable for them`, fix: `point --log at a file in a directory of ${jc.account.name}'s own, e.g. --log "$HOME/job.log"` };
  }
  return undefined;
}

/** Judges one entry; undefined when its command does not run agentrun. */
export async function inspectJob(entry: CrontabEntry, jc: JobsContext): Promise<JobReport | undefined> {
  const { account } = jc;
  // What cron gives the entry (HOME, LOGNAME, SHELL, PATH; LOGNAME cannot be overridden), then the crontab's settings.
  const cronEnv: Record<string, string> = { HOME: account.home, SHELL: '/bin/sh', PATH: jc.defaultPath, ...entry.env, LOGNAME: account.name };
  const found = findAgentrun(entry, cronEnv);
  if (!found) return undefined;
  const env: Record<string, string> = { ...cronEnv, ...found.assignments };
  const report = startJobReport(entry, found, env, jc);
  checkLauncher(report, found.words[0]!, jc);
  const args = parseEntryArgs(report, found.words);
  if (args === undefined) return finish(report);
  report.ephemeral = args.ephemeral.length > 0;
  const ctx = jobContext(report, args, env, jc);
  if (ctx === undefined) return finish(report);
  if (args.log !== undefined) checkLog(report, args.log, args.command, jc);
  if (!report.ephemeral) await checkKeysAndAgent(report, args, ctx, jc);
  if (args.lock !== undefined) await checkLock(report, args.lock, args, ctx, jc);
  checkProgram(report, args.command[0]!, jc);
  return finish(report);
}

/** The entry as cron would run it (its PATH, shell, where agentrun and node are), nothing judged yet. */
function startJobReport(entry: CrontabEntry, found: AgentrunCommand, env: Record<string, string>, jc: JobsContext): JobReport {
  const path = env.PATH!;
  return {
    line: entry.line, schedule: entry.schedule, command: entry.command, path,
    pathSource: found.assignments.PATH !== undefined ? 'entry' : entry.env.PATH !== undefined ? 'crontab' : 'default',
    shell: env.SHELL!, mailto: entry.env.MAILTO ?? null,
    agentrun: which(found.words[0]!, path, jc), node: which('node', path, jc),
    program: null, ephemeral: false, required: [], lock: null, log: null, lastRun: null, status: 0, issues: [],
    note: found.dynamic ? 'the entry holds a $(...) or `...` substitution that only the shell can expand; its words may differ when cron runs it' : null,
  };
}

/** Whether the entry's PATH finds agentrun (as `launcher` names it) and the node it runs. */
function checkLauncher(report: JobReport, launcher: string, jc: JobsContext): void {
  const { path, issues } = report;
  if (report.agentrun === null) {
    issues.push({
      code: 'AGENTRUN_NOT_ON_CRON_PATH', status: EXIT.notFound,
      message: launcher === 'agentrun' ? `agentrun is not on the entry's PATH (${path}): cron's sh answers "agentrun: not found"` : `${launcher} does not exist or is not executable`,
      fix: pathFix('agentrun', path, jc, 'install agentkeep (see the README\'s "Install and run") and put the line agentkeep hook cron prints at the top of the crontab'),
    });
  }
  if (report.node === null) {
    issues.push({
      code: 'NODE_NOT_ON_CRON_PATH', status: EXIT.notFound, message: `node is not on the entry's PATH (${path}); agentrun runs node from PATH`,
      fix: pathFix('node', path, jc, 'install Node.js >= 20 and put its directory on the crontab\'s PATH line'),
    });
  }
}

/** agentrun's own reading of the entry's options; undefined when it would not run a job (--help, or a refusal). */
function parseEntryArgs(report: JobReport, words: string[]): RunArgs | undefined {
  try {
    const parsed = parseRunArgs(words.slice(1));
    return parsed.kind === 'run' ? parsed.args : undefined;
  } catch (error) {
    const e = asAgentkeepError(error);
    report.issues.push({ code: 'JOB_USAGE', status: e.exitCode, message: `agentrun would refuse this entry's options: ${e.message}`, fix: e.hint ?? 'see: agentrun --help' });
    return undefined;
  }
}

/** The context agentrun would run in (its key directory from --dir, --absolute, --host); undefined when it would refuse. */
function jobContext(report: JobReport, args: RunArgs, env: Record<string, string>, jc: JobsContext): Context | undefined {
  const { account } = jc;
  try {
    // cron runs the entry in HOME, so a relative --dir starts there.
    const dir = args.dir === undefined || isAbsolute(args.dir) ? args.dir : resolve(account.home, args.dir);
    return userContext(account, { dir, absolute: args.absolute, host: args.host }, env, silentReporter);
  } catch (error) {
    const e = asAgentkeepError(error);
    report.issues.push({ code: e.exitCode === EXIT.usage ? 'JOB_USAGE' : 'UNSAFE_PATH', status: e.exitCode, message: e.message, fix: e.hint ?? '' });
    return undefined;
  }
}

/** The entry's --log: what it says about the last run, and whether agentrun could write it. */
function checkLog(report: JobReport, log: string, command: string[], jc: JobsContext): void {
  // cron runs the entry in HOME, so a relative --log starts there.
  const logPath = resolve(jc.account.home, log);
  const tail = readLogTail(logPath, jc.account.uid);
  const events = 'text' in tail ? lastEvents(tail.text) : { start: null, end: null };
  report.log = { path: logPath, exists: !('problem' in tail && tail.problem === 'missing'), lastStart: events.start, lastEnd: events.end };
  const last = events.end !== null && (events.start === null || events.end.at >= events.start.at) ? events.end : events.start;
  if (last) {
    report.lastRun = { at: last.at, status: last.kind === 'start' ? null : last.status, seconds: last.kind === 'start' ? null : last.seconds, why: lastRunWhy(last, command, jc) };
  }
  const problem = logIssue(logPath, jc);
  if (problem) report.issues.push(problem);
}

/** The entry's --require keys: which are loaded, and why agentrun's preflight would refuse to run the job. */
async function checkKeysAndAgent(report: JobReport, args: RunArgs, ctx: Context, jc: JobsContext): Promise<void> {
  const required = resolveJobKeys(report, args.require, ctx.home);
  const loaded = await loadedFingerprints(ctx);
  for (const key of required) report.required.push({ key: key.arg, fingerprint: key.fingerprint, loaded: loaded.has(key.fingerprint) });
  report.required.sort((a, b) => args.require.indexOf(a.key) - args.require.indexOf(b.key));
  const refusal = await preflightIssue(args, ctx, required, loaded, jc);
  if (refusal) report.issues.push(refusal);
}

/** The --require keys whose fingerprints can be learned; each that cannot is recorded as a KEY_FILE issue. */
function resolveJobKeys(report: JobReport, keys: string[], home: string): RequiredKey[] {
  const required: RequiredKey[] = [];
  for (const key of keys) {
    try {
      required.push(...resolveRequired([key], home));
    } catch (error) {
      const e = asAgentkeepError(error);
      report.issues.push({ code: 'KEY_FILE', status: e.exitCode, message: e.message, fix: e.hint ?? '' });
      report.required.push({ key, fingerprint: null, loaded: false });
    }
  }
  return required;
}

/** The fingerprints the agent agentrun would find holds; none when there is no agent or the key directory is unsafe. */
async function loadedFingerprints(ctx: Context): Promise<Set<string>> {
  try {
    const { agent } = await findAgent(ctx, { inherit: true, allowForwarded: false, persist: false });
    return new Set(agent?.identities.map((id) => id.fingerprint) ?? []);
  } catch {
    return new Set<string>(); // an unsafe key directory: preflight says so
  }
}

/** agentrun's preflight refusal as an issue, its fix naming the keys the login must load; undefined when it would run. */
async function preflightIssue(args: RunArgs, ctx: Context, required: RequiredKey[], loaded: Set<string>, jc: JobsContext): Promise<JobIssue | undefined> {
  try {
    await preflight(ctx, args, required);
    return undefined;
  } catch (error) {
    const e = asAgentkeepError(error);
    const code = preflightCode(e, ctx);
    const keys = code === 'JOB_KEY_NOT_LOADED' ? required.filter((r) => !loaded.has(r.fingerprint)).map((r) => r.arg) : args.require;
    const wantsLogin = e.code === 'NO_AGENT' || e.code === 'NO_IDENTITIES' || e.code === 'KEY_NOT_LOADED';
    return { code, status: e.exitCode, message: e.message, fix: wantsLogin ? jc.advice(fixCommand(args, keys)) : e.hint ?? '' };
  }
}

/** The entry's --lock: whether it is held now, and the refusal agentrun gives when it would not wait. */
async function checkLock(report: JobReport, lock: NonNullable<RunArgs['lock']>, args: RunArgs, ctx: Context, jc: JobsContext): Promise<void> {
  const name = lock === true ? defaultLockName(args.command) : lock;
  const lockPath = runLockPath(ctx.paths.keydir, name);
  // Held by a running agentrun, or by a job whose agentrun was killed (agentrun would refuse both).
  const orphan = orphanedJobOf(report, lockPath, jc.account.uid);
  report.lock = { name, path: `${lockPath}.lock`, held: orphan !== undefined || await isLockHeld(lockPath) };
  if (report.lock.held && args.lockWaitMs === 0) {
    const e = lockHeldError(name, lockPath, 0, orphan);
    report.issues.push({ code: 'LOCK_HELD', status: e.exitCode, message: e.message.replace(/^not started: /, ''), fix: e.hint ?? '' });
  }
}

/** The job a killed agentrun left holding the lock, if any; a record agentrun would refuse is recorded as an issue. */
function orphanedJobOf(report: JobReport, lockPath: string, uid: number): string | undefined {
  try {
    return orphanedJob(lockPath, uid);
  } catch (error) {
    // A record agentrun would refuse (a link, a FIFO, someone else's): say so; an unreadable one means none.
    if (error instanceof AgentkeepError) report.issues.push({ code: 'UNSAFE_PATH', status: error.exitCode, message: error.message, fix: error.hint ?? '' });
    return undefined;
  }
}

/** Whether the job's own command is found on the entry's PATH and can be run. */
function checkProgram(report: JobReport, program: string, jc: JobsContext): void {
  const { path } = report;
  // cron runs the entry in HOME, so a relative command path starts there.
  const programPath = program.includes('/') ? resolve(jc.account.home, program) : program;
  const missing = commandProblem(programPath, { PATH: path }, judgeFor(jc.who));
  report.program = { name: program, path: missing ? null : which(programPath, path, jc) };
  if (missing?.kind === 'not-run') {
    report.issues.push({
      code: 'JOB_COMMAND_NOT_FOUND', status: missing.status, message: missing.reason,
      fix: missing.status === EXIT.notFound && !program.includes('/')
        ? pathFix(program, path, jc, `install ${program}, or give its full path in the entry`)
        : `make it executable (chmod +x '${programPath}'), or fix the path in the entry`,
    });
  }
}

/** The entry's exit status: the first issue's, or 0 when it would run. */
function finish(report: JobReport): JobReport {
  report.status = report.issues[0]?.status ?? 0;
  return report;
}
