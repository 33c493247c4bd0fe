// Adds one line to an authorized_keys file of this user: under a lock, read without following
// links, the key's presence checked, the whole file replaced atomically with mode 0600.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { AgentkeepError, isErrno } from '../errors.js';
import { writeFileAtomic } from '../envfile/store.js';
import { pathProblem, unsafeReason } from '../path-safety.js';
import { acquireLock } from '../lock/lock.js';
import { blobTypeName } from '../agent/keyblob.js';

/** Larger than any hand-kept authorized_keys; a bigger file is refused rather than read whole. */
const MAX_AUTHORIZED_KEYS = 4 * 1024 * 1024;

/** What --append did: added the line, or found the key already on line `line` (1-based). */
export type AppendResult = { added: true } | { added: false; line: number };

/** The file's lstat, or undefined when it does not exist; refuses links, non-files and other users' files. */
function ownFileStat(path: string, uid: number): Stats | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  const unsafe = unsafeReason(path, st, uid, 'file');
  if (unsafe) throw new AgentkeepError('UNSAFE_PATH', `refusing to add to ${path}: ${unsafe.why}`, unsafe.fix);
  if (!st.isFile()) throw new AgentkeepError('UNSAFE_PATH', `refusing to add to ${path}: it is not a regular file`, `move it away: mv '${path}' '${path}.old'`);
  return st;
}

/** The file's text, or undefined when it does not exist; refuses links and other users' files. */
function readOwnFile(path: string, uid: number): string | undefined {
  const st = ownFileStat(path, uid);
  if (!st) return undefined;
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const open = fstatSync(fd);
    // Swapped between the lstat and the open: judge the file actually opened.
    if (open.ino !== st.ino || open.dev !== st.dev || !open.isFile() || open.uid !== uid) {
      throw new AgentkeepError('UNSAFE_PATH', `refusing to add to ${path}: it changed while being read`, 'run the command again');
    }
    if (open.size > MAX_AUTHORIZED_KEYS) {
      throw new AgentkeepError('UNSAFE_PATH', `refusing to add to ${path}: it is ${open.size} bytes, more than an authorized_keys file should hold`, `look at it: ls -l '${path}'`);
    }
    const buf = Buffer.alloc(open.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Refuses a directory that someone else could swap entries in (sshd's StrictModes agrees). */
function checkDirectory(dir: string, uid: number): void {
  let st;
  try {
    st = statSync(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      throw new AgentkeepError('IO', `cannot add to a file in ${dir}: the directory does not exist`, `create it: mkdir -m 700 '${dir}'`);
    }
    throw error;
  }
  // stat, not lstat: ~/.ssh may be a link; the directory it leads to is judged. Root may own it (sshd agrees).
  const found = pathProblem(st, uid, { type: 'dir', rootMayOwn: true });
  if (!found) return;
  const fix = found.problem === 'not-dir' ? 'give the path of an authorized_keys file'
    : found.problem === 'owner' ? 'run agentkeep authorize --append as the account whose authorized_keys it is'
    : `run: chmod 700 '${dir}'`;
  throw new AgentkeepError('UNSAFE_PATH', `refusing to write into ${dir}: ${found.why}`, fix);
}

/** The blob of a `type base64` pair at the very start of `text`, when the blob names that type. */
function keyAtStart(text: string): Buffer | undefined {
  const match = /^([a-z0-9@.-]+)[ \t]+([A-Za-z0-9+/]+={0,2})(?:[ \t]|$)/.exec(text);
  if (!match) return undefined;
  const blob = Buffer.from(match[2]!, 'base64');
  return blobTypeName(blob) === match[1] ? blob : undefined;
}

/** The key blob of one authorized_keys line, read as sshd does: the key first, else options then the key. */
export function blobOfAuthorizedLine(line: string): Buffer | undefined {
  const direct = keyAtStart(line);
  if (direct) return direct;
  // Skip the options field: up to the first blank outside double quotes (\" escapes a quote).
  let quoted = false;
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && quoted && line[i + 1] === '"') { i++; continue; }
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) break;
  }
  return keyAtStart(line.slice(i).trimStart());
}

/** The 1-based line of `text` that holds the key `blob`, if any. */
export function lineWithKey(text: string, blob: Buffer): number | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (blobOfAuthorizedLine(line)?.equals(blob)) return i + 1;
  }
  return undefined;
}

/** Adds `line` (holding `blob`) to the authorized_keys file at `path` unless the key is there. */
export async function appendAuthorizedKey(path: string, line: string, blob: Buffer, uid: number): Promise<AppendResult> {
  checkDirectory(dirname(path), uid);
  // Refuse a link or someone else's file before creating the lock beside it. Only a look: another
  // --append may rename its copy into place meanwhile, so the file is opened under the lock.
  ownFileStat(path, uid);
  // Two --append runs at once would each rename their own copy into place and lose a line.
  const lock = await acquireLock<AppendResult>(path, { waitMs: 10_000, purpose: `adding a line to ${path}` }).catch((error: unknown) => {
    if (!(error instanceof AgentkeepError) || error.code !== 'LOCK_TIMEOUT') throw error;
    throw new AgentkeepError('LOCK_TIMEOUT', error.message, 'wait for the other agentkeep authorize --append to finish, then run this one again');
  });
  if (!lock.acquired) return lock.result;
  try {
    const text = readOwnFile(path, uid) ?? '';
    const found = lineWithKey(text, blob);
    if (found !== undefined) return { added: false, line: found };
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    lock.assertHeld();
    writeFileAtomic(path, `${text}${sep}${line}\n`, uid);
    return { added: true };
  } finally {
    await lock.release();
  }
}
