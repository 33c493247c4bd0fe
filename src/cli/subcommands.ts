// Subcommands beyond keychain's flags (`agentkeep hook sh`, `agentkeep doctor`, ...), each
// loaded only when called so that the login path never pays for them.
import type { Io } from './run-cli.js';

/** A subcommand: its argv (after its name) and the Io; resolves to the exit status. */
export type Subcommand = (argv: string[], io: Io) => Promise<number>;

/** The first word that selects a subcommand; a key file with one of these names needs `./NAME`. */
export const subcommands: Record<string, Subcommand> = {
  hook: async (argv, io) => (await import('./hook-command.js')).hookCommand(argv, io),
  doctor: async (argv, io) => (await import('./doctor-command.js')).doctorCommand(argv, io),
  passphrase: async (argv, io) => (await import('./passphrase-command.js')).passphraseCommand(argv, io),
  authorize: async (argv, io) => (await import('./authorize-command.js')).authorizeCommand(argv, io),
};
