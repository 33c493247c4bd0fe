// `agentkeep`: argv → options → agent discovery, keys and output. The only place that prints.
import { statSync } from 'node:fs';
import { AgentkeepError, EXIT } from '../errors.js';
import { withEnv, type Context } from '../context.js';
import { ensureAgent, findAgent, agentFromPidfile, ownAgentPid, type Agent } from '../agent/discover.js';
import { removeAllIdentities } from '../agent/protocol.js';
import { fingerprintLine, publicKeyLine } from '../agent/keyblob.js';
import { stopAgents, stopTargets } from '../agent/stop.js';
import { removeEnvFiles } from '../envfile/store.js';
import { applyKeychainEnv, keychainEnvCandidates } from '../envfile/keychain-env.js';
import { keyPath } from '../keys/resolve.js';
import { confhostKeys, dropGpg, rewriteBareStop } from './keychain-compat.js';
import { renderEnv } from '../envfile/render.js';
import { quoteSh } from '../shells/quote.js';
import { flavourForShell } from '../shells/flavours.js';
import { AGENTKEEP_DESCRIPTION, AGENTKEEP_OPTIONS, AGENTKEEP_USAGE, AGENTKEEP_VALUE_OPTIONS, toAgentkeepOptions, type AgentkeepOptions } from './agentkeep-options.js';
import { commanderArgv, commanderProgram } from './commander-options.js';
import { terminalReporter, wantColor } from './reporter.js';
import { contextFor } from './context.js';
import { commanderOutcome, reportError, type Io } from './run-cli.js';
import { subcommands } from './subcommands.js';
import { importIntoSystemd } from './systemd.js';
import { manageKeys, removeNamedKeys } from '../keys/manage.js';
import { VERSION } from '../version.js';
import { formatDuration } from '../options/values.js';
import { assertUtf8 } from '../utf8-check.js';

const DEFAULT_LOCKWAIT_MS = 5_000;

/** The Context for agentkeep's options: paths, and a reporter honouring --quiet/--debug/--nocolor. */
export function makeContext(opts: Pick<AgentkeepOptions, 'dir' | 'absolute' | 'host' | 'sshAgentSocket' | 'quiet' | 'debug' | 'nocolor'>, io: Io): Context {
  const report = terminalReporter({ quiet: opts.quiet, debug: opts.debug, color: wantColor(io.stderrIsTTY, opts.nocolor, io.env), write: io.stderr });
  return contextFor({ dir: opts.dir, absolute: opts.absolute, host: opts.host, socket: opts.sshAgentSocket }, io, report);
}

function describeAgent(agent: Agent): string {
  return agent.pid !== undefined ? `${agent.pid}` : agent.sock;
}

async function requireAgent(ctx: Context, opts: AgentkeepOptions): Promise<Agent> {
  const { agent, pidfile } = await findAgent(ctx, { inherit: !opts.noinherit, allowForwarded: opts.sshAllowForwarded, persist: false });
  if (agent) return agent;
  throw new AgentkeepError('NO_AGENT', `no usable ssh-agent: ${pidfile.problem ?? 'none found'}`, 'start one with: agentkeep');
}

async function runStop(ctx: Context, opts: AgentkeepOptions & { stop: NonNullable<AgentkeepOptions['stop']> }): Promise<number> {
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

async function runList(ctx: Context, opts: AgentkeepOptions, io: Io): Promise<number> {
  const agent = await requireAgent(ctx, opts);
  if (agent.identities.length === 0) {
    io.stderr('The agent has no identities.\n');
    return EXIT.failure;
  }
  for (const id of agent.identities) io.stdout(`${opts.list ? fingerprintLine(id) : publicKeyLine(id)}\n`);
  return EXIT.ok;
}

async function runQuery(ctx: Context, opts: AgentkeepOptions, io: Io): Promise<number> {
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
async function runLogin(ctx: Context, opts: AgentkeepOptions, io: Io): Promise<number> {
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
  if (opts.eval) io.stdout(renderEnv({ sock: agent.sock, pid: agent.pid }, flavourForShell(io.env.SHELL)));
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

/** What agentkeep does instead of each retired keychain option. */
const RETIRED_BECAUSE: Record<string, string> = {
  '--inherit': 'a validated local agent is always inherited; --noinherit turns that off, --ssh-allow-forwarded admits a forwarded one',
  '--attempts': 'each key gets 3 passphrase attempts, at a terminal and through SSH_ASKPASS',
};

async function dispatch(opts: AgentkeepOptions, io: Io): Promise<number> {
  let ctx = makeContext(opts, io);
  for (const flag of opts.retired) ctx.report.warn(`${flag} is retired and ignored (${RETIRED_BECAUSE[flag] ?? 'agentkeep decides this itself'})`);
  ctx = withEnv(ctx, applyKeychainEnv(ctx.env, ctx.home, ctx.uid, keychainEnvCandidates(ctx.paths.keydir, ctx.paths.host, opts.envFile), ctx.report));
  if (opts.stopBare && !opts.stop) {
    ctx.report.warn('--stop without an argument is deprecated; stopping all of your ssh-agents (write --stop all)');
    opts = { ...opts, stop: 'all' };
  }
  if (opts.stop) {
    const stopped = await runStop(ctx, { ...opts, stop: opts.stop });
    // keychain goes on after --stop others (its old spelling of "one agent per user" on login
    // lines): a line that asks for the environment or for keys still gets them.
    if (opts.stop !== 'others' || stopped !== EXIT.ok || !(opts.eval || opts.keys.length > 0)) return stopped;
  }
  const isFile = (arg: string) => { try { return statSync(keyPath(arg, ctx.home)).isFile(); } catch { return false; } };
  opts = { ...opts, keys: dropGpg(opts.keys, opts, isFile, ctx.report) };
  if (opts.confhost !== undefined) opts = { ...opts, keys: [...opts.keys, ...await confhostKeys(opts.confhost, ctx.home, ctx.env, ctx.report)] };
  if (opts.query) return runQuery(ctx, opts, io);
  if (opts.list || opts.listFp) return runList(ctx, opts, io);
  if (opts.wipe) {
    const agent = await requireAgent(ctx, opts);
    await removeAllIdentities(agent.sock);
    ctx.report.info('All identities removed from the ssh-agent');
    return EXIT.ok;
  }
  if (opts.sshRm) return removeNamedKeys(ctx, await requireAgent(ctx, opts), opts);
  return runLogin(ctx, opts, io);
}

/** Runs `agentkeep` with the given Io and returns the exit status. */
export async function agentkeepMain(io: Io): Promise<number> {
  const sub = io.argv[0] !== undefined ? subcommands[io.argv[0]] : undefined;
  if (sub) return sub(io.argv.slice(1), io);
  const wantsEval = io.argv.includes('--eval');
  const program = commanderProgram('agentkeep', AGENTKEEP_OPTIONS, io, { helpToStderr: wantsEval })
    .usage(AGENTKEEP_USAGE)
    .description(AGENTKEEP_DESCRIPTION)
    .argument('[keys...]', 'key names in ~/.ssh (id_ed25519), paths, or with --extended sshk:NAME / host:ALIAS')
    .version(VERSION, '-V, --version', 'print the version')
    .allowExcessArguments(true);
  let opts: AgentkeepOptions | undefined;
  try {
    io.argv.forEach((word, i) => assertUtf8(word, `argument ${i + 1}`));
    program.parse(rewriteBareStop(commanderArgv(io.argv, AGENTKEEP_OPTIONS), AGENTKEEP_VALUE_OPTIONS), { from: 'user' });
    opts = toAgentkeepOptions(program);
    return await dispatch(opts, io);
  } catch (error) {
    // `eval "$(agentkeep --eval)"` must fail safely, never evaluate half an answer; help and version are not failures.
    if (wantsEval && commanderOutcome(error) !== 'shown') io.stdout('false;\n');
    return reportError('agentkeep', error, io, opts?.debug);
  }
}
