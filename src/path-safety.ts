// When a file or directory is safe to trust or write for a uid: not a symbolic link, of the
// expected type, owned by that uid, not writable by group or others, and (for a file whose
// content must not land elsewhere) without other hard links. Every reader, writer and doctor
// check of agentkeep and agentrun asks this module; each says in words what it found.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { AgentkeepError, isErrno } from './errors.js';
import { userName } from './home-check.js';

/** What the rules look at: an lstat or fstat result. */
export interface PathStat {
  uid: number;
  mode: number;
  nlink: number;
  isSymbolicLink(): boolean;
  isFile(): boolean;
  isDirectory(): boolean;
}

/** Which rule a path breaks, in the order the rules are checked. */
export type PathProblem = 'symlink' | 'not-file' | 'not-dir' | 'owner' | 'writable' | 'hard-links';

/** How strict one place is; every option is off by default, which is the rule for agentkeep's own files. */
export interface PathRule {
  /** The type the path must have, checked right after the link; unset: the caller checks the type itself, after the rule. */
  type?: 'file' | 'dir' | undefined;
  /** Trust a path root owns too: a parent directory such as /tmp or /home (sshd's StrictModes does the same). */
  rootMayOwn?: boolean | undefined;
  /** Accept a directory that group or others may write when its sticky bit keeps them from renaming our entries (/tmp). */
  stickyIsEnough?: boolean | undefined;
  /** Refuse other hard links: what we write would also land in the file under its other names. */
  singleLink?: boolean | undefined;
  /** Say who may write ("the group", "anyone") instead of "group or others". */
  nameWriters?: boolean | undefined;
}

const STICKY = 0o1000;
const GROUP_OR_OTHER_WRITE = 0o022;

/** A file mode's permission bits as four octal digits, the way chmod and ls -n users read them (`0600`). */
export function describeMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** The first rule `st` breaks for `uid` under `rule`, with the reason in words; undefined when it is safe. */
export function pathProblem(st: PathStat, uid: number, rule: PathRule = {}): { problem: PathProblem; why: string } | undefined {
  if (st.isSymbolicLink()) return { problem: 'symlink', why: 'it is a symbolic link' };
  if (rule.type === 'file' && !st.isFile()) return { problem: 'not-file', why: 'it is not a regular file' };
  if (rule.type === 'dir' && !st.isDirectory()) return { problem: 'not-dir', why: 'it is not a directory' };
  if (st.uid !== uid && !(rule.rootMayOwn && st.uid === 0)) {
    return { problem: 'owner', why: `it is owned by uid ${st.uid}, not by you (uid ${uid})` };
  }
  if ((st.mode & GROUP_OR_OTHER_WRITE) !== 0 && !(rule.stickyIsEnough && (st.mode & STICKY) !== 0)) {
    const who = !rule.nameWriters ? 'group or others' : (st.mode & 0o002) !== 0 ? 'anyone' : 'the group';
    return { problem: 'writable', why: `mode ${describeMode(st.mode)} lets ${who} write to it` };
  }
  if (rule.singleLink && st.nlink > 1) return { problem: 'hard-links', why: `it has ${st.nlink} hard links` };
  return undefined;
}

/** True for a directory of `uid`'s that nobody else may even read: the only kind a private socket or helper state goes in. */
export function isPrivateDir<T extends PathStat>(st: T | undefined, uid: number): st is T {
  return st !== undefined && !st.isSymbolicLink() && st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
}

/**
 * Why one of agentkeep's own paths (the key directory, an env file, an authorized_keys file) is
 * unsafe to use — a symbolic link, someone else's, or writable by group or others — with the fix;
 * undefined when it is safe. The type is the caller's to check, after this.
 */
export function unsafeReason(path: string, st: PathStat, uid: number, kind: 'dir' | 'file'): { why: string; fix: string } | undefined {
  const found = pathProblem(st, uid);
  if (!found) return undefined;
  switch (found.problem) {
    case 'symlink': return { why: found.why, fix: `remove the link and let agentkeep recreate it: rm '${path}'` };
    // Typically left by agentkeep run through sudo with this user's HOME (sudo without -H).
    case 'owner': return { why: found.why, fix: kind === 'file'
      ? `agentkeep never uses another user's file; remove it (you own the directory): rm -f '${path}'`
      : `agentkeep never writes into another user's directory; have its owner or root give it to you: chown -R ${userName(uid)}: '${path}'` };
    default: return { why: found.why, fix: `run: chmod ${kind === 'dir' ? '700' : '600'} '${path}'` };
  }
}

/** Refuses (UNSAFE_PATH, exit 78) a path that unsafeReason objects to. */
export function assertSafe(path: string, st: PathStat, uid: number, kind: 'dir' | 'file'): void {
  const unsafe = unsafeReason(path, st, uid, kind);
  if (unsafe) throw new AgentkeepError('UNSAFE_PATH', `refusing to use ${path}: ${unsafe.why}`, unsafe.fix);
}

/**
 * Reads (at most `maxBytes` of) a small file of `uid`'s without following a link or waiting on a
 * FIFO, after checking owner and mode on the open file; undefined when it does not exist.
 */
export function readOwnFileText(path: string, uid: number, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    if (isErrno(error, 'ELOOP') || isErrno(error, 'EACCES')) {
      // A link, or a file we may not even open (another user's, or mode 0000): say which, with the fix.
      assertSafe(path, lstatSync(path), uid, 'file');
      throw new AgentkeepError('UNSAFE_PATH', `refusing to use ${path}: you cannot read it (mode ${describeMode(lstatSync(path).mode)})`, `run: chmod 600 '${path}'`);
    }
    throw error;
  }
  try {
    const st = fstatSync(fd);
    assertSafe(path, st, uid, 'file');
    if (!st.isFile()) {
      throw new AgentkeepError('UNSAFE_PATH', `refusing to read ${path}: it is not a regular file`, `remove it: rm '${path}'`);
    }
    const buf = Buffer.alloc(Math.min(st.size, maxBytes));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
