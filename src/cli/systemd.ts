// `--systemd`: hands the agent's variables to the systemd user manager, one variable per call.
import { spawn } from 'node:child_process';
import type { Context } from '../context.js';
import type { Agent } from '../agent/discover.js';

function systemctlImport(name: string, value: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('systemctl', ['--user', 'import-environment', name], {
      env: { ...env, [name]: value }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000,
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (error) => resolve(error.message));
    child.on('close', (code) => resolve(code === 0 ? undefined : err.trim() || `exit status ${code}`));
  });
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
