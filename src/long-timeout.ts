// setTimeout for any duration: Node fires a delay above 2^31-1 ms (about 24.8 days) at once,
// which would turn `--timeout 700h` into "kill the job now". Longer delays are chained.

/** The longest delay Node's own timers take as given. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending long timer. */
export interface LongTimeout {
  clear(): void;
}

/** Calls `fn` after `ms` milliseconds, however long that is; `clear()` cancels it. */
export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(Math.max(left, 0), MAX_TIMER_MS));
  };
  arm(ms);
  return { clear: () => clearTimeout(timer) };
}
