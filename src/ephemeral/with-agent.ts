// Runs a body with a private agent that holds the given keys, and stops that agent and removes
// its directory on every way out: return, throw, and SIGTERM/SIGINT/SIGHUP/SIGQUIT.
import { killEphemeralAgentsSync, startEphemeralAgent, stopEphemeralAgent, type EphemeralAgent } from './agent.js';
import { loadKeysNonInteractive, type LoadOptions } from './load.js';

/** What to load into the private agent (as loadKeysNonInteractive), and where to put it. */
export interface EphemeralOptions extends LoadOptions {
  /** Parent of the agent's private directory (default $TMPDIR or /tmp). */
  baseDir?: string | undefined;
}

/** Signals after which the private agent must not outlive us. */
export const CLEANUP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;

/**
 * While `agent` runs: on a signal that nobody else handles, stop the agent and re-raise the
 * signal (so the process dies of it, status 128+N). When the body has its own listener (agentrun
 * forwarding the signal to its job), we leave the signal to it: the job ends, the body returns,
 * and the `finally` stops the agent.
 */
export function guardSignals(agent: EphemeralAgent): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const uninstall = (): void => {
    for (const [sig, fn] of handlers) process.off(sig, fn);
    handlers.clear();
  };
  for (const sig of CLEANUP_SIGNALS) {
    const fn = (): void => {
      if (process.listenerCount(sig) > 1) return;
      void stopEphemeralAgent(agent).finally(() => {
        uninstall();
        process.kill(process.pid, sig);
      });
    };
    handlers.set(sig, fn);
    process.on(sig, fn);
  }
  process.once('exit', killEphemeralAgentsSync);
  return () => {
    uninstall();
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
