// The exit status of a child as a shell reports it: its exit code, or 128 + N for signal N.
import { constants } from 'node:os';
import { EXIT } from '../errors.js';

/** The shell's convention: 128 + the signal's number. */
export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** One number for how a child ended: its code, 128 + N when signal N killed it, 127/126 when it never ran. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null, spawnError?: { code: string } | undefined): number {
  if (spawnError) return spawnError.code === 'ENOENT' ? EXIT.notFound : EXIT.notExecutable;
  if (signal) return signalStatus(signal);
  return code ?? 0;
}
