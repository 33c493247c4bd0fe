// "Is this program on that PATH, and which file is it?" answered one way for every caller:
// agentrun's preflight (execvp's rule), doctor (as another user would find it), the askpass
// check and `hook cron`. Each caller says only how one candidate is judged.
import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What one candidate file is to whoever would execute it. */
export type Execability = 'yes' | 'denied' | 'missing';

/** Our own judgement of a candidate, through access(2): an executable regular file, or why not. */
export function executableByUs(path: string): Execability {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile() ? 'yes' : 'denied';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'denied';
  }
}

/**
 * The files execvp(3) and sh try for NAME, in order: NAME itself when it holds a slash, else NAME
 * in each PATH entry, an empty entry meaning the working directory; relative ones start at `cwd`.
 */
function pathCandidates(name: string, path: string, cwd = '.'): string[] {
  if (name.includes('/')) return [resolve(cwd, name)];
  return path.split(':').map((dir) => join(resolve(cwd, dir === '' ? '.' : dir), name));
}

/** The result of a lookup: the first candidate judged executable, and whether one was there but denied. */
export interface Lookup {
  found?: string;
  denied: boolean;
}

/** Looks NAME up on PATH as execvp does, each candidate judged by `judge` (ours by default). */
export function lookupCommand(name: string, path: string, opts: { judge?: (path: string) => Execability; cwd?: string } = {}): Lookup {
  const judge = opts.judge ?? executableByUs;
  let denied = false;
  for (const candidate of pathCandidates(name, path, opts.cwd)) {
    const verdict = judge(candidate);
    if (verdict === 'yes') return { found: candidate, denied };
    if (verdict === 'denied') denied = true;
  }
  return { denied };
}

/** PATH with only its absolute entries: where a program is looked up for someone else, never "." or a relative one. */
export function absoluteEntries(path: string): string {
  return path.split(':').filter((dir) => dir.startsWith('/')).join(':');
}
