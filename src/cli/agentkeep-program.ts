// The `agentkeep` command line: keychain 2.x's options, parsed into one plain object.
import { Command, Option } from 'commander';
import { oneOf, wholeNumber } from './options.js';
import type { StopWhich } from '../agent/stop.js';
import type { KeyOptions } from '../keys/options.js';

/** Everything `agentkeep [options] [keys...]` was asked to do. */
export interface AgentkeepOptions extends KeyOptions {
  eval: boolean;
  query: boolean;
  quick: boolean;
  wipe?: 'ssh';
  sshRm: boolean;
  list: boolean;
  listFp: boolean;
  stop?: StopWhich;
  dir?: string;
  absolute: boolean;
  host?: string;
  sshAgentSocket?: string;
  noinherit: boolean;
  sshAllowForwarded: boolean;
  systemd: boolean;
  debug: boolean;
  nocolor: boolean;
  /** Retired keychain options that were given, for the one-line warning. */
  retired: string[];
  /** keychain's bare -k/--stop (stop all, with a warning). */
  stopBare: boolean;
  /** keychain's --confhost/-c HOST; true when given without a host. */
  confhost?: string | true;
  /** keychain's --env FILE (read as data: only PATH applies). */
  envFile?: string;
  /** keychain's --agents list and --gpg2, for the one warning about what is ignored. */
  agents?: string;
  gpg2: boolean;
}

/** Builds the commander program; `version` is printed by -V. */
export function agentkeepProgram(version: string): Command {
  const program = new Command('agentkeep')
    .usage('[options] [keys...]\n       agentkeep hook sh|csh|fish | doctor [--json] [--user NAME] | passphrase set|forget|status KEY...\n       agentkeep authorize KEY --rsync-ro DIR|--rsync-wo DIR|--command CMD [--from LIST] [--append FILE]')
    .description('Start or find one long-lived ssh-agent, write its environment for sh, csh and fish, and load keys once per boot.')
    .argument('[keys...]', 'key names in ~/.ssh (id_ed25519), paths, or with --extended sshk:NAME / host:ALIAS')
    .option('--eval', 'print the env lines for the current shell ($SHELL) on stdout; then "false;" if keys failed; only "false;" on other failures')
    .option('--query', 'print SSH_AUTH_SOCK=/SSH_AGENT_PID= lines of the usable agent; exit 1 if there is none')
    .option('-q, --quiet', 'print only warnings and prompts')
    .option('-Q, --quick', 'if the agent answers and holds at least one key, stop there (no lock, no key checks)')
    .option('--clear', 'remove every identity from the agent before adding the requested keys, where a passphrase can be asked for')
    .option('--noask', 'ensure the agent and env files, but add no keys')
    .option('--ignore-missing', 'no warning for key files that do not exist')
    .addOption(new Option('--timeout <minutes>', 'keys (and a newly started agent) expire after this many minutes').argParser(wholeNumber('--timeout', 1)))
    .option('--confirm', 'ask for confirmation (ssh-add -c) each time a key is used')
    .option('--nogui', 'never use the SSH_ASKPASS program; prompt only on a terminal')
    .option('--keyring', 'take the passphrases of missing keys from the OS keyring first (agentkeep passphrase set KEY)')
    .addOption(new Option('--wipe <agent>', 'remove all identities and exit (agent: ssh)').argParser(oneOf('--wipe', ['ssh'] as const)))
    .option('-r, --ssh-rm', 'remove the named keys from the agent and exit')
    .option('-l, --list', 'list the fingerprints of the agent\'s keys and exit')
    .option('-L, --list-fp', 'list the agent\'s public keys and exit')
    .addOption(new Option('-k, --stop <which>', 'stop agentkeep\'s agent (mine), your other ssh-agents (others) or all of them (all); a bare -k means all, as in keychain').argParser(oneOf('--stop', ['mine', 'others', 'all'] as const)))
    .addOption(new Option('--stop-bare').hideHelp())
    .option('-c, --confhost [host]', 'also load the IdentityFile of HOST in ~/.ssh/config (as host:HOST)')
    .option('--env <file>', 'take PATH from FILE (read as data, never run; default KEYDIR/HOST-env or KEYDIR/env)')
    .option('--dir <dir>', 'keep files in DIR/.keychain instead of ~/.keychain (DIR itself when it contains "/.", as ~/.cache)')
    .option('--absolute', 'with --dir: use DIR itself, not DIR/.keychain')
    .option('--host <name>', 'use NAME in file names instead of the node name (uname -n)')
    .option('--ssh-agent-socket <path>', 'start the agent at PATH instead of the stable socket in the key directory')
    .option('--noinherit', 'ignore SSH_AUTH_SOCK from the environment')
    .option('--ssh-allow-forwarded', 'use a forwarded agent (ssh -A) when there is no local one; never written to the env files')
    .option('--nolock', 'do not take the lock (not safe when several shells start at once)')
    .addOption(new Option('--lockwait <seconds>', 'wait at most this long for the lock (default: 5 to start the agent, 120 while another terminal loads keys)').argParser(wholeNumber('--lockwait')))
    .option('--confallhosts', 'also load every IdentityFile named in ~/.ssh/config')
    .option('--extended', 'allow sshk:NAME and host:ALIAS key arguments')
    .option('--systemd', 'also import the variables into systemctl --user')
    .option('--debug', 'explain every decision on stderr')
    .option('--nocolor', 'no colours (also: NO_COLOR=1)')
    .option('--agents <list>', 'accepted for keychain: agentkeep manages ssh-agent only (others are ignored with a warning)')
    .option('--gpg2', 'accepted for keychain and ignored with a warning (agentkeep does not manage gpg-agent)')
    .addOption(new Option('--inherit <mode>').hideHelp())
    .addOption(new Option('--attempts <n>').hideHelp())
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(true)
    .showSuggestionAfterError(true);
  return program;
}

/** Converts commander's parse result into AgentkeepOptions. */
export function toAgentkeepOptions(program: Command): AgentkeepOptions {
  const o = program.opts();
  const retired = ['inherit', 'attempts'].filter((name) => o[name] !== undefined).map((name) => `--${name}`);
  const opts: AgentkeepOptions = {
    keys: program.args,
    eval: Boolean(o.eval), query: Boolean(o.query), quiet: Boolean(o.quiet), quick: Boolean(o.quick),
    clear: Boolean(o.clear), noask: Boolean(o.noask), ignoreMissing: Boolean(o.ignoreMissing),
    confirm: Boolean(o.confirm), nogui: Boolean(o.nogui), keyring: Boolean(o.keyring), sshRm: Boolean(o.sshRm),
    list: Boolean(o.list), listFp: Boolean(o.listFp), absolute: Boolean(o.absolute),
    noinherit: Boolean(o.noinherit), sshAllowForwarded: Boolean(o.sshAllowForwarded), nolock: Boolean(o.nolock),
    confallhosts: Boolean(o.confallhosts), extended: Boolean(o.extended), systemd: Boolean(o.systemd),
    debug: Boolean(o.debug), nocolor: Boolean(o.nocolor), retired,
    stopBare: Boolean(o.stopBare), gpg2: Boolean(o.gpg2),
  };
  if (o.confhost !== undefined) opts.confhost = o.confhost;
  if (o.env !== undefined) opts.envFile = o.env;
  if (o.agents !== undefined) opts.agents = o.agents;
  if (o.timeout !== undefined) opts.timeout = o.timeout;
  if (o.wipe !== undefined) opts.wipe = o.wipe;
  if (o.stop !== undefined) opts.stop = o.stop;
  if (o.dir !== undefined) opts.dir = o.dir;
  if (o.host !== undefined) opts.host = o.host;
  if (o.sshAgentSocket !== undefined) opts.sshAgentSocket = o.sshAgentSocket;
  if (o.lockwait !== undefined) opts.lockwait = o.lockwait;
  return opts;
}
