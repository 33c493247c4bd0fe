// `agentkeep doctor`: what the cron jobs of a user would find — key directory and env files,
// the agent they name, its keys, and each crontab entry that runs agentrun — each problem with
// its fix. Read-only: never starts, stops or empties an agent, never writes a file.
import { lstatSync } from 'node:fs';
import { AgentkeepError, asAgentkeepError } from '../errors.js';
import { userName } from '../home-check.js';
import { withEnv, type Context } from '../context.js';
import { describeMode, unsafeReason } from '../path-safety.js';
import { ENV_FLAVOURS, type EnvFlavour } from '../shells/flavours.js';
import { fixCommand, otherHostFiles, preflight, resolveRequired, type WhereOptions } from '../run/preflight.js';
import { findOnPath, type Who } from './access.js';
import { agentStart, judgeAgent, unknownAgent, type AgentReport } from './agent-check.js';
import { parseCrontab } from './crontab.js';
import { inspectJob, type JobReport } from './jobs.js';
import type { Problem, ProblemCode } from './problems.js';
import { bootTime, localTime } from './times.js';
import type { CrontabSource } from './user.js';

export type { Problem } from './problems.js';

/** cron's PATH when the crontab sets none (Vixie cron, cronie, systemd-cron). */
export const CRON_DEFAULT_PATH = '/usr/bin:/bin';

/** One file or directory, as found. */
export interface FileCheck {
  path: string;
  exists: boolean;
  type: 'file' | 'dir' | 'symlink' | 'socket' | 'other' | null;
  owner: number | null;
  mode: string | null;
  ok: boolean;
}

/** The whole report; `agentkeep doctor --json` prints exactly this (shape version 1). */
export interface DoctorReport {
  version: 1;
  healthy: boolean;
  /**
   * What `agentrun` (without --ephemeral) would exit with before running a job, from its own
   * preflight: 0, 75 (temporary), 78 (unsafe), or 1 (a --require key file cannot be read).
   */
  agentrunStatus: number;
  uid: number;
  /** Whose setup this is: the invoking user, or with --user the user root asked about. */
  user: { name: string; home: string; inspectedBy: 'self' | 'root' };
  /** The last boot (ISO time), null when unknown. */
  boot: string | null;
  host: { name: string; source: 'option' | 'uname' };
  keydir: FileCheck;
  envFiles: Array<FileCheck & { flavour: EnvFlavour }>;
  /** `*-sh` files of other host names in the key directory. */
  otherHostEnvFiles: string[];
  agent: AgentReport;
  required: Array<{ key: string; fingerprint: string | null; loaded: boolean }>;
  cron: { path: string; agentrun: string | null; node: string | null };
  /** Where the crontab came from, whether there is one (`detail` says why not), and how many entries it has. */
  crontab: { source: string; present: boolean; detail: string | null; entries: number };
  /** Every crontab entry that runs agentrun, in crontab order. */
  jobs: JobReport[];
  problems: Problem[];
}

/** What doctor inspects: whose setup, the --require keys, the crontab and the PATH cron uses where it sets none. */
export interface DoctorOptions extends WhereOptions {
  /** The inspected user's context (their uid and HOME); its SSH_AUTH_SOCK/SSH_AGENT_PID are ignored, as cron has none. */
  ctx: Context;
  user: string;
  /** Whose permissions decide access checks: undefined for ourselves, the user's ids for root's --user. */
  who: Who;
  /** True for root's `--user NAME`: the advice then tells root how to act as that user. */
  asRoot: boolean;
  require: string[];
  cronPath: string;
  /** The caller's own PATH, to say where agentrun and node are when cron cannot see them. */
  userPath: string;
  crontab: CrontabSource;
}

/** Words a fix command as advice to whoever reads the report. */
type Advice = (command: string) => string;

/** `log in as bk and run: CMD`, with root's way to do it when root asked about bk. */
function adviceFor(user: string, asRoot: boolean): Advice {
  return (command) => `log in as ${user} and run: ${command}${asRoot ? ` (from root: sudo -iu ${user} ${command})` : ''}`;
}

/** Codes about the agent every entry shares: reported once, not again for each entry that meets them. */
const AGENT_LEVEL = new Set<ProblemCode>(['KEYDIR_MISSING', 'UNSAFE_PATH', 'ENV_FILE_MISSING', 'ENV_FILE_INVALID', 'AGENT_NOT_ANSWERING', 'NO_IDENTITIES']);

/** Checks one path; when it is unsafe or of the wrong type, records the fix under its path in `fixes`. */
function checkPath(path: string, uid: number, want: 'file' | 'dir', fixes: Map<string, string>): FileCheck {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return { path, exists: false, type: null, owner: null, mode: null, ok: false };
  const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSocket() ? 'socket' : 'other';
  if (uid === 0 && st.uid !== 0 && !st.isSymbolicLink()) {
    // Root looking at a user's files: they are that user's, not unsafe; say how to look as that user.
    const owner = userName(st.uid);
    fixes.set(path, `these files belong to ${owner}; run: agentkeep doctor --user ${owner.startsWith('uid ') ? st.uid : owner}`);
    return { path, exists: true, type, owner: st.uid, mode: describeMode(st.mode), ok: false };
  }
  // The same rule agentkeep and agentrun apply (unsafeReason), plus the expected type.
  const unsafe = unsafeReason(path, st, uid, want);
  const fix = unsafe?.fix ?? (type === want ? undefined : `move it away: mv '${path}' '${path}.old'`);
  if (fix !== undefined) fixes.set(path, fix);
  return { path, exists: true, type, owner: st.uid, mode: describeMode(st.mode), ok: fix === undefined };
}

/**
 * agentrun's own checks, run as cron would run them (no inherited agent), so that the status
 * predicted here cannot drift from what a job gets. Read-only like the rest of doctor.
 */
async function agentrunStatus(opts: DoctorOptions): Promise<number> {
  const { SSH_AUTH_SOCK: _sock, SSH_AGENT_PID: _pid, ...env } = opts.ctx.env;
  const ctx: Context = withEnv(opts.ctx, env);
  try {
    await preflight(ctx, opts, resolveRequired(opts.require, ctx.home));
    return 0;
  } catch (error) {
    return asAgentkeepError(error).exitCode;
  }
}

/** Inspects everything a cron job would depend on. */
export async function inspect(opts: DoctorOptions): Promise<DoctorReport> {
  const advice = adviceFor(opts.user, opts.asRoot);
  const login = advice(fixCommand(opts, opts.require));
  const boot = bootTime();
  const fixes = new Map<string, string>();
  const report = await startReport(opts, boot, fixes);
  checkKeydirAndEnvFiles(report, fixes, login);
  await checkEnvFileAndAgent(report, opts.ctx, login);
  checkRequiredKeys(report, opts, advice);
  agentStart(report.agent, opts.ctx, boot);
  await inspectJobs(report, opts, advice, boot);
  checkCronPath(report, opts);
  nameTheJobsKeys(report, opts, advice, login);
  addJobProblems(report);
  report.healthy = isHealthy(report.problems);
  return report;
}

/** The report before any judgement: whose setup, the files as found, the agent and the jobs not yet looked at. */
async function startReport(opts: DoctorOptions, boot: Date | null, fixes: Map<string, string>): Promise<DoctorReport> {
  const { paths, uid, home } = opts.ctx;
  return {
    version: 1, healthy: false, agentrunStatus: await agentrunStatus(opts), uid,
    user: { name: opts.user, home, inspectedBy: opts.asRoot ? 'root' : 'self' },
    boot: boot?.toISOString() ?? null,
    host: { name: paths.host, source: opts.host !== undefined ? 'option' : 'uname' },
    keydir: checkPath(paths.keydir, uid, 'dir', fixes),
    envFiles: ENV_FLAVOURS.map((flavour) => ({ flavour, ...checkPath(paths[flavour], uid, 'file', fixes) })),
    otherHostEnvFiles: otherHostFiles(paths.keydir, paths.host),
    agent: unknownAgent(),
    required: [],
    cron: { path: opts.cronPath, agentrun: null, node: null },
    crontab: { source: opts.crontab.source, present: opts.crontab.text !== null, detail: opts.crontab.detail, entries: 0 },
    jobs: [],
    problems: [],
  };
}

/** Problems of the key directory and the env files: another user's, missing, or unsafe. */
function checkKeydirAndEnvFiles(report: DoctorReport, fixes: Map<string, string>, login: string): void {
  const { keydir, problems } = report;
  // Root's own doctor run on a user's directory: one line that says whose files they are.
  const othersFiles = [keydir, ...report.envFiles].filter((f) => fixes.get(f.path)?.startsWith('these files belong to '));
  if (othersFiles.length > 0) problems.push(othersFilesProblem(othersFiles, fixes));
  const unsafe = (f: FileCheck) => !f.ok && !othersFiles.includes(f);
  if (!keydir.exists) {
    problems.push({ code: 'KEYDIR_MISSING', message: `the key directory ${keydir.path} does not exist: agentkeep has not run for this user`, fix: login });
  } else if (unsafe(keydir)) {
    problems.push({ code: 'UNSAFE_PATH', message: `the key directory ${keydir.path} is unsafe (${keydir.type}, uid ${keydir.owner}, mode ${keydir.mode})`, fix: fixes.get(keydir.path) ?? '' });
  }
  for (const file of report.envFiles) {
    if (file.exists && unsafe(file)) {
      problems.push({ code: 'UNSAFE_PATH', message: `the env file ${file.path} is unsafe (${file.type}, uid ${file.owner}, mode ${file.mode})`, fix: fixes.get(file.path) ?? '' });
    }
  }
}

/** "X, Y are not root's": root judging files that belong to the user it asks about. */
function othersFilesProblem(othersFiles: FileCheck[], fixes: Map<string, string>): Problem {
  const many = othersFiles.length > 1;
  return {
    code: 'OTHER_USERS_FILES',
    message: `${othersFiles.map((f) => f.path).join(', ')} ${many ? 'are' : 'is'} not root's; judged as root, a cron job of root's could not use ${many ? 'them' : 'it'}`,
    fix: fixes.get(othersFiles[0]!.path)!,
  };
}

/** The sh env file cron jobs read: missing (perhaps written under another host name), or read to judge its agent. */
async function checkEnvFileAndAgent(report: DoctorReport, ctx: Context, login: string): Promise<void> {
  const sh = report.envFiles[0]!;
  if (report.keydir.exists && !sh.exists) {
    report.problems.push(envFileMissing(ctx.paths.sh, report.otherHostEnvFiles, login));
  } else if (sh.ok) {
    report.problems.push(...await judgeAgent(report.agent, ctx.paths.sh, ctx.uid, login));
  }
}

/** The env file is missing; when another host's is there, the fix names its --host. */
function envFileMissing(path: string, others: string[], login: string): Problem {
  return {
    code: 'ENV_FILE_MISSING',
    message: `${path} does not exist${others.length > 0 ? `, but ${others.join(', ')} ${others.length > 1 ? 'do' : 'does'} (written under another host name?)` : ''}`,
    fix: others.length > 0 ? `if that is this machine, pass --host ${others[0]!.slice(0, -3)} to agentrun (and agentkeep); otherwise ${login}` : login,
  };
}

/** Each --require key: its fingerprint and whether the agent holds it. */
function checkRequiredKeys(report: DoctorReport, opts: DoctorOptions, advice: Advice): void {
  const loaded = new Set(report.agent.identities.map((id) => id.fingerprint));
  for (const arg of opts.require) {
    try {
      const [key] = resolveRequired([arg], opts.ctx.home);
      const isLoaded = loaded.has(key!.fingerprint);
      report.required.push({ key: arg, fingerprint: key!.fingerprint, loaded: isLoaded });
      if (!isLoaded && report.agent.answering && report.agent.identities.length > 0) {
        report.problems.push({ code: 'KEY_NOT_LOADED', message: `${arg} (${key!.fingerprint}) is not loaded in the ssh-agent at ${report.agent.socket}`, fix: advice(fixCommand(opts, [arg])) });
      }
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      report.required.push({ key: arg, fingerprint: null, loaded: false });
      report.problems.push({ code: 'KEY_FILE', message: error.message, fix: error.hint ?? '' });
    }
  }
}

/** Judges each crontab entry that runs agentrun, in crontab order. */
async function inspectJobs(report: DoctorReport, opts: DoctorOptions, advice: Advice, boot: Date | null): Promise<void> {
  const { uid, home } = opts.ctx;
  const entries = opts.crontab.text === null ? [] : parseCrontab(opts.crontab.text);
  report.crontab.entries = entries.length;
  const jobsContext = {
    account: { name: opts.user, uid, home }, who: opts.who, advice, defaultPath: opts.cronPath, userPath: opts.userPath, boot,
    agent: { answering: report.agent.answering, started: report.agent.started === null ? null : new Date(report.agent.started) },
  };
  for (const entry of entries) {
    const job = await inspectJob(entry, jobsContext);
    if (job) report.jobs.push(job);
  }
}

/** Where cron's PATH finds agentrun and node; without entries, a problem for each it misses. */
function checkCronPath(report: DoctorReport, opts: DoctorOptions): void {
  const { cron } = report;
  // The PATH of the first agentrun entry is the one cron uses; without entries, the default.
  cron.path = report.jobs[0]?.path ?? opts.cronPath;
  cron.agentrun = findOnPath('agentrun', cron.path, opts.who, opts.ctx.home);
  cron.node = findOnPath('node', cron.path, opts.who, opts.ctx.home);
  // With entries, each entry says whether its PATH finds them; without, judge the PATH cron would use.
  if (report.jobs.length === 0 && !cron.agentrun) {
    report.problems.push({ code: 'AGENTRUN_NOT_ON_CRON_PATH', message: `agentrun is not on cron's PATH (${cron.path}), so "agentrun ..." lines in the crontab fail with "not found"`, fix: cronPathFix('agentrun', cron.path, opts) });
  }
  if (report.jobs.length === 0 && !cron.node) {
    report.problems.push({ code: 'NODE_NOT_ON_CRON_PATH', message: `node is not on cron's PATH (${cron.path}); agentrun runs node from PATH and needs it`, fix: cronPathFix('node', cron.path, opts) });
  }
}

/** The fix for agentrun or node missing from cron's PATH: the PATH= line that finds it, or what to install. */
function cronPathFix(name: 'agentrun' | 'node', cronPath: string, opts: DoctorOptions): string {
  const found = findOnPath(name, opts.userPath, opts.who, opts.ctx.home);
  return found
    ? `${name} is ${found} on your PATH; put this line at the top of the crontab: PATH=${found.slice(0, found.lastIndexOf('/'))}:${cronPath}`
    : `install ${name === 'node' ? 'Node.js >= 20' : 'agentkeep (npm install -g agentkeep)'} and add its directory to the crontab's PATH= line`;
}

/** Without --require, the keys the login must load are the ones the entries --require: the fixes name them. */
function nameTheJobsKeys(report: DoctorReport, opts: DoctorOptions, advice: Advice, login: string): void {
  const jobKeys = [...new Set(report.jobs.flatMap((job) => job.required.map((r) => r.key)))];
  if (opts.require.length > 0 || jobKeys.length === 0) return;
  const named = advice(fixCommand(opts, jobKeys));
  for (const p of report.problems) p.fix = p.fix.replace(login, named);
}

/** Each entry's reasons not to run (those about the shared agent only once) and its failed last run. */
function addJobProblems(report: DoctorReport): void {
  const { problems } = report;
  const general = new Set(problems.map((p) => p.code));
  for (const job of report.jobs) {
    for (const issue of job.issues) {
      if (!(AGENT_LEVEL.has(issue.code) && general.has(issue.code))) problems.push({ code: issue.code, message: issue.message, fix: issue.fix, job: job.line });
    }
    if (job.lastRun?.status) problems.push(lastRunFailed(job, job.lastRun));
  }
}

/** The entry's last run, as its log records it, exited non-zero. */
function lastRunFailed(job: JobReport, lastRun: NonNullable<JobReport['lastRun']>): Problem {
  return {
    code: 'JOB_LAST_RUN_FAILED', job: job.line,
    message: `the last run of line ${job.line} (${localTime(new Date(lastRun.at))}) exited ${lastRun.status}${lastRun.why ? ` (${lastRun.why})` : ''}`,
    fix: job.issues[0]?.fix ?? 'nothing to do now: the job would run',
  };
}

/** The verdict: a failed last run is history, so healthy means nothing stands in the way now. */
function isHealthy(problems: Problem[]): boolean {
  return problems.every((p) => p.code === 'JOB_LAST_RUN_FAILED');
}
