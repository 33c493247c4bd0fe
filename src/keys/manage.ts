// Key management for the login path (SPEC §4). PLACEHOLDER within the keys work in progress.
import { AgentkeepError, EXIT } from '../errors.js';
import type { Context } from '../context.js';
import type { Agent } from '../agent/discover.js';
import type { AgentkeepOptions } from '../cli/agentkeep-program.js';
import { removeAllIdentities } from '../agent/protocol.js';

/** Clears and loads the requested keys into the agent. */
export async function manageKeys(ctx: Context, agent: Agent, opts: AgentkeepOptions): Promise<void> {
  if (opts.clear) {
    await removeAllIdentities(agent.sock);
    ctx.report.info('Cleared all identities from the ssh-agent');
  }
  if (opts.noask || opts.keys.length === 0) return;
  throw new AgentkeepError('KEY_ADD', 'loading keys is not built yet');
}

/** `--ssh-rm KEY...`: removes the named keys from the agent. */
export async function removeNamedKeys(_ctx: Context, _agent: Agent, _opts: AgentkeepOptions): Promise<number> {
  throw new AgentkeepError('KEY_ADD', 'removing keys is not built yet');
  return EXIT.ok;
}
