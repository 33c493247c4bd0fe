// The note a login leaves in the key directory while it prompts under the key lock: its PID
// and where the prompt is, so that the logins waiting on the lock can say whom they wait for.
import { unlinkSync } from 'node:fs';
import { isRunning } from '../proc/query.js';
import { readEnvFileText, writeFileAtomic } from '../envfile/store.js';

/** Who is prompting: the agentkeep process and the terminal (or askpass program) it asks on. */
export interface PromptNote {
  pid: number;
  place: string;
}

/** The note's path next to the lock. */
export function promptNotePath(lockPath: string): string {
  return `${lockPath}.prompt`;
}

/** Records that this process is about to prompt (0600, atomic, never through a link). */
export function writePromptNote(path: string, note: PromptNote, uid: number): void {
  writeFileAtomic(path, `${note.pid}\n${note.place}\n`, uid);
}

/** Removes the note, if it is still ours. */
export function removePromptNote(path: string, uid: number): void {
  if (readPromptNote(path, uid, false)?.pid === process.pid) {
    try { unlinkSync(path); } catch { /* already gone */ }
  }
}

/** The note, read as data; undefined when absent, unsafe, malformed, or (with `live`) its process is gone. */
export function readPromptNote(path: string, uid: number, live = true): PromptNote | undefined {
  let text: string | undefined;
  try {
    text = readEnvFileText(path, uid);
  } catch {
    return undefined;
  }
  const m = /^([1-9]\d{0,9})\n([\x20-\x7e]{1,200})\n$/.exec(text ?? '');
  if (!m) return undefined;
  const note = { pid: Number(m[1]), place: m[2]! };
  // A killed prompter may linger as a zombie until its parent shell reaps it: that is gone too.
  return !live || isRunning(note.pid) ? note : undefined;
}
