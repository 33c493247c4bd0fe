// Which processes are this user's ssh-agents, and which socket an agent serves, asked of the
// process module (src/proc): /proc on Linux, ps elsewhere. Where the holder of a socket cannot
// be learned (ps, or fds hidden), the agent's `-a SOCKET` argument decides, else "unknown".
import { isGone, type ProcessInfo } from '../proc/backend.js';
import { argumentOf, listProcesses, processInfo } from '../proc/query.js';
import { holdsListeningSocket } from '../proc/sockets.js';

function isSshAgentOf(info: ProcessInfo, uid: number): boolean {
  return info.name === 'ssh-agent' && !isGone(info) && info.uid === uid;
}

/** True when PID is a live (not zombie) ssh-agent whose real uid is `uid`. */
export function isLiveSshAgent(pid: number, uid: number): boolean {
  const info = processInfo(pid);
  return info !== undefined && isSshAgentOf(info, uid);
}

/** Every live ssh-agent process whose real uid is `uid`. */
export function listSshAgents(uid: number): number[] {
  return listProcesses().filter((p) => isSshAgentOf(p, uid)).map((p) => p.pid);
}

/**
 * Whether PID holds the listening socket bound to `path`; undefined when that cannot be told.
 * The `-a SOCKET` it was started with decides first (readable even when its fds are not).
 */
export function pidServesSocket(pid: number, path: string): boolean | undefined {
  const bound = argumentOf(pid, '-a', path);
  if (bound === 'match') return true;
  if (bound === 'other') return false;
  return holdsListeningSocket(pid, path);
}

/** The live ssh-agent of `uid` started with `-a path` (what agentkeep starts), if any. */
export function findAgentBoundTo(path: string, uid: number): number | undefined {
  return listSshAgents(uid).find((pid) => argumentOf(pid, '-a', path) === 'match');
}
