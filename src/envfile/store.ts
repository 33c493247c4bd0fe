// Safe reads and atomic writes of the key directory and its env files: ownership, mode and
// symlink checks first, then temporary file + fsync + rename, never following a link.
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AgentkeepError, isErrno } from '../errors.js';
import { nodeCrypto } from '../lazy-crypto.js';
import { assertSafe, readOwnFileText } from '../path-safety.js';
import type { Paths } from '../paths.js';
import { renderEnv, type AgentEnv } from './render.js';
import { ENV_FLAVOURS } from '../shells/flavours.js';

const MAX_ENV_FILE = 64 * 1024;

/** Checks the key directory; returns false when it does not exist yet. */
export function checkKeydir(keydir: string, uid: number): boolean {
  let st;
  try {
    st = lstatSync(keydir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  assertSafe(keydir, st, uid, 'dir');
  if (!st.isDirectory()) {
    throw new AgentkeepError('UNSAFE_PATH', `refusing to use ${keydir}: it is not a directory`, `move it away: mv '${keydir}' '${keydir}.old'`);
  }
  return true;
}

/** Creates the key directory with mode 0700 if needed, then checks it. */
export function ensureKeydir(keydir: string, uid: number): void {
  if (checkKeydir(keydir, uid)) return;
  mkdirSync(dirname(keydir), { recursive: true, mode: 0o700 });
  try {
    mkdirSync(keydir, { mode: 0o700 });
    chmodSync(keydir, 0o700); // mkdir's mode is filtered by the umask
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  checkKeydir(keydir, uid);
}

/** Reads an env file without following links, after checking owner and mode on the open file. */
export function readEnvFileText(path: string, uid: number): string | undefined {
  return readOwnFileText(path, uid, MAX_ENV_FILE);
}

/** Refuses to replace a file that is a link, someone else's, or writable by others. */
function checkReplaceable(path: string, uid: number): void {
  try {
    const st = lstatSync(path);
    assertSafe(path, st, uid, 'file');
    if (!st.isFile()) {
      throw new AgentkeepError('UNSAFE_PATH', `refusing to replace ${path}: it is not a regular file`, `remove it: rm -r '${path}'`);
    }
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
}

/** A full file system (or quota) as an error that says so and how to fix it; undefined for other errors. */
function fullDiskError(error: unknown, path: string): AgentkeepError | undefined {
  if (!isErrno(error, 'ENOSPC') && !isErrno(error, 'EDQUOT')) return undefined;
  const dir = dirname(path);
  return new AgentkeepError('IO', `cannot write ${path}: the file system is full (${(error as NodeJS.ErrnoException).code}); the old file, if any, is unchanged`,
    `free some space on the file system that holds ${dir} (df '${dir}'), then run agentkeep again`);
}

/** Writes `path` atomically with mode 0600: temp file in the same directory, fsync, rename. */
export function writeFileAtomic(path: string, content: string, uid: number): void {
  checkReplaceable(path, uid);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${nodeCrypto().randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    throw fullDiskError(error, path) ?? error;
  }
  try {
    try {
      const data = Buffer.from(content, 'utf8');
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    try { unlinkSync(tmp); } catch { /* already renamed or gone */ }
    throw fullDiskError(error, path) ?? error;
  }
  syncDir(dir);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes temporary files left by writers that were killed mid-write. */
export function removeStaleTemps(keydir: string): void {
  let names: string[];
  try { names = readdirSync(keydir); } catch { return; }
  for (const name of names) {
    const match = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (!match || processExists(Number(match[1]))) continue;
    try { unlinkSync(join(keydir, name)); } catch { /* raced with another cleaner */ }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

/** Every env file, `H-sh` (the one agentkeep reads back) last. */
const FLAVOURS = [...ENV_FLAVOURS.filter((flavour) => flavour !== 'sh'), 'sh' as const];

/** Writes every env file; `H-sh`, the one agentkeep reads back, goes last. */
export function writeEnvFiles(paths: Paths, env: AgentEnv, uid: number): void {
  ensureKeydir(paths.keydir, uid);
  const rendered = FLAVOURS.map((flavour) => [paths[flavour], renderEnv(env, flavour)] as const);
  for (const [path] of rendered) checkReplaceable(path, uid);
  removeStaleTemps(paths.keydir);
  for (const [path, text] of rendered) writeFileAtomic(path, text, uid);
}

/** Removes the env files (never following a link, only regular files of ours); returns those removed. */
export function removeEnvFiles(paths: Paths, uid: number): string[] {
  if (!checkKeydir(paths.keydir, uid)) return [];
  const removed: string[] = [];
  for (const flavour of FLAVOURS) {
    const path = paths[flavour];
    try {
      const st = lstatSync(path);
      if (!st.isFile() || st.uid !== uid) continue;
      unlinkSync(path);
      removed.push(path);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
  return removed;
}
