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

/** Renders the report as aligned lines, problems last, each with its fix. */
export function renderReport(r: DoctorReport): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`${label.padEnd(17)}${text}`);
  if (r.user.inspectedBy === 'root') row('user', `${r.user.name} (uid ${r.uid}, HOME ${r.user.home}), judged as ${r.user.name}`);
  row('host name', `${r.host.name} (${r.host.source === 'option' ? 'from --host' : 'uname -n'})`);
  row('last boot', r.boot ? when(r.boot) : 'unknown');
  row('key dir', `${r.keydir.path}  ${describe(r.keydir, r.uid)}`);
  for (const f of r.envFiles) row(`env file ${f.flavour}`, `${f.path}  ${describe(f, r.uid)}`);
  if (r.otherHostEnvFiles.length > 0) row('other hosts', r.otherHostEnvFiles.join(', '));
  if (r.agent.socket) {
    const pid = r.agent.pid === null ? 'no pid' : `pid ${r.agent.pid}${r.agent.pidAlive ? '' : ', not running'}`;
    row('agent', `${r.agent.socket} (${pid}): ${r.agent.answering ? `answering, ${r.agent.identities.length} key${r.agent.identities.length === 1 ? '' : 's'}` : `NOT answering: ${r.agent.detail}`}`);
    for (const id of r.agent.identities) row('', `${id.bits} ${id.fingerprint} ${id.comment || '(no comment)'} (${id.type})`);
  } else {
    row('agent', 'none (no usable env file)');
  }
  if (r.agent.started) {
    const before = r.boot !== null && r.agent.started < r.boot ? ', before the last boot' : '';
    row('agent started', `${when(r.agent.started)} (${r.agent.startedFrom === 'process' ? 'its process' : 'its socket\'s mtime'}${before})`);
  }
  for (const req of r.required) row('--require', `${req.key} ${req.fingerprint ?? '(fingerprint unknown)'} ${req.loaded ? 'loaded' : 'NOT loaded'}`);
  const crontab = r.crontab.present ? `${r.crontab.source}: ${r.jobs.length} agentrun entr${r.jobs.length === 1 ? 'y' : 'ies'} of ${r.crontab.entries}` : `${r.crontab.source}: ${r.crontab.detail}`;
  row('crontab', crontab);
  if (r.jobs.length === 0) {
    row('cron PATH', r.cron.path);
    row('  agentrun', r.cron.agentrun ?? 'NOT found');
    row('  node', r.cron.node ?? 'NOT found');
  }
  for (const job of r.jobs) {
    out.push('');
    out.push(`line ${job.line}: ${job.schedule}  ${job.command}`);
    const pathFrom = job.pathSource === 'default' ? 'cron\'s default' : job.pathSource === 'entry' ? 'set in the entry' : 'from the crontab';
    row('  PATH', `${job.path} (${pathFrom}); SHELL ${job.shell}${job.mailto !== null ? `; MAILTO ${job.mailto || '(none)'}` : ''}`);
    row('  agentrun', job.agentrun ?? 'NOT found');
    row('  node', job.node ?? 'NOT found');
    if (job.program) row('  command', `${job.program.name}: ${job.program.path ?? 'NOT found'}`);
    if (job.ephemeral) row('  --ephemeral', 'a private agent per run (the long-lived agent is not used)');
    for (const req of job.required) row('  --require', `${req.key} ${req.fingerprint ?? '(fingerprint unknown)'} ${req.loaded ? 'loaded' : 'NOT loaded'}`);
    if (job.lock) row('  --lock', `${job.lock.name}: ${job.lock.held ? 'HELD right now by a running job' : 'free'}`);
    if (job.log) {
      const events = [job.log.lastStart && `last start ${when(job.log.lastStart.at)}`, job.log.lastEnd && `last ${job.log.lastEnd.kind} ${when(job.log.lastEnd.at)}`].filter(Boolean);
      row('  --log', `${job.log.path}${job.log.exists ? events.length > 0 ? `: ${events.join(', ')}` : ': no agentrun lines' : ' (not created yet)'}`);
    }
    if (job.note) row('  note', job.note);
    for (const line of jobSummary(job)) out.push(`  ${line}`);
  }
  out.push('');
  const general = r.problems.filter((p) => p.job === undefined);
  const failing = r.jobs.filter((j) => j.status !== 0).length;
  if (r.healthy) {
    out.push(r.jobs.length > 0 ? `healthy: every agentrun entry would run now.` : 'healthy: a cron job running agentrun now would get the agent.');
  } else {
    if (failing > 0) out.push(`${failing} of ${r.jobs.length} agentrun entr${r.jobs.length === 1 ? 'y' : 'ies'} would not run now (see "tonight" above).`);
    if (general.length > 0) {
      out.push(`${general.length} problem${general.length === 1 ? '' : 's'} (agentrun would exit ${r.agentrunStatus}${r.agentrunStatus === 0 ? ' once started' : ' without running the job'}):`);
      for (const p of general) {
        out.push(`  * ${p.message}`);
        if (p.fix) out.push(`    fix: ${p.fix}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}
