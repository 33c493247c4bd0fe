// Renders the agent's environment for each env file flavour (src/shells/flavours.ts), quoted so
// that sourcing a file can never run code.
import { AgentkeepError } from '../errors.js';
import { ENV_FORMATS, type EnvFlavour } from '../shells/flavours.js';

/** What the env files describe: the socket and, for a local agent, its PID. */
export interface AgentEnv {
  sock: string;
  pid?: number | undefined;
}

/** Refuses values that no shell file can carry safely. */
export function assertRenderable(value: string): void {
  if (value === '' || /[\0\n\r]/.test(value)) {
    throw new AgentkeepError('UNSAFE_PATH', `refusing to write ${JSON.stringify(value)} into an env file: it is empty or holds a NUL or newline`,
      'use a socket path without control characters (--ssh-agent-socket, --dir)');
  }
}

/** The lines of one env file (keychain's exact shape for sh, csh and fish). */
export function renderEnv(env: AgentEnv, flavour: EnvFlavour): string {
  assertRenderable(env.sock);
  const format = ENV_FORMATS[flavour];
  const vars: Array<[string, string]> = [['SSH_AUTH_SOCK', env.sock]];
  if (env.pid !== undefined) vars.push(['SSH_AGENT_PID', String(env.pid)]);
  return vars.map(([name, value]) => `${format.line(name, format.quote(value))}\n`).join('');
}
