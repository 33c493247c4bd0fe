// The human-readable form of a DoctorReport.
import type { DoctorReport, FileCheck } from './inspect.js';

function describe(check: FileCheck): string {
  if (!check.exists) return 'missing';
  return `${check.ok ? 'ok' : 'UNSAFE'} (${check.type}, uid ${check.owner}, mode ${check.mode})`;
}

/** Renders the report as aligned lines, problems last, each with its fix. */
export function renderReport(r: DoctorReport): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`${label.padEnd(17)}${text}`);
  row('host name', `${r.host.name} (${r.host.source === 'option' ? 'from --host' : 'uname -n'})`);
  row('key dir', `${r.keydir.path}  ${describe(r.keydir)}`);
  for (const f of r.envFiles) row(`env file ${f.flavour}`, `${f.path}  ${describe(f)}`);
  if (r.otherHostEnvFiles.length > 0) row('other hosts', r.otherHostEnvFiles.join(', '));
  if (r.agent.socket) {
    const pid = r.agent.pid === null ? 'no pid' : `pid ${r.agent.pid}${r.agent.pidAlive ? '' : ', not running'}`;
    row('agent', `${r.agent.socket} (${pid}): ${r.agent.answering ? `answering, ${r.agent.identities.length} key${r.agent.identities.length === 1 ? '' : 's'}` : `NOT answering: ${r.agent.detail}`}`);
    for (const id of r.agent.identities) row('', `${id.bits} ${id.fingerprint} ${id.comment || '(no comment)'} (${id.type})`);
  } else {
    row('agent', 'none (no usable env file)');
  }
  for (const req of r.required) row('--require', `${req.key} ${req.fingerprint ?? '(fingerprint unknown)'} ${req.loaded ? 'loaded' : 'NOT loaded'}`);
  row('cron PATH', r.cron.path);
  row('  agentrun', r.cron.agentrun ?? 'NOT found');
  row('  node', r.cron.node ?? 'NOT found');
  out.push('');
  if (r.healthy) {
    out.push('healthy: a cron job running agentrun now would get the agent.');
  } else {
    out.push(`${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} (agentrun would exit ${r.agentrunStatus}${r.agentrunStatus === 0 ? ' once started' : ' without running the job'}):`);
    for (const p of r.problems) {
      out.push(`  * ${p.message}`);
      if (p.fix) out.push(`    fix: ${p.fix}`);
    }
  }
  return `${out.join('\n')}\n`;
}
