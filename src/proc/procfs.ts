// The /proc backend (Linux): /proc/PID/stat for the parent, group, state and name,
// /proc/PID/status for the real uid, /proc/PID/cmdline for the exact argv.
import { readdirSync, readFileSync } from 'node:fs';
import type { CommandLine, ProcBackend, ProcessInfo } from './backend.js';

function info(pid: number): ProcessInfo | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split at the last ')'.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const [state, ppid, pgid] = stat.slice(close + 2).split(' ');
  // "Uid:\treal\teffective\tsaved\tfs"
  const uid = /^Uid:\s*(\d+)/m.exec(status)?.[1];
  if (open < 0 || close < open || state === undefined || uid === undefined) return undefined;
  return { pid, ppid: Number(ppid), pgid: Number(pgid), uid: Number(uid), state: state.charAt(0), name: stat.slice(open + 1, close) };
}

function list(): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((name) => /^\d+$/.test(name)).flatMap((name) => info(Number(name)) ?? []);
}

function commandLine(pid: number): CommandLine | undefined {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    return { argv };
  } catch {
    return undefined;
  }
}

/** Linux's /proc, read directly (no child process). */
export const procfsBackend: ProcBackend = { name: 'proc', info, list, commandLine };
