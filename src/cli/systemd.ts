// `--systemd`: hands the agent's variables to the systemd user manager, one variable per call.
import { runChild } from '../child/run.js';
import type { Context } from '../context.js';
import type { Agent } from '../agent/discover.js';

const SYSTEMCTL_TIMEOUT_MS = 5000;

async function systemctlImport(name: string, value: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await runChild('systemctl', ['--user', 'import-environment', name], {
    env: { ...env, [name]: value }, stdio: ['ignore', 'ignore', 'pipe'], timeoutMs: SYSTEMCTL_TIMEOUT_MS,
  });
  if (r.error) return r.error.message;
  if (r.timedOut) return `no answer in ${SYSTEMCTL_TIMEOUT_MS / 1000} s`;
  return r.code === 0 ? undefined : r.stderr.trim() || `exit status ${r.status}`;
}

/** Imports SSH_AUTH_SOCK and SSH_AGENT_PID into `systemctl --user`; failures are warnings. */
export async function importIntoSystemd(ctx: Context, agent: Agent): Promise<void> {
  const vars: Array<[string, string]> = [['SSH_AUTH_SOCK', agent.sock]];
  if (agent.pid !== undefined) vars.push(['SSH_AGENT_PID', String(agent.pid)]);
  for (const [name, value] of vars) {
    const problem = await systemctlImport(name, value, ctx.env);
    if (problem) {
      ctx.report.warn(`systemctl --user import-environment ${name} failed: ${problem}`);
      return;
    }
    ctx.report.debug(`imported ${name} into systemctl --user`);
  }
}
