// `agentkeep doctor`: what the cron jobs of a user would find — key directory and env files,
// the agent they name, its keys, and each crontab entry that runs agentrun — each problem with
// its fix. Read-only: never starts, stops or empties an agent, never writes a file.
import { lstatSync } from 'node:fs';
import { AgentkeepError, asAgentkeepError } from '../errors.js';
import { userName } from '../home-check.js';
import { withEnv, type Context } from '../context.js';
import { readEnvFileText } from '../envfile/store.js';
import { describeMode, unsafeReason } from '../path-safety.js';
import { parseShEnv } from '../envfile/parse.js';
import { ENV_FLAVOURS, type EnvFlavour } from '../shells/flavours.js';
import { probeSocket } from '../agent/probe.js';
import { findAgentBoundTo, isLiveSshAgent } from '../agent/agent-process.js';
import { describeBlob } from '../agent/keyblob.js';
import { fixCommand, otherHostFiles, preflight, resolveRequired, type WhereOptions } from '../run/preflight.js';
import { findOnPath, type Who } from './access.js';
import { parseCrontab } from './crontab.js';
import { inspectJob, type JobReport } from './jobs.js';
import type { Problem, ProblemCode } from './problems.js';
import { bootTime, localTime, processStartTime } from './times.js';
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
  agent: {
    socket: string | null;
    pid: number | null;
    pidAlive: boolean | null;
    answering: boolean;
    detail: string | null;
    identities: Array<{ fingerprint: string; comment: string; type: string; bits: number }>;
    /** When the agent started (ISO): its process's start, else its socket's mtime; null when unknown. */
    started: string | null;
    startedFrom: 'process' | 'socket' | null;
  };
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

/** `log in as bk and run: CMD`, with root's way to do it when root asked about bk. */
function adviceFor(user: string, asRoot: boolean): (command: string) => string {
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
  const { paths, uid, home } = opts.ctx;
  const problems: Problem[] = [];
  const advice = adviceFor(opts.user, opts.asRoot);
  const login = advice(fixCommand(opts, opts.require));
  const boot = bootTime();
  const fail = (p: Problem) => { problems.push(p); };
  const fixes = new Map<string, string>();
  const report: DoctorReport = {
    version: 1, healthy: false, agentrunStatus: await agentrunStatus(opts), uid,
    user: { name: opts.user, home, inspectedBy: opts.asRoot ? 'root' : 'self' },
    boot: boot?.toISOString() ?? null,
    host: { name: paths.host, source: opts.host !== undefined ? 'option' : 'uname' },
    keydir: checkPath(paths.keydir, uid, 'dir', fixes),
    envFiles: ENV_FLAVOURS.map((flavour) => ({ flavour, ...checkPath(paths[flavour], uid, 'file', fixes) })),
    otherHostEnvFiles: otherHostFiles(paths.keydir, paths.host),
    agent: { socket: null, pid: null, pidAlive: null, answering: false, detail: null, identities: [], started: null, startedFrom: null },
    required: [],
    cron: { path: opts.cronPath, agentrun: null, node: null },
    crontab: { source: opts.crontab.source, present: opts.crontab.text !== null, detail: opts.crontab.detail, entries: 0 },
    jobs: [],
    problems,
  };

  // Root's own doctor run on a user's directory: one line that says whose files they are.
  const othersFiles = [report.keydir, ...report.envFiles].filter((f) => fixes.get(f.path)?.startsWith('these files belong to '));
  if (othersFiles.length > 0) {
    fail({ code: 'OTHER_USERS_FILES', message: `${othersFiles.map((f) => f.path).join(', ')} ${othersFiles.length > 1 ? 'are' : 'is'} not root's; judged as root, a cron job of root's could not use ${othersFiles.length > 1 ? 'them' : 'it'}`, fix: fixes.get(othersFiles[0]!.path)! });
  }
  const unsafe = (f: FileCheck) => !f.ok && !othersFiles.includes(f);
  if (!report.keydir.exists) {
    fail({ code: 'KEYDIR_MISSING', message: `the key directory ${paths.keydir} does not exist: agentkeep has not run for this user`, fix: login });
  } else if (unsafe(report.keydir)) {
    fail({ code: 'UNSAFE_PATH', message: `the key directory ${paths.keydir} is unsafe (${report.keydir.type}, uid ${report.keydir.owner}, mode ${report.keydir.mode})`, fix: fixes.get(paths.keydir) ?? '' });
  }
  for (const file of report.envFiles) {
    if (file.exists && unsafe(file)) {
      fail({ code: 'UNSAFE_PATH', message: `the env file ${file.path} is unsafe (${file.type}, uid ${file.owner}, mode ${file.mode})`, fix: fixes.get(file.path) ?? '' });
    }
  }

  const sh = report.envFiles[0]!;
  if (report.keydir.exists && !sh.exists) {
    const others = report.otherHostEnvFiles;
    fail({
      code: 'ENV_FILE_MISSING',
      message: `${paths.sh} does not exist${others.length > 0 ? `, but ${others.join(', ')} ${others.length > 1 ? 'do' : 'does'} (written under another host name?)` : ''}`,
      fix: others.length > 0 ? `if that is this machine, pass --host ${others[0]!.slice(0, -3)} to agentrun (and agentkeep); otherwise ${login}` : login,
    });
  } else if (sh.ok) {
    let text: string | undefined;
    try {
      text = readEnvFileText(paths.sh, uid);
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      fail({ code: 'UNSAFE_PATH', message: error.message, fix: error.hint ?? '' });
    }
    const parsed = text === undefined ? undefined : parseShEnv(text);
    if (parsed && !parsed.ok) {
      fail({ code: 'ENV_FILE_INVALID', message: `${paths.sh} is not a valid env file (${parsed.reason})`, fix: `remove it and let agentkeep rewrite it: rm '${paths.sh}'; then ${login}` });
    } else if (parsed?.ok) {
      const { sock, pid } = parsed.env;
      report.agent.socket = sock;
      report.agent.pid = pid ?? null;
      report.agent.pidAlive = pid === undefined ? null : isLiveSshAgent(pid, uid);
      const probe = await probeSocket(sock, uid);
      report.agent.answering = probe.usable;
      if (!probe.usable) {
        report.agent.detail = probe.detail;
        fail({ code: 'AGENT_NOT_ANSWERING', message: `no ssh-agent is answering at ${sock} (from ${paths.sh}): ${probe.detail}`, fix: login });
      } else {
        report.agent.identities = probe.identities.map((id) => {
          const { bits, label } = describeBlob(id.blob);
          return { fingerprint: id.fingerprint, comment: id.comment, type: label, bits };
        });
        if (probe.identities.length === 0) {
          fail({ code: 'NO_IDENTITIES', message: `the ssh-agent at ${sock} answers but holds no keys (after a reboot, or cleared at login)`, fix: login });
        }
      }
    }
  }

  const loaded = new Set(report.agent.identities.map((id) => id.fingerprint));
  for (const arg of opts.require) {
    try {
      const [key] = resolveRequired([arg], home);
      const isLoaded = loaded.has(key!.fingerprint);
      report.required.push({ key: arg, fingerprint: key!.fingerprint, loaded: isLoaded });
      if (!isLoaded && report.agent.answering && report.agent.identities.length > 0) {
        fail({ code: 'KEY_NOT_LOADED', message: `${arg} (${key!.fingerprint}) is not loaded in the ssh-agent at ${report.agent.socket}`, fix: advice(fixCommand(opts, [arg])) });
      }
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      report.required.push({ key: arg, fingerprint: null, loaded: false });
      fail({ code: 'KEY_FILE', message: error.message, fix: error.hint ?? '' });
    }
  }

  agentStart(report, opts.ctx, boot);
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

  // The PATH of the first agentrun entry is the one cron uses; without entries, the default.
  report.cron.path = report.jobs[0]?.path ?? opts.cronPath;
  report.cron.agentrun = findOnPath('agentrun', report.cron.path, opts.who, home);
  report.cron.node = findOnPath('node', report.cron.path, opts.who, home);
  const crontabPath = (name: string) => {
    const found = findOnPath(name, opts.userPath, opts.who, home);
    return found
      ? `${name} is ${found} on your PATH; put this line at the top of the crontab: PATH=${found.slice(0, found.lastIndexOf('/'))}:${report.cron.path}`
      : `install ${name === 'node' ? 'Node.js >= 20' : 'agentkeep (npm install -g agentkeep)'} and add its directory to the crontab's PATH= line`;
  };
  // With entries, each entry says whether its PATH finds them; without, judge the PATH cron would use.
  if (report.jobs.length === 0 && !report.cron.agentrun) {
    fail({ code: 'AGENTRUN_NOT_ON_CRON_PATH', message: `agentrun is not on cron's PATH (${report.cron.path}), so "agentrun ..." lines in the crontab fail with "not found"`, fix: crontabPath('agentrun') });
  }
  if (report.jobs.length === 0 && !report.cron.node) {
    fail({ code: 'NODE_NOT_ON_CRON_PATH', message: `node is not on cron's PATH (${report.cron.path}); agentrun runs node from PATH and needs it`, fix: crontabPath('node') });
  }

  // Without --require, the keys the login must load are the ones the entries --require.
  const jobKeys = [...new Set(report.jobs.flatMap((job) => job.required.map((r) => r.key)))];
  if (opts.require.length === 0 && jobKeys.length > 0) {
    const named = advice(fixCommand(opts, jobKeys));
    for (const p of problems) p.fix = p.fix.replace(login, named);
  }
  const general = new Set(problems.map((p) => p.code));
  for (const job of report.jobs) {
    for (const issue of job.issues) {
      if (!(AGENT_LEVEL.has(issue.code) && general.has(issue.code))) fail({ code: issue.code, message: issue.message, fix: issue.fix, job: job.line });
    }
    if (job.lastRun?.status) {
      fail({
        code: 'JOB_LAST_RUN_FAILED', job: job.line,
        message: `the last run of line ${job.line} (${localTime(new Date(job.lastRun.at))}) exited ${job.lastRun.status}${job.lastRun.why ? ` (${job.lastRun.why})` : ''}`,
        fix: job.issues[0]?.fix ?? 'nothing to do now: the job would run',
      });
    }
  }
  // A failed last run is history: healthy means nothing stands in the way now.
  report.healthy = problems.every((p) => p.code === 'JOB_LAST_RUN_FAILED');
  return report;
}

/** When the agent started: its live process's start time, else the socket file's mtime (set when an agent bound it). */
function agentStart(report: DoctorReport, ctx: Context, boot: Date | null): void {
  const socket = report.agent.socket ?? ctx.paths.socket;
  const pid = report.agent.pidAlive && report.agent.pid !== null ? report.agent.pid : findAgentBoundTo(socket, ctx.uid);
  const started = pid === undefined ? null : processStartTime(pid, boot);
  if (started !== null) {
    report.agent.started = started.toISOString();
    report.agent.startedFrom = 'process';
    return;
  }
  const st = lstatSync(socket, { throwIfNoEntry: false });
  if (st?.isSocket()) {
    report.agent.started = st.mtime.toISOString();
    report.agent.startedFrom = 'socket';
  }
}
