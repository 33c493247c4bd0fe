// The `agentkeep` command line: keychain 2.x's options, each declared once (spelling, value
// check, help), parsed by commander into one plain object.
import type { Command } from 'commander';
import { ABSOLUTE, DIR, HELP, HOST, LOCK_WAIT, VERSION_OPTION } from '../options/common.js';
import { flagsOf, type OptionSpec } from '../options/spec.js';
import { duration, oneOf, text } from '../options/values.js';
import type { StopWhich } from '../agent/stop.js';
import type { KeyOptions } from '../keys/options.js';
import { flavourList, SHELL_FLAVOUR_NAMES } from '../shells/flavours.js';

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

/** agentkeep's options, in the order --help shows them. */
export const AGENTKEEP_OPTIONS: readonly OptionSpec[] = [
  { flags: '--eval', help: 'print the env lines for the current shell ($SHELL) on stdout; then "false;" if keys failed; only "false;" on other failures' },
  { flags: '--query', help: 'print SSH_AUTH_SOCK=/SSH_AGENT_PID= lines of the usable agent; exit 1 if there is none' },
  { flags: '-q, --quiet', help: 'print only warnings and prompts' },
  { flags: '-Q, --quick', help: 'if the agent answers and holds at least one key, stop there (no lock, no key checks)' },
  { flags: '--clear', help: 'remove every identity from the agent before adding the requested keys, where a passphrase can be asked for' },
  { flags: '--noask', help: 'ensure the agent and env files, but add no keys' },
  { flags: '--ignore-missing', help: 'no warning for key files that do not exist' },
  { flags: '--timeout <duration>', value: duration({ bareUnit: 'm' }),
    help: 'keys (and a newly started agent) expire after DURATION; a bare number is minutes, as in keychain (15, or 90s, 2h, 1h30m)' },
  { flags: '--confirm', help: 'ask for confirmation (ssh-add -c) each time a key is used' },
  { flags: '--nogui', help: 'never use the SSH_ASKPASS program; prompt only on a terminal' },
  { flags: '--keyring', help: 'take the passphrases of missing keys from the OS keyring first (agentkeep passphrase set KEY)' },
  { flags: '--wipe <agent>', value: oneOf(['ssh'] as const), help: 'remove all identities and exit (agent: ssh)' },
  { flags: '-r, --ssh-rm', help: 'remove the named keys from the agent and exit' },
  { flags: '-l, --list', help: 'list the fingerprints of the agent\'s keys and exit' },
  { flags: '-L, --list-fp', help: 'list the agent\'s public keys and exit' },
  { flags: '-k, --stop <which>', value: oneOf(['mine', 'others', 'all'] as const),
    help: 'stop agentkeep\'s agent (mine), your other ssh-agents (others) or all of them (all); a bare -k means all, as in keychain' },
  { flags: '--stop-bare', hidden: true, help: 'keychain\'s bare -k/--stop (rewritten before parsing)' },
  { flags: '-c, --confhost [host]', help: 'also load the IdentityFile of HOST in ~/.ssh/config (as host:HOST)' },
  { flags: '--env <file>', value: text, help: 'take PATH from FILE (read as data, never run; default KEYDIR/HOST-env or KEYDIR/env)' },
  DIR, ABSOLUTE, HOST,
  { flags: '--ssh-agent-socket <path>', value: text, help: 'start the agent at PATH instead of the stable socket in the key directory' },
  { flags: '--noinherit', help: 'ignore SSH_AUTH_SOCK from the environment' },
  { flags: '--ssh-allow-forwarded', help: 'use a forwarded agent (ssh -A) when there is no local one; never written to the env files' },
  { flags: '--nolock', help: 'do not take the lock (not safe when several shells start at once)' },
  LOCK_WAIT,
  { flags: '--confallhosts', help: 'also load every IdentityFile named in ~/.ssh/config' },
  { flags: '--extended', help: 'allow sshk:NAME and host:ALIAS key arguments' },
  { flags: '--systemd', help: 'also import the variables into systemctl --user' },
  { flags: '--debug', help: 'explain every decision on stderr' },
  { flags: '--nocolor', help: 'no colours (also: NO_COLOR=1)' },
  { flags: '--agents <list>', value: text, help: 'accepted for keychain: agentkeep manages ssh-agent only (others are ignored with a warning)' },
  { flags: '--gpg2', help: 'accepted for keychain and ignored with a warning (agentkeep does not manage gpg-agent)' },
  { flags: '--inherit <mode>', value: text, hidden: true, help: 'retired keychain option' },
  { flags: '--attempts <n>', value: text, hidden: true, help: 'retired keychain option' },
  VERSION_OPTION, HELP,
];

/** The spellings of agentkeep's options that take a value, so that a value is never taken for an option. */
export const AGENTKEEP_VALUE_OPTIONS: ReadonlySet<string> = new Set(AGENTKEEP_OPTIONS.flatMap((spec) => {
  const f = flagsOf(spec);
  return f.valueName !== undefined && !f.valueOptional ? [f.long, ...(f.short ? [f.short] : []), ...(spec.aliases ?? [])] : [];
}));

/** The usage lines and description --help shows above the options. */
export const AGENTKEEP_USAGE = `[options] [keys...]\n       agentkeep hook ${SHELL_FLAVOUR_NAMES.join('|')} | doctor [--json] [--user NAME] | passphrase set|forget|status KEY...\n       agentkeep authorize KEY --rsync-ro DIR|--rsync-wo DIR|--command CMD [--from LIST] [--append FILE]`;
export const AGENTKEEP_DESCRIPTION = `Start or find one long-lived ssh-agent, write its environment for ${flavourList('and')}, and load keys once per boot.`;

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
  if (o.timeout !== undefined) opts.keyLifetimeSec = o.timeout / 1000;
  if (o.wipe !== undefined) opts.wipe = o.wipe;
  if (o.stop !== undefined) opts.stop = o.stop;
  if (o.dir !== undefined) opts.dir = o.dir;
  if (o.host !== undefined) opts.host = o.host;
  if (o.sshAgentSocket !== undefined) opts.sshAgentSocket = o.sshAgentSocket;
  if (o.lockWait !== undefined) opts.lockWaitMs = o.lockWait;
  return opts;
}
