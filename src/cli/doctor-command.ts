// `agentkeep doctor` (in progress).
import { EXIT } from '../errors.js';
import type { Io } from './run-cli.js';

export async function doctorCommand(_argv: string[], io: Io): Promise<number> {
  io.stderr('agentkeep: doctor is not built yet\n');
  return EXIT.failure;
}
