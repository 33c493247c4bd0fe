// Which process holds a listening Unix socket. Only Linux's /proc tells (/proc/net/unix maps the
// path to an inode, /proc/PID/fd maps the inode to a holder); with the ps backend every answer
// here is "unknown", and callers fall back to the socket's own answer and ssh-agent's -a argument.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { procBackend, type ProcessInfo } from './backend.js';

/** True when this backend can tell which process holds a socket (/proc); false with ps. */
export function socketHoldersVisible(): boolean {
  return procBackend().name === 'proc';
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

/** The open fds of `pid` that are sockets, as `socket:[INODE]`; undefined when they cannot be read. */
function socketFds(pid: number): string[] | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  return fds.flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      return target.startsWith('socket:[') ? [target] : [];
    } catch {
      return []; // closed meanwhile
    }
  });
}

/**
 * Whether `pid` holds the listening socket at `path`; undefined when that cannot be learned:
 * with ps always, and with /proc when its fds are hidden (ssh-agent makes itself non-dumpable,
 * so its own user cannot read them) or no listener is bound there.
 */
export function holdsListeningSocket(pid: number, path: string): boolean | undefined {
  if (!socketHoldersVisible()) return undefined;
  const inodes = listeningInodes(path);
  const fds = socketFds(pid);
  if (fds === undefined || inodes.size === 0) return undefined;
  return fds.some((target) => inodes.has(target.slice('socket:['.length, -1)));
}

/** The process (of those whose fds we may read) listening on `path`; undefined when none is found or with ps. */
export function socketListener(path: string): ProcessInfo | undefined {
  if (!socketHoldersVisible()) return undefined;
  const inodes = listeningInodes(path);
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    if (socketFds(Number(name))?.some((target) => wanted.has(target))) return procBackend().info(Number(name));
  }
  return undefined;
}
