// What /proc says about processes and listening sockets (Linux). Elsewhere these answer
// "unknown", and callers fall back to the socket's own answer.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Name, state and real uid of a process. */
export interface ProcInfo {
  pid: number;
  name: string;
  state: string;
  uid: number;
}

/** Reads /proc/PID/status; undefined when the process is gone or unreadable. */
export function procInfo(pid: number): ProcInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '';
  const uid = Number(field('Uid').split(/\s+/)[0]);
  return { pid, name: field('Name'), state: field('State').charAt(0), uid };
}

/** True when PID is a live (not zombie) ssh-agent whose real uid is `uid`. */
export function isLiveSshAgent(pid: number, uid: number): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.name === 'ssh-agent' && info.state !== 'Z' && info.state !== 'X' && info.uid === uid;
}

function numericDirs(path: string): number[] {
  try {
    return readdirSync(path).filter((name) => /^\d+$/.test(name)).map(Number);
  } catch {
    return [];
  }
}

/** Every live ssh-agent process whose real uid is `uid`. */
export function listSshAgents(uid: number): number[] {
  return numericDirs('/proc').filter((pid) => isLiveSshAgent(pid, uid));
}

/** Inodes of listening Unix sockets bound to `path`, from /proc/net/unix. */
function listeningInodes(path: string): Set<string> {
  const inodes = new Set<string>();
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return inodes;
  }
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 is __SO_ACCEPTCON (listening).
    if (cols.length < 8 || cols.slice(7).join(' ') !== path) continue;
    if ((parseInt(cols[3]!, 16) & 0x10000) !== 0) inodes.add(cols[6]!);
  }
  return inodes;
}

/** The `-a SOCKET` an ssh-agent was started with (readable even when its fds are not). */
function boundPathFromCmdline(pid: number): string | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const at = argv.indexOf('-a');
    return at >= 0 ? argv[at + 1] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether PID holds the listening socket bound to `path`; undefined when /proc cannot tell.
 * ssh-agent makes itself non-dumpable, so its /proc/PID/fd is unreadable to its own user:
 * then the `-a SOCKET` on its command line decides, when it was started with one.
 */
export function pidServesSocket(pid: number, path: string): boolean | undefined {
  const bound = boundPathFromCmdline(pid);
  if (bound !== undefined) return bound === path;
  const inodes = listeningInodes(path);
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  if (inodes.size === 0) return undefined;
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match && inodes.has(match[1]!)) return true;
    } catch {
      // fd closed meanwhile
    }
  }
  return false;
}

/** The live ssh-agent of `uid` started with `-a path` (what agentkeep starts), if any. */
export function findAgentBoundTo(path: string, uid: number): number | undefined {
  return listSshAgents(uid).find((pid) => boundPathFromCmdline(pid) === path);
}

/** The process (of those we may inspect) that listens on the Unix socket at `path`. */
export function findSocketListener(path: string): ProcInfo | undefined {
  const inodes = listeningInodes(path);
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  for (const pid of numericDirs('/proc')) {
    for (const fd of numericDirs(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (wanted.has(target)) return procInfo(pid);
    }
  }
  return undefined;
}
