// Options that mean the same thing in agentkeep, agentrun and doctor, declared once so that
// their spelling, units and help never drift apart.
import type { OptionSpec } from './spec.js';
import { duration, text } from './values.js';

/** `--dir DIR`: where the key directory is. */
export const DIR: OptionSpec = {
  flags: '--dir <dir>', value: text,
  help: 'keep files in DIR/.keychain instead of ~/.keychain (DIR itself when it contains "/.", as ~/.cache); use the same DIR for agentkeep, agentrun and doctor',
};

/** `--absolute`: DIR itself is the key directory. */
export const ABSOLUTE: OptionSpec = { flags: '--absolute', help: 'with --dir: use DIR itself, not DIR/.keychain' };

/** `--host NAME`: the name in the env file names. */
export const HOST: OptionSpec = { flags: '--host <name>', value: text, help: 'use NAME in file names instead of the node name (uname -n)' };

/** `--require KEY`: a key that must be loaded (agentrun, doctor). */
export const REQUIRE: OptionSpec = {
  flags: '--require <key>', value: text, repeat: true,
  help: 'run only if KEY is loaded: a name in ~/.ssh, a path, or SHA256:... (repeatable)',
};

/** `--lock-wait DURATION` (keychain's `--lockwait SECONDS` still works): how long to wait for a lock. */
export const LOCK_WAIT: OptionSpec = {
  flags: '--lock-wait <duration>', value: duration({ zero: true }), aliases: ['--lockwait'],
  help: 'wait up to DURATION (90, 90s, 15m, 2h) for a lock another run holds (agentkeep: default 5s to start the agent, 120s while another terminal loads keys; agentrun: 0, fail at once with 75)',
};

/** `-h, --help`. */
export const HELP: OptionSpec = { flags: '-h, --help', help: 'show this help', endsParsing: true };

/** `-V, --version`. */
export const VERSION_OPTION: OptionSpec = { flags: '-V, --version', help: 'print the version', endsParsing: true };
