// When the machine booted and when a process started, for "rebooted at ..., nobody logged in
// since". Linux /proc first; `uptime -s` where /proc/stat is missing, `ps -o etime=` with the ps backend.
import { readFileSync } from 'node:fs';
import { runChildSync } from '../child/run-sync.js';
import { procBackend } from '../proc/backend.js';

/** /proc/PID/stat counts in USER_HZ, which Linux fixes at 100 for every user-space interface. */
const USER_HZ = 100;

/** The last boot: /proc/stat's btime, else `uptime -s`; null when neither answers. */
export function bootTime(): Date | null {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (btime !== undefined) return new Date(Number(btime) * 1000);
  } catch { /* no /proc: ask uptime */ }
  const r = runChildSync('uptime', ['-s'], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
  const text = r.status === 0 ? r.stdout.trim() : '';
  const at = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(text) ? new Date(text.replace(' ', 'T')) : null;
  return at && !Number.isNaN(at.getTime()) ? at : null;
}

/** `[[DD-]HH:]MM:SS`, as POSIX `ps -o etime=` prints a process's age, in seconds; undefined when it is not that. */
export function parseEtime(text: string): number | undefined {
  const m = /^(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const [, d = '0', h = '0', min, sec] = m;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60 + Number(sec);
}

/** When PID started: /proc/PID/stat's field 22 (ticks after boot), or `ps -o etime=` with the ps backend; null when unknown. */
export function processStartTime(pid: number, boot: Date | null): Date | null {
  if (procBackend().name === 'ps') {
    const r = runChildSync('ps', ['-o', 'etime=', '-p', String(pid)], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
    const age = r.status === 0 ? parseEtime(r.stdout) : undefined;
    return age === undefined ? null : new Date(Date.now() - age * 1000);
  }
  if (boot === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? new Date(boot.getTime() + (ticks / USER_HZ) * 1000) : null;
  } catch {
    return null;
  }
}

/** A time as local `YYYY-MM-DD HH:MM:SS`, the way an administrator reads a log. */
export function localTime(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}`;
}
