// Turns a key argument into a file path: a bare name lives in ~/.ssh, anything with a "/" or
// a leading "~" is a path.
import { isAbsolute, join, resolve } from 'node:path';

/** The private key file a plain key argument names (`id_ed25519`, `~/keys/k`, `./k`, `/p/k`). */
export function keyPath(arg: string, home: string, cwd = process.cwd()): string {
  if (arg === '~' || arg.startsWith('~/')) return join(home, arg.slice(1));
  if (isAbsolute(arg)) return arg;
  if (arg.includes('/')) return resolve(cwd, arg);
  return join(home, '.ssh', arg);
}
