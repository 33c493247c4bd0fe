// The `agentrun` command line: its options declared once (src/options/spec.ts), parsed so that
// options stop at the first word that is not an option: from COMMAND on, everything reaches the
// job untouched.
import { AgentkeepError } from '../errors.js';
import { ABSOLUTE, DIR, HELP, HOST, LOCK_WAIT, REQUIRE, VERSION_OPTION } from '../options/common.js';
import { parseOptions, renderOptionHelp, type OptionSpec } from '../options/spec.js';
import { badValue, duration, text } from '../options/values.js';

/** Everything `agentrun [options] COMMAND [ARGS...]` was asked to do. */
export interface RunArgs {
  command: string[];
  require: string[];
  dir?: string;
  absolute: boolean;
  host?: string;
  /** The lock name; `true` means the default name derived from the command. */
  lock?: string | true;
  lockWaitMs: number;
  timeoutMs?: number;
  killAfterMs: number;
  log?: string;
  quiet: boolean;
  /** `--ephemeral KEY`: run with a private agent holding these keys instead of the long-lived one. */
  ephemeral: string[];
  /** `--askpass PROGRAM`, for --ephemeral keys without a usable stored passphrase. */
  askpass?: string;
}

/** What agentrun was asked: help, version, or a job to run. */
export type ParsedRun = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; args: RunArgs };

/** Grace between TERM and KILL when --timeout expires, unless --kill-after says otherwise. */
export const DEFAULT_KILL_AFTER_MS = 10_000;

/** Lock names become file names in the key directory. */
const LOCK_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@%+=:,-]{0,99}$/;

function lockName(raw: string): string {
  if (!LOCK_NAME.test(raw)) throw badValue(`invalid lock name ${JSON.stringify(raw)}`, 'use letters, digits and . _ - (at most 100 characters), e.g. --lock db1-dump');
  return raw;
}

/** agentrun's options, in the order --help shows them. */
export const RUN_OPTIONS: readonly OptionSpec[] = [
  REQUIRE, DIR, ABSOLUTE, HOST,
  { flags: '--lock [name]', value: lockName,
    help: 'do not start while another run with this lock runs (exit 75); --lock NAME also works; bare --lock (then -- or another option) uses a name derived from the command' },
  LOCK_WAIT,
  { flags: '--timeout <duration>', value: duration(),
    help: 'stop the job after DURATION (90, 90s, 15m, 2h, 1h30m): TERM to its process group, KILL after the grace period; exit 124' },
  { flags: '--kill-after <duration>', value: duration({ zero: true }), help: 'grace period between TERM and KILL (default 10s)' },
  { flags: '--ephemeral <key>', value: text, repeat: true,
    help: 'run with a private ssh-agent holding KEY (repeatable), started for this job and stopped after it; the long-lived agent is not used. Passphrases come from the keyring (agentkeep passphrase set KEY)' },
  { flags: '--askpass <program>', value: text, help: 'with --ephemeral: ask PROGRAM for passphrases the keyring lacks' },
  { flags: '--log <file>', value: text, help: 'append start/end lines and the job\'s output to FILE' },
  { flags: '-q, --quiet', help: 'print the job\'s output only if it fails (cron mails only failures)' },
  HELP, VERSION_OPTION,
];

function usage(message: string, hint: string): AgentkeepError {
  return new AgentkeepError('USAGE', message, hint);
}

/** Parses agentrun's argv (without node and the script). */
export function parseRunArgs(argv: string[]): ParsedRun {
  const parsed = parseOptions(argv, RUN_OPTIONS, 'see: agentrun --help; put -- before a command that starts with "-"');
  if (parsed.endedBy === '--help') return { kind: 'help' };
  if (parsed.endedBy === '--version') return { kind: 'version' };
  const v = parsed.values as {
    require?: string[]; dir?: string; absolute?: true; host?: string; lock?: string | true; lockWait?: number;
    timeout?: number; killAfter?: number; ephemeral?: string[]; askpass?: string; log?: string; quiet?: true;
  };
  const args: RunArgs = {
    command: parsed.operands, require: v.require ?? [], absolute: v.absolute === true, lockWaitMs: v.lockWait ?? 0,
    killAfterMs: v.killAfter ?? DEFAULT_KILL_AFTER_MS, quiet: v.quiet === true, ephemeral: v.ephemeral ?? [],
  };
  if (v.dir !== undefined) args.dir = v.dir;
  if (v.host !== undefined) args.host = v.host;
  if (v.lock !== undefined) args.lock = v.lock;
  if (v.timeout !== undefined) args.timeoutMs = v.timeout;
  if (v.log !== undefined) args.log = v.log;
  if (v.askpass !== undefined) args.askpass = v.askpass;
  if (args.command.length === 0) {
    const taken = parsed.valueFromNextWord?.option === '--lock' ? parsed.valueFromNextWord.word : undefined;
    const hint = taken !== undefined
      ? `"${taken}" was taken as the --lock name; write --lock NAME COMMAND... or --lock -- COMMAND...`
      : 'write: agentrun [options] COMMAND [ARGS...]';
    throw usage('no command to run', hint);
  }
  if (args.absolute && args.dir === undefined) throw usage('--absolute needs --dir', 'write: --dir /path/to/keydir --absolute');
  if (args.askpass !== undefined && args.ephemeral.length === 0) throw usage('--askpass goes with --ephemeral', 'write: agentrun --ephemeral KEY --askpass PROGRAM COMMAND...');
  if (args.ephemeral.length > 0 && args.require.length > 0) throw usage('--require does not apply with --ephemeral (the private agent holds exactly the --ephemeral keys)', 'drop --require');
  return { kind: 'run', args };
}

/** The text -h prints, the option lines generated from RUN_OPTIONS (made only when asked: not on the hot path). */
export function runHelp(): string {
  return `Usage: agentrun [options] COMMAND [ARGS...]

Run COMMAND with the ssh-agent that agentkeep keeps (SSH_AUTH_SOCK/SSH_AGENT_PID set), or
fail fast with exit status 75 when there is no usable agent or a required key is missing.
Options stop at the first word that is not an option (or at --); the rest goes to COMMAND.

Options:
${renderOptionHelp(RUN_OPTIONS)}
Without --lock, --timeout, --log, --quiet or --ephemeral the job replaces agentrun (same PID,
signals straight to it, nothing of agentrun left running). With them agentrun supervises it;
under cron (stdin not a terminal) and with --timeout the job then runs in its own session and
process group, so signals and --timeout reach all its processes, and nothing in it can ask at
the terminal (ssh cannot confirm a new host key).

Exit status: the job's own; 128+N if it was killed by signal N; 75 nothing run (no agent,
key not loaded, lock held); 124 timed out; 126 not executable; 127 not found; 64 usage;
78 refused for safety (unsafe key directory, env file or log file).
`;
}
