// `agentkeep passphrase` (in progress).
import { EXIT } from '../errors.js';
import type { Io } from './run-cli.js';

export async function passphraseCommand(_argv: string[], io: Io): Promise<number> {
  io.stderr('agentkeep: passphrase is not built yet\n');
  return EXIT.failure;
}
