// `agentkeep hook` (in progress).
import { EXIT } from '../errors.js';
import type { Io } from './run-cli.js';

export async function hookCommand(_argv: string[], io: Io): Promise<number> {
  io.stderr('agentkeep: hook is not built yet\n');
  return EXIT.failure;
}
