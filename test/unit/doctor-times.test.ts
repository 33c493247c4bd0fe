// The process ages doctor reads from `ps -o etime=` where it does not read /proc.
import { describe, expect, it } from 'vitest';
import { parseEtime } from '../../src/doctor/times.js';

describe('parseEtime', () => {
  it.each([
    ['00:05', 5],
    ['  12:34', 12 * 60 + 34],
    ['01:02:03', 3723],
    ['3-04:05:06', ((3 * 24 + 4) * 60 + 5) * 60 + 6],
  ])('when ps prints %j then the age is %i s', (text, seconds) => {
    expect(parseEtime(text)).toBe(seconds);
  });

  it.each(['', 'abc', '1:2:3:4', '-01:02'])('when ps prints %j then the age is unknown', (text) => {
    expect(parseEtime(text)).toBeUndefined();
  });
});
