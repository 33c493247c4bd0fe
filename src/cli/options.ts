// Option value parsers shared by both CLIs: each names what it expected and what arrived.
import { InvalidArgumentError } from 'commander';

/** A whole number of seconds or minutes, at least `min`. */
export function wholeNumber(what: string, min = 0): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`Expected ${what} to be a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(value)}.`);
    }
    return Number(value);
  };
}

/** A duration such as `90`, `90s`, `15m`, `2h` or `1h30m`, in milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(value);
  if (value === '' || !match || match.slice(1).every((part) => part === undefined)) {
    throw new InvalidArgumentError(`Expected a duration such as 90, 90s, 15m, 2h or 1h30m, got ${JSON.stringify(value)}.`);
  }
  const [h = '0', m = '0', s = '0'] = match.slice(1).map((part) => part ?? '0');
  const ms = ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
  if (ms <= 0) throw new InvalidArgumentError(`Expected a duration longer than zero, got ${JSON.stringify(value)}.`);
  return ms;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(what: string, words: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(words as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`Expected ${what} to be one of ${words.join(', ')}, got ${JSON.stringify(value)}.`);
    }
    return value as T;
  };
}
