// Option value types shared by every command line: each parser names the option, what it
// expected and what arrived, and throws a usage error (exit 64).
import { AgentkeepError } from '../errors.js';

/** A usage error about one option's value. */
export function badValue(message: string, hint?: string): AgentkeepError {
  return new AgentkeepError('USAGE', message, hint);
}

/** Parses a raw option value; `option` is the spelling the user wrote, for the message. */
export type ValueParser<T> = (raw: string, option: string) => T;

/**
 * A duration such as `90`, `90s`, `15m`, `2h` or `1h30m`, in milliseconds. A bare number is
 * `bareUnit` (seconds unless keychain's own option says minutes); 0 only when `zero` allows it.
 */
export function duration(opts: { bareUnit?: 's' | 'm'; zero?: boolean } = {}): ValueParser<number> {
  return (raw, option) => durationMs(option, raw, opts.zero ?? false, opts.bareUnit ?? 's');
}

/** `duration()` as a plain function: the value of `option` in milliseconds. */
export function durationMs(option: string, value: string, zero = false, bareUnit: 's' | 'm' = 's'): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)(s?))?$/.exec(value);
  if (value === '' || !match || match.slice(1, 4).every((part) => part === undefined)) {
    const bare = bareUnit === 'm' ? '15 (minutes)' : '90 (seconds)';
    throw badValue(`expected ${option} to be a duration such as ${bare}, 90s, 15m, 2h or 1h30m, got ${JSON.stringify(value)}`);
  }
  const [h = 0, m = 0, n = 0] = match.slice(1, 4).map((part) => Number(part ?? '0'));
  const bareIsMinutes = bareUnit === 'm' && match[3] !== undefined && match[4] === '' && match[1] === undefined && match[2] === undefined;
  const seconds = (h * 60 + m) * 60 + (bareIsMinutes ? n * 60 : n);
  if (seconds === 0 && !zero) throw badValue(`expected ${option} to be longer than zero, got ${JSON.stringify(value)}`);
  return seconds * 1000;
}

/** 5400000 → `1h30m`, 90000 → `1m30s`, 1000 → `1s`: the way a duration is written back. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, sec] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec || total === 0 ? `${sec}s` : ''}`;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(words: readonly T[]): ValueParser<T> {
  return (raw, option) => {
    if (!(words as readonly string[]).includes(raw)) {
      throw badValue(`expected ${option} to be one of ${words.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return raw as T;
  };
}

/** Any text, as given. */
export const text: ValueParser<string> = (raw) => raw;
