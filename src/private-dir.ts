// Private directories for sockets and helper state: created only where nobody else can rename
// entries (a directory of our own, or a sticky one such as /tmp), with an unpredictable name,
// and checked again — still ours, still the same inode — before a key goes near them.
import { lstatSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgentkeepError } from './errors.js';
import { isPrivateDir, pathProblem } from './path-safety.js';
import type { Settings } from './settings.js';

/** A directory we created: its path and identity, to recognise it later. */
export interface PrivateDir {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Why only `uid` (and root) cannot be trusted to be the only ones renaming entries in `parent`,
 * or undefined when the parent is safe: someone else's directory, or one that group or others
 * may write without the sticky bit, lets them swap our directory for theirs.
 */
export function unsafeParentReason(parent: string, uid: number): string | undefined {
  let st;
  try {
    st = statSync(realpathSync(parent));
  } catch (error) {
    return `it cannot be used (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`;
  }
  // realpath has followed any link: the directory itself is judged. Root's own /tmp is trusted.
  const found = pathProblem(st, uid, { type: 'dir', rootMayOwn: true, stickyIsEnough: true });
  if (!found) return undefined;
  switch (found.problem) {
    case 'owner': return `it is owned by uid ${st.uid}`;
    case 'writable': return 'others may write to it and it has no sticky bit, so they could swap a directory made there';
    default: return found.why;
  }
}

/** True when `dir` is `uid`'s own directory of mode 0700 ($XDG_RUNTIME_DIR as systemd makes it). */
function ownPrivateDirectory(dir: string, uid: number): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  return isPrivateDir(st, uid) && (st.mode & 0o700) === 0o700;
}

/**
 * Where to make a private directory: $XDG_RUNTIME_DIR when it is ours and 0700, else the first
 * of $TMPDIR and the system temporary directories that nobody else can rename entries in.
 */
export function privateParent(where: Pick<Settings, 'tmpdir' | 'xdgRuntimeDir'>, uid: number): string {
  const xdg = where.xdgRuntimeDir;
  if (xdg !== undefined && xdg.startsWith('/') && ownPrivateDirectory(xdg, uid)) return xdg;
  const candidates = [where.tmpdir, '/tmp'].filter((d): d is string => d !== undefined && d.startsWith('/'));
  const refused: string[] = [];
  for (const dir of new Set(candidates)) {
    const why = unsafeParentReason(dir, uid);
    if (why === undefined) return dir;
    refused.push(`${dir}: ${why}`);
  }
  throw new AgentkeepError('UNSAFE_PATH', `no safe place for a private directory (${refused.join('; ')})`,
    'set TMPDIR to a directory of your own (mkdir -m 700 ~/tmp; TMPDIR=~/tmp), or give /tmp its sticky bit (chmod +t /tmp)');
}

/** Creates a fresh 0700 directory with an unpredictable name under a safe parent (see privateParent). */
export function makePrivateDir(where: Pick<Settings, 'tmpdir' | 'xdgRuntimeDir'>, uid: number, prefix: string): PrivateDir {
  return makePrivateDirIn(privateParent(where, uid), uid, prefix);
}

/** The same under a given `parent`, which must be safe (unsafeParentReason). */
export function makePrivateDirIn(parent: string, uid: number, prefix: string): PrivateDir {
  const why = unsafeParentReason(parent, uid);
  if (why !== undefined) {
    throw new AgentkeepError('UNSAFE_PATH', `refusing to make a private directory in ${parent}: ${why}`, 'use a directory of your own');
  }
  // mkdtemp: a random name, created with mode 0700 whatever the umask, failing if it exists.
  const path = mkdtempSync(join(parent, prefix));
  const st = lstatSync(path);
  return { path, dev: st.dev, ino: st.ino };
}

/** True while `dir` is still the directory we made: not a link, ours, 0700, same inode. */
export function stillOurs(dir: PrivateDir, uid: number): boolean {
  const st = lstatSync(dir.path, { throwIfNoEntry: false });
  return isPrivateDir(st, uid) && st.dev === dir.dev && st.ino === dir.ino;
}

/** Refuses, before any key goes to it, a socket that is not ours, not a socket, or not in our private directory. */
export function assertOwnSocketIn(dir: PrivateDir, sock: string, uid: number): void {
  const st = lstatSync(sock, { throwIfNoEntry: false });
  const why = !stillOurs(dir, uid) ? `its directory ${dir.path} is no longer the one we made`
    : dirname(sock) !== dir.path ? `it is not inside ${dir.path}`
    : st === undefined ? 'it does not exist'
    : !st.isSocket() ? 'it is not a socket'
    : st.uid !== uid ? `it is owned by uid ${st.uid}`
    : undefined;
  if (why !== undefined) {
    throw new AgentkeepError('UNSAFE_PATH', `refusing to use the private agent socket ${sock}: ${why}`,
      'someone may be tampering with your temporary directory; set TMPDIR to a directory of your own');
  }
}

/** Removes `dir` only while it is still ours: never deletes inside a directory someone swapped in. */
export function removePrivateDir(dir: PrivateDir, uid: number): void {
  if (stillOurs(dir, uid)) rmSync(dir.path, { recursive: true, force: true });
}
