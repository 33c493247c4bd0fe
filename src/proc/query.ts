// The questions callers ask about processes, answered by whichever backend is in use
// (backend.ts). Nothing outside src/proc reads /proc or runs ps.
import { isGone, procBackend, type CommandLine, type ProcessInfo } from './backend.js';

/** One process's facts; undefined when there is none with that PID. */
export function processInfo(pid: number): ProcessInfo | undefined {
  return procBackend().info(pid);
}

/** Every process this user may see. */
export function listProcesses(): ProcessInfo[] {
  return procBackend().list();
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  const info = processInfo(pid);
  return info !== undefined && !isGone(info);
}

/** The processes of group `pgid` that still run (zombies left out). */
export function groupMembers(pgid: number): ProcessInfo[] {
  return listProcesses().filter((p) => p.pgid === pgid && !isGone(p));
}

/** The direct children of any of `parents`, from one look at the process table. */
export function childrenOf(parents: number[]): number[] {
  const wanted = new Set(parents);
  return listProcesses().filter((p) => wanted.has(p.ppid)).map((p) => p.pid);
}

/** `root` and all its descendants, parents before children, from one look at the process table. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of listProcesses()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = [root];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i]!) ?? []).filter((c) => !found.includes(c)));
  return found;
}

/**
 * Whether `pid` was started with `flag VALUE` (its first `flag`): 'match', 'other' (another value),
 * 'absent', or undefined when its command line cannot be read. ps joins the words with spaces,
 * so there ` flag VALUE ` is looked for between spaces: a VALUE with spaces is found, but so is
 * one that stops at a space inside the real value (`/a` for `-a '/a b'`).
 */
export function argumentOf(pid: number, flag: string, value: string): 'match' | 'other' | 'absent' | undefined {
  const cmd: CommandLine | undefined = procBackend().commandLine(pid);
  if (cmd === undefined) return undefined;
  if ('argv' in cmd) {
    const at = cmd.argv.indexOf(flag);
    return at < 0 ? 'absent' : cmd.argv[at + 1] === value ? 'match' : 'other';
  }
  const text = ` ${cmd.text} `;
  const at = text.indexOf(` ${flag} `);
  return at < 0 ? 'absent' : text.startsWith(` ${flag} ${value} `, at) ? 'match' : 'other';
}
