// The POSIX `ps` backend (macOS, the BSDs, a Linux without /proc). Only flags and keywords that
// procps, macOS and FreeBSD all accept: -A, -p, -ww, and -o with pid, ppid, pgid, ruid, stat,
// ucomm, args. Each -o is given `=` (no header). A name may hold spaces, so the one field that
// can is always the last on the line, and the command line is asked for in a call of its own:
// one call for the facts (`ucomm` last) and one for `args` alone, never both on one line.
import { runChildSync } from '../child/run-sync.js';
import { AgentkeepError } from '../errors.js';
import type { CommandLine, ProcBackend, ProcessInfo } from './backend.js';

const FACTS = ['-o', 'pid=', '-o', 'ppid=', '-o', 'pgid=', '-o', 'ruid=', '-o', 'stat=', '-o', 'ucomm='];

/**
 * ps's output, or undefined when it found no such process (exit 1, no output). Run with only PATH
 * and LC_ALL=C: procps reads PS_FORMAT and PS_PERSONALITY, which would change the columns. -ww: a
 * BSD ps cuts lines at 79 columns when its output is not a terminal.
 */
function ps(args: string[]): string | undefined {
  const r = runChildSync('ps', ['-ww', ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, maxBuffer: 64 * 1024 * 1024 });
  if (r.error?.code === 'ENOBUFS') throw new AgentkeepError('IO', `ps ${args.join(' ')} failed: ${r.error.reason}`);
  if (r.error) {
    throw new AgentkeepError('NOT_INSTALLED', `cannot ask ps about processes: ${r.error.message}`,
      'agentkeep needs ps(1) where there is no Linux /proc; put the directory that holds it on PATH');
  }
  if (r.status === 0) return r.stdout;
  if (r.status === 1 && r.stdout.trim() === '') return undefined;
  throw new AgentkeepError('IO', `ps ${args.join(' ')} failed (${r.signal ?? `exit status ${r.status}`}): ${r.stderr.trim()}`);
}

/** One line of `pid ppid pgid ruid stat ucomm`; ucomm is the rest of the line. */
export function parseFacts(line: string): ProcessInfo | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*?)\s*$/.exec(line);
  if (!m) return undefined;
  return { pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), uid: Number(m[4]), state: m[5]!.charAt(0), name: m[6]! };
}

function info(pid: number): ProcessInfo | undefined {
  const out = ps([...FACTS, '-p', String(pid)]);
  return out === undefined ? undefined : out.split('\n').map(parseFacts).find((p) => p?.pid === pid);
}

function list(): ProcessInfo[] {
  return (ps(['-A', ...FACTS]) ?? '').split('\n').flatMap((line) => parseFacts(line) ?? []);
}

function commandLine(pid: number): CommandLine | undefined {
  const out = ps(['-o', 'args=', '-p', String(pid)]);
  return out === undefined ? undefined : { text: out.replace(/\n$/, '') };
}

/** POSIX ps(1), one child process per question. */
export const psBackend: ProcBackend = { name: 'ps', info, list, commandLine };
