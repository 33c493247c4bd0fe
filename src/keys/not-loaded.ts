// The one line a login prints for the keys it left out of the agent: which keys, why, whether
// --clear emptied the agent that cron jobs use, and the exact command that loads them.
import { AgentkeepError } from '../errors.js';
import { quoteSh } from '../shells/quote.js';
import { keyPath, type RequestedKey } from './resolve.js';

/** A requested key that this login leaves out of the agent, and why. */
export interface Unloaded {
  key: RequestedKey;
  why: string;
}

/** How every "no way to prompt" reason starts. */
export const CANNOT_ASK = 'cannot ask for the passphrase';

const SUBCOMMAND_NAMES = new Set(['hook', 'doctor', 'passphrase']);

/** `prefix` and each key as it was typed when that names the same file (a bare name in ~/.ssh), else its path; quoted for sh. */
export function loadCommand(prefix: string[], keys: RequestedKey[], home: string): string {
  const words = keys.map((k) => (/^[A-Za-z0-9_.@%+,=-]+$/.test(k.arg) && !k.arg.startsWith('-') && !SUBCOMMAND_NAMES.has(k.arg)
    && keyPath(k.arg, home) === k.path ? k.arg : k.path));
  return [...prefix, ...words].map(quoteSh).join(' ');
}

/** `keys not loaded: PATHS (why); ...; run: COMMAND`, NO_PROMPT when nothing could ask, else KEY_ADD (both exit 1). */
export function keysNotLoaded(failed: Unloaded[], cleared: boolean, prefix: string[], home: string): AgentkeepError {
  const byWhy = new Map<string, string[]>();
  for (const f of failed) byWhy.set(f.why, [...(byWhy.get(f.why) ?? []), f.key.path]);
  const list = [...byWhy].map(([why, paths]) => `${paths.join(', ')} (${why})`).join('; ');
  const command = loadCommand(prefix, failed.map((f) => f.key), home);
  const after = cleared ? `--clear emptied the agent, so cron jobs have none of these keys until you run: ${command}` : `run: ${command}`;
  const noPrompt = failed.every((f) => f.why.startsWith(CANNOT_ASK));
  return new AgentkeepError(noPrompt ? 'NO_PROMPT' : 'KEY_ADD', `keys not loaded: ${list}; ${after}`,
    noPrompt ? 'run it at a terminal, or set SSH_ASKPASS to a passphrase dialog program' : undefined);
}
