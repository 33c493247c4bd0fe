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

/** One of a fixed set of words. */
export function oneOf<T extends string>(what: string, words: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(words as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`Expected ${what} to be one of ${words.join(', ')}, got ${JSON.stringify(value)}.`);
    }
    return value as T;
  };
}
