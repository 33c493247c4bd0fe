// Runs a body with a private agent that holds the given keys, and stops that agent and removes
// its directory on every way out: return, throw, and SIGTERM/SIGINT/SIGHUP/SIGQUIT.
import { openSignalScope } from '../signal-scope.js';
import { loadKeysNonInteractive, type LoadOptions } from '../keys/load-unattended.js';
import { killEphemeralAgentsSync, startEphemeralAgent, stopEphemeralAgent, type EphemeralAgent } from './agent.js';

/** What to load into the private agent (as loadKeysNonInteractive), and where to put it. */
export interface EphemeralOptions extends LoadOptions {
  /** Parent of the agent's private directory (default $TMPDIR or /tmp). */
  baseDir?: string | undefined;
}

/**
 * While `agent` runs: on a signal that reaches this scope, stop the agent and re-raise the signal
 * (so the process dies of it, status 128+N). A body that handles signals itself opens its own
 * scope inside this one (agentrun forwarding the signal to its job, run/job.ts): the job ends,
 * the body returns, and withEphemeralAgent's `finally` stops the agent.
 */
export function guardSignals(agent: EphemeralAgent): () => void {
  const close = openSignalScope((signal) => {
    void stopEphemeralAgent(agent).finally(() => {
      close();
      process.kill(process.pid, signal);
    });
  });
  process.once('exit', killEphemeralAgentsSync);
  return () => {
    close();
    process.off('exit', killEphemeralAgentsSync);
  };
}

/** Starts a private agent, loads `keys`, runs `body` with it, and always stops it afterwards. */
export async function withEphemeralAgent<T>(opts: EphemeralOptions, body: (agent: EphemeralAgent) => Promise<T>): Promise<T> {
  const agent = await startEphemeralAgent(opts.env, opts.baseDir);
  const unguard = guardSignals(agent);
  try {
    opts.report?.debug(`started a private ssh-agent ${agent.pid} at ${agent.sock}`);
    await loadKeysNonInteractive(agent.sock, {
      keys: opts.keys, env: opts.env, passphrases: opts.passphrases, askpass: opts.askpass, askpassTimeoutMs: opts.askpassTimeoutMs,
      lifetimeSec: opts.lifetimeSec, confirm: opts.confirm, report: opts.report,
    });
    return await body(agent);
  } finally {
    await stopEphemeralAgent(agent);
    unguard();
    opts.report?.debug(`stopped the private ssh-agent ${agent.pid} and removed ${agent.dir}`);
  }
}
