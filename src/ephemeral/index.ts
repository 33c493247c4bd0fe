// The private per-job agent (`agentrun --ephemeral KEY... [--askpass PROGRAM]`).
export { startEphemeralAgent, stopEphemeralAgent, killEphemeralAgentsSync, liveEphemeralAgents, type EphemeralAgent } from './agent.js';
export { loadKeysNonInteractive, keyringPassphrases, type LoadOptions, type PassphraseSource } from './load.js';
export { withEphemeralAgent, guardSignals, CLEANUP_SIGNALS, type EphemeralOptions } from './with-agent.js';
