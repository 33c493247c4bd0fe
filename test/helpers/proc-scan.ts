// Leak scanners for passphrase tests: what every readable process shows in its argv and
// environment, and which files under a directory contain a string.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every readable /proc/PID/{cmdline,environ} that contains `needle`, and the argv[0] of each process read. */
export function scanProc(needle: string): { hits: string[]; names: string[] } {
  const hits: string[] = [];
  const names: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    for (const part of ['cmdline', 'environ']) {
      try {
        const text = readFileSync(`/proc/${pid}/${part}`, 'latin1');
        if (text.includes(needle)) hits.push(`${pid}/${part}: ${text.replace(/\0/g, ' ').slice(0, 200)}`);
        if (part === 'cmdline') names.push(text.split('\0')[0] ?? '');
      } catch { /* gone, or not ours to read */ }
    }
  }
  return { hits, names };
}

/** Every file under `dir` whose content contains `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) out.push(...filesContaining(path, needle));
    else if (st.isFile() && readFileSync(path, 'latin1').includes(needle)) out.push(path);
  }
  return out;
}

/** Scans /proc for `needle` over and over until `work` settles; what was found, and whether `name` was seen running. */
export async function scanWhile<T>(needle: string, name: string, work: Promise<T>): Promise<{ result: T; hits: string[]; scans: number; sawName: boolean }> {
  let done = false;
  const watched = work.finally(() => { done = true; });
  const hits: string[] = [];
  let scans = 0;
  let sawName = false;
  while (!done) {
    const seen = scanProc(needle);
    hits.push(...seen.hits);
    sawName ||= seen.names.some((n) => n === name);
    scans++;
    await new Promise((r) => setTimeout(r, 2));
  }
  return { result: await watched, hits, scans, sawName };
}
