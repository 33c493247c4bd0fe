// Renders the agent's environment for each shell from one description, quoted so that
// sourcing a file can never run code.
import { AgentkeepError } from '../errors.js';

/** What the env files describe: the socket and, for a local agent, its PID. */
export interface AgentEnv {
  sock: string;
  pid?: number | undefined;
}

/** The four env files: sh, csh, fish, and systemd's EnvironmentFile=. */
export type EnvFlavour = 'sh' | 'csh' | 'fish' | 'envfile';

const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;

/** Refuses values that no shell file can carry safely. */
export function assertRenderable(value: string): void {
  if (value === '' || /[\0\n\r]/.test(value)) {
    throw new AgentkeepError('UNSAFE_PATH', `refusing to write ${JSON.stringify(value)} into an env file: it is empty or holds a NUL or newline`,
      'use a socket path without control characters (--ssh-agent-socket, --dir)');
  }
}

/** POSIX sh single quotes: nothing inside is special; a quote is closed, escaped, reopened. */
export function quoteSh(value: string): string {
  return BARE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** csh single quotes: like sh, but history substitution still sees "!" unless escaped. */
export function quoteCsh(value: string): string {
  return BARE.test(value) ? value : `'${value.replaceAll("'", `'\\''`).replaceAll('!', '\\!')}'`;
}

/** fish single quotes: only backslash and the quote itself are escapes. */
export function quoteFish(value: string): string {
  return BARE.test(value) ? value : `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** systemd EnvironmentFile= quoting: double quotes, escaping what systemd would interpret. */
export function quoteEnvfile(value: string): string {
  return BARE.test(value) ? value : `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** The lines of one env file (keychain's exact shape for sh, csh and fish). */
export function renderEnv(env: AgentEnv, flavour: EnvFlavour): string {
  assertRenderable(env.sock);
  const vars: Array<[string, string]> = [['SSH_AUTH_SOCK', env.sock]];
  if (env.pid !== undefined) vars.push(['SSH_AGENT_PID', String(env.pid)]);
  return vars.map(([name, value]) => {
    switch (flavour) {
      case 'sh': return `${name}=${quoteSh(value)}; export ${name};\n`;
      case 'csh': return `setenv ${name} ${quoteCsh(value)};\n`;
      case 'fish': return `set -e ${name}; set -gx ${name} ${quoteFish(value)};\n`;
      case 'envfile': return `${name}=${quoteEnvfile(value)}\n`;
    }
  }).join('');
}

/** The shell family for `--eval`, from the basename of $SHELL. */
export function flavourForShell(shell: string | undefined): 'sh' | 'csh' | 'fish' {
  const name = (shell ?? '').split('/').pop() ?? '';
  if (name === 'csh' || name === 'tcsh') return 'csh';
  if (name === 'fish') return 'fish';
  return 'sh';
}
