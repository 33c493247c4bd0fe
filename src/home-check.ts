// HOME must be the invoking user's own directory before anything is read or written under it:
// `sudo` that keeps the caller's HOME, or `HOME=/nonexistent` in a service, would otherwise
// create root-owned files in a user's key directory or fail with a raw errno.
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { AgentkeepError, isErrno } from './errors.js';

/** The login name of a uid (our own from the password database, others from /etc/passwd), else `uid N`. */
export function userName(uid: number): string {
  try {
    if (uid === process.getuid?.()) return userInfo().username;
  } catch { /* no passwd entry */ }
  try {
    // /etc/passwd is enough for a hint; a name it lacks only makes the hint generic.
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const field = line.split(':');
      if (field.length > 2 && field[0] && Number(field[2]) === uid) return field[0];
    }
  } catch { /* unreadable */ }
  return `uid ${uid}`;
}

/** How to run with the right HOME, for the hint of every refusal below. */
function homeFix(uid: number, owner: string | undefined): string {
  const own = 'set HOME to your own home directory (sudo -H and sudo -i do that), or pass --dir with a directory of your own';
  // Root with a user's HOME is almost always root trying to act for that user.
  if (uid === 0 && owner && !owner.startsWith('uid ')) return `to act for ${owner}, run as ${owner}: sudo -iu ${owner} agentkeep ...; otherwise ${own}`;
  return own;
}

/**
 * Refuses (exit 78) a HOME that does not exist or that belongs to another user; only the
 * key directory derived from HOME needs this, so callers skip it when --dir is given.
 */
export function assertOwnHome(home: string, uid: number): void {
  const me = userName(uid);
  let st;
  try {
    st = statSync(home);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) {
      throw new AgentkeepError('UNSAFE_HOME', `HOME is ${home}, which does not exist (running as ${me})`, homeFix(uid, undefined));
    }
    if (isErrno(error, 'EACCES')) {
      throw new AgentkeepError('UNSAFE_HOME', `HOME is ${home}, which ${me} cannot reach (permission denied): it is not your home directory`, homeFix(uid, undefined));
    }
    throw error;
  }
  if (!st.isDirectory()) {
    throw new AgentkeepError('UNSAFE_HOME', `HOME is ${home}, which is not a directory (running as ${me})`, homeFix(uid, undefined));
  }
  if (st.uid !== uid) {
    const owner = userName(st.uid);
    throw new AgentkeepError('UNSAFE_HOME', `HOME is ${home}, which belongs to ${owner}, but this runs as ${me}: agentkeep never writes into another user's home`, homeFix(uid, owner));
  }
}
