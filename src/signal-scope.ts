// Who answers a terminating signal right now. Code that must act on SIGTERM/SIGINT/SIGHUP/SIGQUIT
// opens a scope for as long as it must; scopes nest, and only the innermost open one hears the
// signal. agentrun forwarding a signal to its job thus takes over from the private agent's
// cleanup around it, and hands back when the job has ended, without either asking the other.

/** The signals a scope takes over: those that end agentkeep and agentrun. */
export const SCOPED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;

/** One of SCOPED_SIGNALS. */
export type ScopedSignal = (typeof SCOPED_SIGNALS)[number];

// Open scopes, outermost first; the last one hears the signal.
const scopes: Array<{ handler: (signal: ScopedSignal) => void }> = [];
const listeners = new Map<ScopedSignal, () => void>();

function listen(): void {
  for (const signal of SCOPED_SIGNALS) {
    const fn = (): void => { scopes.at(-1)?.handler(signal); };
    listeners.set(signal, fn);
    process.on(signal, fn);
  }
}

function unlisten(): void {
  for (const [signal, fn] of listeners) process.off(signal, fn);
  listeners.clear();
}

/**
 * Hands the scoped signals to `handler` until the returned function closes the scope (closing twice
 * does nothing). While any scope is open no scoped signal kills the process by default; once the
 * last one closes, a signal (or one a handler re-raises) takes its default action again.
 */
export function openSignalScope(handler: (signal: ScopedSignal) => void): () => void {
  if (scopes.length === 0) listen();
  const scope = { handler };
  scopes.push(scope);
  return () => {
    const at = scopes.indexOf(scope);
    if (at < 0) return;
    scopes.splice(at, 1);
    if (scopes.length === 0) unlisten();
  };
}
