// How ssh-add may ask for a passphrase: on the terminal, through the user's SSH_ASKPASS
// program, or not at all (then we fail at once rather than let ssh-add wait on nothing).
import { closeSync, openSync, readlinkSync } from 'node:fs';
import { absoluteEntries, lookupCommand } from '../path-lookup.js';
import type { Settings } from '../settings.js';

/** How many passphrase attempts each key gets in one ssh-add run, on the terminal and through askpass. */
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

/** True when `program` names an executable regular file, directly or through PATH's absolute entries (as ssh-add would run it). */
function isRunnable(program: string, path: string): boolean {
  const dirs = program.includes('/') ? '' : absoluteEntries(path);
  // No absolute entry means nowhere to look (an empty PATH would mean the working directory).
  if (!program.includes('/') && dirs === '') return false;
  return lookupCommand(program, dirs).found !== undefined;
}

/** Chooses the prompt: a terminal first (unless SSH_ASKPASS_REQUIRE=force), else SSH_ASKPASS (unless --nogui or =never, or it is not a program). */
export function choosePrompt(settings: Pick<Settings, 'askpass' | 'askpassRequire' | 'path'>, nogui: boolean, stdinIsTTY: boolean): PromptWay {
  const program = settings.askpass;
  const requirement = settings.askpassRequire;
  const runnable = program !== '' && isRunnable(program, settings.path);
  if (requirement === 'force' && runnable && !nogui) return { kind: 'askpass', program };
  if (haveTerminal(stdinIsTTY)) return { kind: 'terminal' };
  if (nogui) return { kind: 'none', why: 'there is no terminal and --nogui forbids SSH_ASKPASS' };
  if (program === '' && stdinIsTTY) {
    return { kind: 'none', why: 'stdin is a terminal but this process has none to ask on (su -c and runuser -c start a session without one: use su -P, sudo -iu, or log in) and SSH_ASKPASS is not set' };
  }
  if (program === '') return { kind: 'none', why: 'there is no terminal (stdin is not one, or no controlling tty) and SSH_ASKPASS is not set' };
  if (requirement === 'never') return { kind: 'none', why: 'there is no terminal and SSH_ASKPASS_REQUIRE=never' };
  if (!runnable) return { kind: 'none', why: `there is no terminal and SSH_ASKPASS (${program}) is not an executable program` };
  return { kind: 'askpass', program };
}

/** Where a prompt appears, for the terminals that wait on it: the tty's name, or the askpass program. */
export function promptPlace(prompt: PromptWay): string {
  if (prompt.kind === 'askpass') return `the askpass program ${prompt.program}`;
  try {
    return readlinkSync('/proc/self/fd/0');
  } catch {
    return 'a terminal';
  }
}
