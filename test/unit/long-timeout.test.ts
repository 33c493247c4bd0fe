import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from '../../src/long-timeout.js';

describe('setLongTimeout', () => {
  afterEach(() => vi.useRealTimers());

  it('when the delay is past Node\'s 32-bit limit then it fires only when the whole delay has passed', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    setLongTimeout(fired, 700 * 3600 * 1000);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(700 * 3600 * 1000 - MAX_TIMER_MS - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('when it is cleared in a later link of the chain then it never fires', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const timer = setLongTimeout(fired, 3 * MAX_TIMER_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    timer.clear();
    vi.advanceTimersByTime(3 * MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
  });

  it('when the delay is short then it fires once, on time', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    setLongTimeout(fired, 50);
    vi.advanceTimersByTime(49);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });
});
