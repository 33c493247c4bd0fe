// What each of agentkeep's modes does once its options are parsed: log in (find or start the
// agent, load keys, print the environment), query, list, stop. cli/agentkeep-main.ts picks one.
import { AgentkeepError, EXIT } from '../errors.js';
import type { Context } from '../context.js';
import { ensureAgent, findAgent, agentFromPidfile, ownAgentPid, type Agent } from '../agent/discover.js';
import { fingerprintLine, publicKeyLine } from '../agent/keyblob.js';
import { stopAgents, stopTargets } from '../agent/stop.js';
import { removeEnvFiles } from '../envfile/store.js';
import { renderEnv } from '../envfile/render.js';
import { quoteSh } from '../shells/quote.js';
import { flavourForShell } from '../shells/flavours.js';
import type { AgentkeepOptions } from './agentkeep-options.js';
import { reportError, type Io } from './run-cli.js';
import { importIntoSystemd } from './systemd.js';
import { manageKeys } from '../keys/manage.js';
import { formatDuration } from '../options/values.js';

const DEFAULT_LOCKWAIT_MS = 5_000;

function describeAgent(agent: Agent): string {
  return agent.pid !== undefined ? `${agent.pid}` : agent.sock;
}

/** The usable agent, or NO_AGENT with the way to start one. */
export async function requireAgent(ctx: Context, opts: AgentkeepOptions): Promise<Agent> {
  const { agent, pidfile } = await findAgent(ctx, { inherit: !opts.noinherit, allowForwarded: opts.sshAllowForwarded, persist: false });
  if (agent) return agent;
  throw new AgentkeepError('NO_AGENT', `no usable ssh-agent: ${pidfile.problem ?? 'none found'}`, 'start one with: agentkeep');
}

/** `--stop mine|others|all`: stops the agents, and removes the env files that named ours. */
export async function runStop(ctx: Context, opts: AgentkeepOptions & { stop: NonNullable<AgentkeepOptions['stop']> }): Promise<number> {
  const targets = stopTargets(opts.stop, ctx.uid, ownAgentPid(ctx));
  if (targets.length === 0) {
    ctx.report.info(`No ssh-agent to stop (${opts.stop})`);
    return EXIT.ok;
  }
  const mine = ownAgentPid(ctx);
  const { stopped, survivors } = await stopAgents(targets, ctx.uid);
  for (const pid of stopped) ctx.report.info(`Stopped ssh-agent: ${pid}`);
  // As keychain does: env files that name the agent just stopped would send every shell to a dead socket.
  if (mine !== undefined && stopped.includes(mine)) {
    for (const file of removeEnvFiles(ctx.paths, ctx.uid)) ctx.report.debug(`removed ${file}`);
  }
  for (const pid of survivors) ctx.report.warn(`ssh-agent ${pid} did not exit after SIGTERM`);
  return survivors.length > 0 ? EXIT.failure : EXIT.ok;
}

/** `-l`/`-L`: the agent's keys on stdout. */
export async function runList(ctx: Context, opts: AgentkeepOptions, io: Io): Promise<number> {
  const agent = await requireAgent(ctx, opts);
  if (agent.identities.length === 0) {
    io.stderr('The agent has no identities.\n');
    return EXIT.failure;
  }
  for (const id of agent.identities) io.stdout(`${opts.list ? fingerprintLine(id) : publicKeyLine(id)}\n`);
  return EXIT.ok;
}

/** `--query`: the usable agent's variables on stdout, starting nothing. */
export async function runQuery(ctx: Context, opts: AgentkeepOptions, io: Io): Promise<number> {
  const { agent, pidfile } = await findAgent(ctx, { inherit: !opts.noinherit, allowForwarded: opts.sshAllowForwarded, persist: false });
  if (!agent) {
    ctx.report.debug(pidfile.problem ?? 'no agent');
    return EXIT.failure;
  }
  io.stdout(`SSH_AUTH_SOCK=${quoteSh(agent.sock)}\n`);
  if (agent.pid !== undefined) io.stdout(`SSH_AGENT_PID=${agent.pid}\n`);
  return EXIT.ok;
}

/** The default action: find or start the agent, manage keys, print the environment. */
export async function runLogin(ctx: Context, opts: AgentkeepOptions, io: Io): Promise<number> {
  let agent: Agent | undefined;
  let keysFailed: unknown;
  if (opts.quick) {
    const quick = (await agentFromPidfile(ctx, false)).agent;
    if (quick && quick.identities.length > 0) agent = quick;
  }
  if (!agent) {
    agent = await ensureAgent(ctx, {
      inherit: !opts.noinherit, allowForwarded: opts.sshAllowForwarded, persist: true,
      lock: !opts.nolock, lockWaitMs: opts.lockWaitMs ?? DEFAULT_LOCKWAIT_MS,
      agentLifetimeSec: opts.keyLifetimeSec,
    });
    if (agent.source === 'pidfile' || agent.source === 'environment') ctx.report.info(`Found existing ssh-agent: ${describeAgent(agent)}`);
    else if (agent.source === 'forwarded') ctx.report.info(`Using forwarded ssh-agent: ${agent.sock}`);
    try {
      await manageKeys(ctx, agent, { ...opts, retryArgs: retryArgs(opts) });
    } catch (error) {
      keysFailed = error;
    }
  } else {
    ctx.report.info(`Found existing ssh-agent: ${describeAgent(agent)}`);
  }
  if (opts.systemd) await importIntoSystemd(ctx, agent);
  if (opts.eval) io.stdout(renderEnv({ sock: agent.sock, pid: agent.pid }, flavourForShell(ctx.settings.shell)));
  if (keysFailed === undefined) return EXIT.ok;
  // The agent is fine, only keys are missing: the shell gets the agent, and eval's status says what failed (as keychain does).
  if (opts.eval) io.stdout('false;\n');
  return reportError('agentkeep', keysFailed, io, opts.debug);
}

/** The options that lead a later `agentkeep KEY` to this same agent, with the same key constraints. */
function retryArgs(opts: AgentkeepOptions): string[] {
  const args: string[] = [];
  if (opts.dir !== undefined) args.push('--dir', opts.dir);
  if (opts.absolute) args.push('--absolute');
  if (opts.host !== undefined) args.push('--host', opts.host);
  if (opts.keyLifetimeSec !== undefined) args.push('--timeout', formatDuration(opts.keyLifetimeSec * 1000));
  if (opts.confirm) args.push('--confirm');
  return args;
}
