// `--lock [NAME]`: one run at a time per name, via a lock under `<keydir>/run-locks/`. A held
// lock fails at once (exit 75) unless --lock-wait allows waiting. The holder refreshes the lock
// while the job runs and records the job's process group beside it (`NAME.job`): a lock whose
// holder was killed is taken over only once no process of that job is left, so a job orphaned
// by a SIGKILLed agentrun never gets a second copy running beside it.
import { nodeCrypto } from '../lazy-crypto.js';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AgentkeepError } from '../errors.js';
import { ensureKeydir } from '../envfile/store.js';
import { readOwnFileText } from '../path-safety.js';
import { tryLock } from '../lock/lock.js';
import { groupMembers, isRunning } from '../proc/query.js';

/** The lock name used by a bare `--lock`: the command's name plus a digest of the whole command line. */
export function defaultLockName(command: string[]): string {
  const base = basename(command[0] ?? 'job').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.]/, '_').slice(0, 60) || 'job';
  const digest = nodeCrypto().createHash('sha256').update(command.join('\0')).digest('hex').slice(0, 12);
  return `${base}-${digest}`;
}

/** A held run lock: record the job once it runs, release at the end. */
export interface RunLock {
  /** Records the job's process group (or its PID when it shares ours), so the lock outlives a killed agentrun. */
  recordJob(target: { pgid: number } | { pid: number }): void;
  release(): Promise<void>;
}

/** Where the run lock NAME of a key directory lives (proper-lockfile adds `.lock`, the job record `.job`). */
export function runLockPath(keydir: string, name: string): string {
  return join(keydir, 'run-locks', name);
}

/** The refusal (exit 75) of a run whose lock NAME at `path` an earlier run still holds after `waitMs`; `orphan` names a job whose agentrun is gone. */
export function lockHeldError(name: string, path: string, waitMs: number, orphan?: string): AgentkeepError {
  const waited = waitMs > 0 ? ` after waiting ${Math.round(waitMs / 1000)} s` : '';
  const who = orphan !== undefined ? `is held: an earlier run's job (${orphan}) is still running, although its agentrun is gone` : 'is held by an earlier run that is still running';
  return new AgentkeepError('LOCK_HELD', `not started: the lock "${name}" ${who} (${path}.lock)${waited}`,
    waitMs > 0 ? 'the earlier run is taking longer than usual; raise --lock-wait or check it with: ps -ef | grep agentrun'
      : 'nothing to do if the earlier run is just long; to wait for it instead, add --lock-wait DURATION (e.g. --lock-wait 10m)');
}

/**
 * What the job record beside the lock at `path` says is still running, if anything: a job can
 * outlive its agentrun. The record is read as `uid`'s own file (never a link or a FIFO, which
 * would hang root's doctor on a user's lock); an unsafe one is refused (UNSAFE_PATH).
 */
export function orphanedJob(path: string, uid: number): string | undefined {
  const text = readOwnFileText(`${path}.job`, uid, 4096);
  if (text === undefined) return undefined;
  const pgid = /^pgid (\d+)$/m.exec(text)?.[1];
  const pid = /^pid (\d+)$/m.exec(text)?.[1];
  // A zombie runs nothing: only members that still run hold the lock.
  if (pgid !== undefined && groupMembers(Number(pgid)).length > 0) return `process group ${pgid}`;
  if (pid !== undefined && isRunning(Number(pid))) return `process ${pid}`;
  return undefined;
}

/** Takes the run lock NAME, waiting up to `waitMs`. */
export async function takeRunLock(keydir: string, uid: number, name: string, waitMs: number): Promise<RunLock> {
  // The key directory itself first: ensureKeydir(run-locks) alone would create or accept a parent
  // that is group-writable or someone else's, and put our lock files inside it.
  ensureKeydir(keydir, uid);
  const path = runLockPath(keydir, name);
  ensureKeydir(dirname(path), uid);
  const jobFile = `${path}.job`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    let held = await tryLock(path);
    // A lock taken over from a killed agentrun is not ours while its job still runs.
    let orphan: string | undefined;
    try {
      orphan = held ? orphanedJob(path, uid) : undefined;
    } catch (error) {
      await held?.release();
      throw error;
    }
    if (held && orphan !== undefined) {
      await held.release();
      held = undefined;
    }
    if (held) {
      return {
        recordJob: (target) => writeFileSync(jobFile, 'pgid' in target ? `pgid ${target.pgid}\n` : `pid ${target.pid}\n`, { mode: 0o600 }),
        release: async () => {
          rmSync(jobFile, { force: true });
          await held.release();
        },
      };
    }
    if (Date.now() >= deadline) throw lockHeldError(name, path, waitMs, orphan);
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(10, deadline - Date.now()))));
  }
}
