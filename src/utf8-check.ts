// Node reads argv and the environment as UTF-8 and silently replaces bytes that are not UTF-8
// with U+FFFD: a path given that way would name a different file than the one asked for.
import { AgentkeepError } from './errors.js';

/** Throws a usage error when `value` (named `what`) came with bytes that are not UTF-8. */
export function assertUtf8(value: string | undefined, what: string): void {
  if (value === undefined || !value.includes('\uFFFD')) return;
  throw new AgentkeepError('USAGE', `${what} holds bytes that are not UTF-8 (${JSON.stringify(value)}); Node.js would read it as a different name`,
    'rename the file or directory to a UTF-8 name, or give it through a symlink with a UTF-8 name');
}
