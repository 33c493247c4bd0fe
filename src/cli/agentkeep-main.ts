// `agentkeep`: argv → options (agentkeep-options.ts) → one mode (agentkeep-actions.ts), every
// error through the one seam (run-cli.ts). Subcommands branch off before the options are read.
import { statSync } from 'node:fs';
import { EXIT } from '../errors.js';
import { silentReporter, withEnv, type Context } from '../context.js';
import { removeAllIdentities } from '../agent/protocol.js';
import { applyKeychainEnv, keychainEnvCandidates } from '../envfile/keychain-env.js';
import { keyPath } from '../keys/resolve.js';
import { confhostKeys, dropGpg, rewriteBareStop } from './keychain-compat.js';
import { AGENTKEEP_DESCRIPTION, AGENTKEEP_OPTIONS, AGENTKEEP_USAGE, AGENTKEEP_VALUE_OPTIONS, toAgentkeepOptions, type AgentkeepOptions } from './agentkeep-options.js';
import { commanderProgram } from './commander-options.js';
import { rewriteAliases } from '../options/spec.js';
import { terminalReporter, wantColor } from './reporter.js';
import { contextFor } from './caller-context.js';
import { commanderOutcome, reportError, type Io } from './run-cli.js';
import { subcommands } from './subcommands.js';
import { requireAgent, runList, runLogin, runQuery, runStop } from './agentkeep-actions.js';
import { removeNamedKeys } from '../keys/manage.js';
import { VERSION } from '../version.js';
import { assertUtf8 } from '../utf8-check.js';
import { VERSION_OPTION } from '../options/common.js';

/** The Context for agentkeep's options: paths, and a reporter honouring --quiet/--debug/--nocolor. */
function makeContext(opts: Pick<AgentkeepOptions, 'dir' | 'absolute' | 'host' | 'sshAgentSocket' | 'quiet' | 'debug' | 'nocolor'>, io: Io): Context {
  const ctx = contextFor({ dir: opts.dir, absolute: opts.absolute, host: opts.host, socket: opts.sshAgentSocket }, io, silentReporter);
  const color = wantColor(io.stderrIsTTY, opts.nocolor, ctx.settings.noColor);
  return { ...ctx, report: terminalReporter({ quiet: opts.quiet, debug: opts.debug, color, write: io.stderr }) };
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
    .version(VERSION, VERSION_OPTION.flags, VERSION_OPTION.help)
    .allowExcessArguments(true);
  let opts: AgentkeepOptions | undefined;
  try {
    io.argv.forEach((word, i) => assertUtf8(word, `argument ${i + 1}`));
    program.parse(rewriteBareStop(rewriteAliases(io.argv, AGENTKEEP_OPTIONS), AGENTKEEP_VALUE_OPTIONS), { from: 'user' });
    opts = toAgentkeepOptions(program);
    return await dispatch(opts, io);
  } catch (error) {
    // `eval "$(agentkeep --eval)"` must fail safely, never evaluate half an answer; help and version are not failures.
    if (wantsEval && commanderOutcome(error) !== 'shown') io.stdout('false;\n');
    return reportError('agentkeep', error, io, opts?.debug);
  }
}
