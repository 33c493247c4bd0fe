// How ssh-add may ask for a passphrase: on the terminal, through the user's SSH_ASKPASS
// program, or not at all (then we fail at once rather than let ssh-add wait on nothing).
import { closeSync, openSync } from 'node:fs';

/** How many passphrase attempts the askpass shim allows in one ssh-add run. */
export const ASKPASS_TRIES = 3;

/** How a passphrase can be asked for: the terminal, an askpass program, or not at all (and why). */
export type PromptWay = { kind: 'terminal' } | { kind: 'askpass'; program: string } | { kind: 'none'; why: string };

/** True when we have a controlling terminal and stdin is a terminal: a human can type. */
export function haveTerminal(stdinIsTTY: boolean): boolean {
  if (!stdinIsTTY) return false;
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/** Chooses the prompt: a terminal first (unless SSH_ASKPASS_REQUIRE=force), else SSH_ASKPASS (unless --nogui or =never). */
export function choosePrompt(env: NodeJS.ProcessEnv, nogui: boolean, stdinIsTTY: boolean): PromptWay {
  const program = env.SSH_ASKPASS ?? '';
  const requirement = (env.SSH_ASKPASS_REQUIRE ?? '').toLowerCase();
  if (requirement === 'force' && program !== '' && !nogui) return { kind: 'askpass', program };
  if (haveTerminal(stdinIsTTY)) return { kind: 'terminal' };
  if (nogui) return { kind: 'none', why: 'there is no terminal and --nogui forbids SSH_ASKPASS' };
  if (program === '') return { kind: 'none', why: 'there is no terminal (stdin is not one, or no controlling tty) and SSH_ASKPASS is not set' };
  if (requirement === 'never') return { kind: 'none', why: 'there is no terminal and SSH_ASKPASS_REQUIRE=never' };
  return { kind: 'askpass', program };
}
