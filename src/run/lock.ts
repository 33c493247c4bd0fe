// `--lock [NAME]`: one run at a time per name, via a lock under `<keydir>/run-locks/`. A held
// lock fails at once (exit 75) unless --lock-wait allows waiting; a killed holder's lock is
// taken over after a few seconds (the holder refreshes it while the job runs).
import { nodeCrypto } from '../lazy-crypto.js';
import { basename, dirname, join } from 'node:path';
import { AgentkeepError } from '../errors.js';
import { ensureKeydir } from '../envfile/store.js';
import { tryLock } from '../lock/lock.js';

/** The lock name used by a bare `--lock`: the command's name plus a digest of the whole command line. */
export function defaultLockName(command: string[]): string {
  const base = basename(command[0] ?? 'job').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.]/, '_').slice(0, 60) || 'job';
  const digest = nodeCrypto().createHash('sha256').update(command.join('\0')).digest('hex').slice(0, 12);
  return `${base}-${digest}`;
}

/** Where the run lock NAME of a key directory lives (proper-lockfile adds `.lock`). */
export function runLockPath(keydir: string, name: string): string {
  return join(keydir, 'run-locks', name);
}

/** The refusal (exit 75) of a run whose lock NAME at `path` an earlier run still holds after `waitMs`. */
export function lockHeldError(name: string, path: string, waitMs: number): AgentkeepError {
  const waited = waitMs > 0 ? ` after waiting ${Math.round(waitMs / 1000)} s` : '';
  return new AgentkeepError('LOCK_HELD', `not started: the lock "${name}" is held by an earlier run that is still running (${path}.lock)${waited}`,
    waitMs > 0 ? 'the earlier run is taking longer than usual; raise --lock-wait or check it with: ps -ef | grep agentrun'
      : 'nothing to do if the earlier run is just long; to wait for it instead, add --lock-wait DURATION (e.g. --lock-wait 10m)');
}

/** Takes the run lock NAME, waiting up to `waitMs`; returns its release function. */
export async function takeRunLock(keydir: string, uid: number, name: string, waitMs: number): Promise<() => Promise<void>> {
  // The key directory itself first: ensureKeydir(run-locks) alone would create or accept a parent
  // that is group-writable or someone else's, and put our lock files inside it.
  ensureKeydir(keydir, uid);
  const path = runLockPath(keydir, name);
  ensureKeydir(dirname(path), uid);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const held = await tryLock(path);
    if (held) return held.release;
    if (Date.now() >= deadline) throw lockHeldError(name, path, waitMs);
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(10, deadline - Date.now()))));
  }
}
