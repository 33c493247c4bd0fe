// The human-readable form of a DoctorReport: the key directory and agent, then each crontab
// entry that runs agentrun with its last run and whether it will run next time, then problems.
import type { DoctorReport, FileCheck } from './inspect.js';
import type { JobReport } from './jobs.js';
import { localTime } from './times.js';

/** `ok`, `UNSAFE`, or for root looking at a user's files (inspect's OTHER_USERS_FILES rule) whose they are. */
function describe(check: FileCheck, uid: number): string {
  if (!check.exists) return 'missing';
  const label = check.ok ? 'ok' : uid === 0 && check.owner !== 0 && check.type !== 'symlink' ? `another user's` : 'UNSAFE';
  return `${label} (${check.type}, uid ${check.owner}, mode ${check.mode})`;
}

const when = (iso: string) => localTime(new Date(iso));

/** The one or two summary lines of a job: its last run, and whether it runs next time with the fix. */
function jobSummary(job: JobReport): string[] {
  const out: string[] = [];
  const last = job.lastRun;
  if (last) {
    if (last.status === null) out.push(`last run ${when(last.at)}: started, no end line yet (still running, or agentrun was killed)`);
    else out.push(`last run ${when(last.at)}: exit ${last.status}${last.why ? ` (${last.why})` : ''}${last.seconds !== null ? `, ${last.seconds} s` : ''}`);
  } else if (job.log) {
    out.push(`last run: none recorded in ${job.log.path}`);
  }
  const [first, ...rest] = job.issues;
  if (!first) {
    out.push('tonight: will run');
  } else {
    out.push(`tonight: will fail with ${first.status} — fix: ${first.fix}`, `  (${first.message})`);
    for (const issue of rest) out.push(`then: would fail with ${issue.status} — fix: ${issue.fix}`, `  (${issue.message})`);
  }
  return out;
}

/** One aligned line: the label padded to its column, then the text. */
const row = (label: string, text: string): string => `${label.padEnd(17)}${text}`;

/** `1 agentrun entry`, `2 agentrun entries`. */
const agentrunEntries = (n: number): string => `${n} agentrun entr${n === 1 ? 'y' : 'ies'}`;

/** A --require key and whether the agent holds it. */
function requirement(req: DoctorReport['required'][number]): string {
  return `${req.key} ${req.fingerprint ?? '(fingerprint unknown)'} ${req.loaded ? 'loaded' : 'NOT loaded'}`;
}

/** Whose setup, the host, the last boot, and the key directory with its env files. */
function setupRows(r: DoctorReport): string[] {
  const out: string[] = [];
  if (r.user.inspectedBy === 'root') out.push(row('user', `${r.user.name} (uid ${r.uid}, HOME ${r.user.home}), judged as ${r.user.name}`));
  out.push(row('host name', `${r.host.name} (${r.host.source === 'option' ? 'from --host' : 'uname -n'})`));
  out.push(row('last boot', r.boot ? when(r.boot) : 'unknown'));
  out.push(row('key dir', `${r.keydir.path}  ${describe(r.keydir, r.uid)}`));
  for (const f of r.envFiles) out.push(row(`env file ${f.flavour}`, `${f.path}  ${describe(f, r.uid)}`));
  if (r.otherHostEnvFiles.length > 0) out.push(row('other hosts', r.otherHostEnvFiles.join(', ')));
  return out;
}

/** The agent: its socket and pid, whether it answers and with which keys, and when it started. */
function agentRows(r: DoctorReport): string[] {
  const out: string[] = [];
  if (r.agent.socket) {
    const pid = r.agent.pid === null ? 'no pid' : `pid ${r.agent.pid}${r.agent.pidAlive ? '' : ', not running'}`;
    out.push(row('agent', `${r.agent.socket} (${pid}): ${r.agent.answering ? `answering, ${r.agent.identities.length} key${r.agent.identities.length === 1 ? '' : 's'}` : `NOT answering: ${r.agent.detail}`}`));
    for (const id of r.agent.identities) out.push(row('', `${id.bits} ${id.fingerprint} ${id.comment || '(no comment)'} (${id.type})`));
  } else {
    out.push(row('agent', 'none (no usable env file)'));
  }
  if (r.agent.started) {
    const before = r.boot !== null && r.agent.started < r.boot ? ', before the last boot' : '';
    out.push(row('agent started', `${when(r.agent.started)} (${r.agent.startedFrom === 'process' ? 'its process' : 'its socket\'s mtime'}${before})`));
  }
  return out;
}

/** The crontab and how many agentrun entries it has; with none, what cron's default PATH finds. */
function crontabRows(r: DoctorReport): string[] {
  const crontab = r.crontab.present ? `${r.crontab.source}: ${agentrunEntries(r.jobs.length)} of ${r.crontab.entries}` : `${r.crontab.source}: ${r.crontab.detail}`;
  const out = [row('crontab', crontab)];
  if (r.jobs.length === 0) {
    out.push(row('cron PATH', r.cron.path));
    out.push(row('  agentrun', r.cron.agentrun ?? 'NOT found'));
    out.push(row('  node', r.cron.node ?? 'NOT found'));
  }
  return out;
}

/** The --log file of a job: whether it exists, and its last start and end lines. */
function logText(log: NonNullable<JobReport['log']>): string {
  const events = [log.lastStart && `last start ${when(log.lastStart.at)}`, log.lastEnd && `last ${log.lastEnd.kind} ${when(log.lastEnd.at)}`].filter(Boolean);
  return `${log.path}${log.exists ? events.length > 0 ? `: ${events.join(', ')}` : ': no agentrun lines' : ' (not created yet)'}`;
}

/** One agentrun entry: its line, what its PATH finds, its options, and its summary. */
function jobLines(job: JobReport): string[] {
  const out = [`line ${job.line}: ${job.schedule}  ${job.command}`];
  const pathFrom = job.pathSource === 'default' ? 'cron\'s default' : job.pathSource === 'entry' ? 'set in the entry' : 'from the crontab';
  out.push(row('  PATH', `${job.path} (${pathFrom}); SHELL ${job.shell}${job.mailto !== null ? `; MAILTO ${job.mailto || '(none)'}` : ''}`));
  out.push(row('  agentrun', job.agentrun ?? 'NOT found'));
  out.push(row('  node', job.node ?? 'NOT found'));
  if (job.program) out.push(row('  command', `${job.program.name}: ${job.program.path ?? 'NOT found'}`));
  if (job.ephemeral) out.push(row('  --ephemeral', 'a private agent per run (the long-lived agent is not used)'));
  for (const req of job.required) out.push(row('  --require', requirement(req)));
  if (job.lock) out.push(row('  --lock', `${job.lock.name}: ${job.lock.held ? 'HELD right now by a running job' : 'free'}`));
  if (job.log) out.push(row('  --log', logText(job.log)));
  if (job.note) out.push(row('  note', job.note));
  for (const line of jobSummary(job)) out.push(`  ${line}`);
  return out;
}

/** The closing lines: healthy, or how many entries would not run and the problems that are no one entry's, each with its fix. */
function verdictLines(r: DoctorReport): string[] {
  if (r.healthy) return [r.jobs.length > 0 ? `healthy: every agentrun entry would run now.` : 'healthy: a cron job running agentrun now would get the agent.'];
  const out: string[] = [];
  const general = r.problems.filter((p) => p.job === undefined);
  const failing = r.jobs.filter((j) => j.status !== 0).length;
  if (failing > 0) out.push(`${failing} of ${agentrunEntries(r.jobs.length)} would not run now (see "tonight" above).`);
  if (general.length > 0) {
    out.push(`${general.length} problem${general.length === 1 ? '' : 's'} (agentrun would exit ${r.agentrunStatus}${r.agentrunStatus === 0 ? ' once started' : ' without running the job'}):`);
    for (const p of general) {
      out.push(`  * ${p.message}`);
      if (p.fix) out.push(`    fix: ${p.fix}`);
    }
  }
  return out;
}

/** Renders the report as aligned lines, problems last, each with its fix. */
export function renderReport(r: DoctorReport): string {
  const out = [...setupRows(r), ...agentRows(r)];
  for (const req of r.required) out.push(row('--require', requirement(req)));
  out.push(...crontabRows(r));
  for (const job of r.jobs) out.push('', ...jobLines(job));
  out.push('', ...verdictLines(r));
  return `${out.join('\n')}\n`;
}
