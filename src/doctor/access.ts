// Whether a user may search, read, write or execute a path. For ourselves access(2) answers; for
// another user (root's `doctor --user NAME`) the answer comes from the mode bits of the path and
// of every directory above it, judged against that user's uid and groups, as the kernel would
// judge that user (root's own access(2) would say yes to nearly everything).
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { executableByUs, lookupCommand, type Execability } from '../path-lookup.js';

/** Whose access is asked: undefined for the running process, else another user's uid and groups. */
export type Who = { uid: number; gids: number[] } | undefined;

const BITS = { r: 4, w: 2, x: 1 } as const;

/** True when `who`'s permission bits on one stat result allow `want`. */
function allowed(st: { uid: number; gid: number; mode: number }, who: NonNullable<Who>, want: keyof typeof BITS): boolean {
  if (who.uid === 0) return want !== 'x' || (st.mode & 0o111) !== 0;
  const shift = st.uid === who.uid ? 6 : who.gids.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & BITS[want]) !== 0;
}

/** True when `who` may `want` the path (following links), every directory above it searchable. */
export function canAccess(path: string, who: Who, want: keyof typeof BITS): boolean {
  if (who === undefined) {
    try {
      accessSync(path, want === 'r' ? constants.R_OK : want === 'w' ? constants.W_OK : constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  try {
    const full = resolve(path);
    for (let dir = dirname(full); ; dir = dirname(dir)) {
      if (!allowed(statSync(dir), who, 'x')) return false;
      if (dir === '/') break;
    }
    return allowed(statSync(full), who, want);
  } catch {
    return false;
  }
}

/** What execvp(3) run by another user would make of one candidate path (as path-lookup's executableByUs does for us). */
function executableBy(path: string, who: NonNullable<Who>): Execability {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'denied';
  }
  return isFile && canAccess(path, who, 'x') ? 'yes' : 'denied';
}

/** How `who` judges one candidate: access(2) for ourselves, the mode bits for another user. */
export function judgeFor(who: Who): (path: string) => Execability {
  return who === undefined ? executableByUs : (path) => executableBy(path, who);
}

/**
 * The first executable NAME on a colon-separated PATH for `who`, as sh's lookup finds it (a NAME
 * with a slash is taken as is); relative entries start at `cwd` (cron's is HOME). Null when none.
 */
export function findOnPath(name: string, path: string, who: Who, cwd: string): string | null {
  return lookupCommand(name, path, { judge: judgeFor(who), cwd }).found ?? null;
}
