// The `agentrun` command line. A small hand parser, because option parsing must stop at the
// first word that is not an option: everything from COMMAND on reaches the job untouched.
import { AgentkeepError } from '../errors.js';

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

const WITH_VALUE = new Set(['--require', '--dir', '--host', '--lock-wait', '--timeout', '--kill-after', '--log', '--ephemeral', '--askpass']);

function usage(message: string, hint = 'see: agentrun --help'): AgentkeepError {
  return new AgentkeepError('USAGE', message, hint);
}

/** A duration such as `90`, `90s`, `15m`, `2h` or `1h30m`, in milliseconds (0 allowed when `zero`). */
export function durationMs(option: string, value: string, zero = false): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(value);
  if (value === '' || !match || match.slice(1).every((part) => part === undefined)) {
    throw usage(`expected ${option} to be a duration such as 90, 90s, 15m, 2h or 1h30m, got ${JSON.stringify(value)}`);
  }
  const [h = 0, m = 0, s = 0] = match.slice(1).map((part) => Number(part ?? '0'));
  const ms = ((h * 60 + m) * 60 + s) * 1000;
  if (ms === 0 && !zero) throw usage(`expected ${option} to be longer than zero, got ${JSON.stringify(value)}`);
  return ms;
}

/** 5400000 → `1h30m`, 90000 → `1m30s`, 1000 → `1s`: the way --timeout is written. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, sec] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec || total === 0 ? `${sec}s` : ''}`;
}

/** Parses agentrun's argv (without node and the script). */
export function parseRunArgs(argv: string[]): ParsedRun {
  const args: RunArgs = { command: [], require: [], absolute: false, lockWaitMs: 0, killAfterMs: DEFAULT_KILL_AFTER_MS, quiet: false, ephemeral: [] };
  let lockNameFromNextWord: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') { i++; break; }
    if (!word.startsWith('-') || word === '-') break;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq > 0 ? word.slice(0, eq) : word;
    let value: string | undefined = eq > 0 ? word.slice(eq + 1) : undefined;
    if (WITH_VALUE.has(name) && value === undefined) {
      value = argv[++i];
      if (value === undefined) throw usage(`${name} needs a value`);
    }
    const takesNoValue = () => {
      if (value !== undefined) throw usage(`${name} takes no value, got ${JSON.stringify(word)}`);
    };
    switch (name) {
      case '-h': case '--help': takesNoValue(); return { kind: 'help' };
      case '-V': case '--version': takesNoValue(); return { kind: 'version' };
      case '-q': case '--quiet': takesNoValue(); args.quiet = true; break;
      case '--absolute': takesNoValue(); args.absolute = true; break;
      case '--require': args.require.push(value!); break;
      case '--dir': args.dir = value!; break;
      case '--host': args.host = value!; break;
      case '--log': args.log = value!; break;
      case '--ephemeral': args.ephemeral.push(value!); break;
      case '--askpass': args.askpass = value!; break;
      case '--timeout': args.timeoutMs = durationMs('--timeout', value!); break;
      case '--kill-after': args.killAfterMs = durationMs('--kill-after', value!, true); break;
      case '--lock-wait': args.lockWaitMs = durationMs('--lock-wait', value!, true); break;
      case '--lock': {
        // `--lock=NAME` and `--lock NAME`; a bare `--lock` followed by an option or `--` uses the default name.
        const next = argv[i + 1];
        if (value === undefined && next !== undefined && !next.startsWith('-')) {
          value = next;
          lockNameFromNextWord = next;
          i++;
        }
        if (value !== undefined && !LOCK_NAME.test(value)) {
          throw usage(`invalid lock name ${JSON.stringify(value)}`, 'use letters, digits and . _ - (at most 100 characters), e.g. --lock db1-dump');
        }
        args.lock = value ?? true;
        break;
      }
      default: {
        const afterLock = lockNameFromNextWord !== undefined && argv[i - 1] === lockNameFromNextWord
          ? `; "${lockNameFromNextWord}" was taken as the --lock name: for the default lock name write --lock -- ${lockNameFromNextWord} ...`
          : '';
        throw usage(`unknown option ${JSON.stringify(word)}${afterLock}`,
          afterLock ? 'write --lock=NAME COMMAND..., or --lock -- COMMAND... for the default name' : 'see: agentrun --help; put -- before a command that starts with "-"');
      }
    }
  }
  args.command = argv.slice(i);
  if (args.command.length === 0) {
    const hint = lockNameFromNextWord !== undefined
      ? `"${lockNameFromNextWord}" was taken as the --lock name; write --lock NAME COMMAND... or --lock -- COMMAND...`
      : 'write: agentrun [options] COMMAND [ARGS...]';
    throw usage('no command to run', hint);
  }
  if (args.absolute && args.dir === undefined) throw usage('--absolute needs --dir', 'write: --dir /path/to/keydir --absolute');
  if (args.askpass !== undefined && args.ephemeral.length === 0) throw usage('--askpass goes with --ephemeral', 'write: agentrun --ephemeral KEY --askpass PROGRAM COMMAND...');
  if (args.ephemeral.length > 0 && args.require.length > 0) throw usage('--require does not apply with --ephemeral (the private agent holds exactly the --ephemeral keys)', 'drop --require');
  return { kind: 'run', args };
}

/** The text -h prints. */
export const RUN_HELP = `Usage: agentrun [options] COMMAND [ARGS...]

Run COMMAND with the ssh-agent that agentkeep keeps (SSH_AUTH_SOCK/SSH_AGENT_PID set), or
fail fast with exit status 75 when there is no usable agent or a required key is missing.
Options stop at the first word that is not an option (or at --); the rest goes to COMMAND.

Options:
  --require KEY        run only if KEY is loaded: a name in ~/.ssh, a path, or SHA256:...
                       (repeatable)
  --dir DIR            key directory DIR/.keychain (as agentkeep --dir)
  --absolute           with --dir: DIR itself
  --host NAME          host name in the env file names (as agentkeep --host)
  --lock[=NAME]        do not start while another run with this lock runs (exit 75);
                       --lock NAME also works; bare --lock (then -- or another option)
                       uses a name derived from the command
  --lock-wait DURATION  wait up to DURATION for the lock instead of failing at once
  --timeout DURATION   stop the job after DURATION (90, 90s, 15m, 2h, 1h30m): TERM to its
                       process group, KILL after the grace period; exit 124
  --kill-after DURATION  grace period between TERM and KILL (default 10s)
  --ephemeral KEY      run with a private ssh-agent holding KEY (repeatable), started for
                       this job and stopped after it; the long-lived agent is not used.
                       Passphrases come from the keyring (agentkeep passphrase set KEY)
  --askpass PROGRAM    with --ephemeral: ask PROGRAM for passphrases the keyring lacks
  --log FILE           append start/end lines and the job's output to FILE
  -q, --quiet          print the job's output only if it fails (cron mails only failures)
  -h, --help           show this help
  -V, --version        print the version

Without --lock, --timeout, --log, --quiet or --ephemeral the job replaces agentrun (same PID,
signals straight to it, nothing of agentrun left running). With them agentrun supervises it;
under cron (stdin not a terminal) and with --timeout the job then runs in its own session and
process group, so signals and --timeout reach all its processes, and nothing in it can ask at
the terminal (ssh cannot confirm a new host key).

Exit status: the job's own; 128+N if it was killed by signal N; 75 nothing run (no agent,
key not loaded, lock held); 124 timed out; 126 not executable; 127 not found; 64 usage;
78 refused for safety (unsafe key directory, env file or log file).
`;
