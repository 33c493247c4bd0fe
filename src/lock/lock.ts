// A cross-process lock on a path (proper-lockfile's mkdir lock), with our own bounded wait.
// A waiter never steals a live holder's lock: the holder refreshes the lock's mtime every
// second, and only a lock left unrefreshed for STALE_MS (its holder was killed) is taken over.
import { AgentkeepError } from '../errors.js';

/** A lock not refreshed for this long belongs to a dead holder and may be taken over. */
export const STALE_MS = 4000;
/** How often a live holder refreshes its lock. */
const UPDATE_MS = 1000;

/** How long and how to wait for a lock held by someone else. */
export interface LockWaitOptions<T> {
  /** How long to wait for a live holder before failing with LOCK_TIMEOUT. */
  waitMs: number;
  /** Called between attempts; a defined result means the lock is no longer needed. */
  whileWaiting?: (() => Promise<T | undefined>) | undefined;
  /** Called once, when the first attempt finds the lock held. */
  onWait?: (() => void) | undefined;
  /** What the lock protects, for the timeout message. */
  purpose: string;
}

/** Either the lock (with `assertHeld`, which throws once another process has taken it over) or the waiter's result. */
export type LockOutcome<T> = { acquired: true; waited: boolean; release: () => Promise<void>; assertHeld: () => void }
  | { acquired: false; result: T };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Tries once to take the lock; returns undefined when a live holder has it. */
export async function tryLock(path: string): Promise<{ release: () => Promise<void>; assertHeld: () => void } | undefined> {
  const lockfile = (await import('proper-lockfile')).default;
  let compromise: Error | undefined;
  try {
    const release = await lockfile.lock(path, {
      realpath: false,
      stale: STALE_MS,
      update: UPDATE_MS,
      retries: 0,
      // The default throws from a timer and crashes the process; record it instead, and let the
      // holder check before each step that needs exclusivity (starting an agent, prompting).
      onCompromised: (error) => { compromise = error; },
    });
    return {
      release: async () => { try { await release(); } catch { /* compromised or already gone */ } },
      assertHeld: () => {
        if (compromise) {
          throw new AgentkeepError('LOCK_COMPROMISED', `lost the lock ${path}.lock (${compromise.message}); another agentkeep took it over`,
            'run agentkeep again; if this repeats, the machine is too loaded to refresh the lock every second');
        }
      },
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw error;
  }
}

/** True when a live holder has the lock right now (its lock is fresh); looks only, never takes or removes it. */
export async function isLockHeld(path: string): Promise<boolean> {
  const lockfile = (await import('proper-lockfile')).default;
  try {
    return await lockfile.check(path, { realpath: false, stale: STALE_MS });
  } catch {
    // A run-locks directory we cannot search: agentrun's own takeRunLock would refuse it first, so not "held".
    return false;
  }
}

/** Waits up to `waitMs` for the lock, giving `whileWaiting` a chance to make it unnecessary. */
export async function acquireLock<T>(path: string, opts: LockWaitOptions<T>): Promise<LockOutcome<T>> {
  const deadline = Date.now() + opts.waitMs;
  let waited = false;
  for (;;) {
    const held = await tryLock(path);
    if (held) return { acquired: true, waited, ...held };
    if (!waited) opts.onWait?.();
    waited = true;
    const result = await opts.whileWaiting?.();
    if (result !== undefined) return { acquired: false, result };
    if (Date.now() >= deadline) {
      throw new AgentkeepError('LOCK_TIMEOUT',
        `gave up after ${(opts.waitMs / 1000).toFixed(1)} s waiting for the lock ${path}.lock (${opts.purpose}); another agentkeep still holds it`,
        'wait for it to finish, or raise --lock-wait; a lock whose holder was killed is taken over after a few seconds');
    }
    await sleep(20 + Math.random() * 60);
  }
}
