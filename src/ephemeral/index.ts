// The private per-job agent (`agentrun --ephemeral KEY... [--askpass PROGRAM]`).
export { startEphemeralAgent, stopEphemeralAgent, killEphemeralAgentsSync, liveEphemeralAgents, type EphemeralAgent } from './agent.js';
export { withEphemeralAgent, guardSignals, type EphemeralOptions } from './with-agent.js';
// Where a private agent's passphrases usually come from; the loading itself is keys/load-unattended.ts.
export { keyringPassphrases, type PassphraseSource } from '../keys/load-unattended.js';
