// Reads an env file as data: only the exact lines agentkeep (or keychain) writes are accepted;
// anything else makes the file invalid, and it is never sourced or evaluated.
import type { AgentEnv } from './render.js';
import { ENV_FORMATS, type EnvFlavour } from '../shells/flavours.js';

/** The agent an env file names, or why the file is not valid. */
export type ParsedEnv = { ok: true; env: AgentEnv } | { ok: false; reason: string };

/** Parses the contents of an env file of `flavour` (agentkeep itself reads only `H-sh`). */
export function parseEnv(text: string, flavour: EnvFlavour): ParsedEnv {
  const format = ENV_FORMATS[flavour];
  let sock: string | undefined;
  let pid: number | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = format.pattern.exec(line);
    const name = match?.[1];
    if (!match || (name !== 'SSH_AUTH_SOCK' && name !== 'SSH_AGENT_PID')) return { ok: false, reason: `unexpected line ${JSON.stringify(line.slice(0, 80))}` };
    // Two lines for one variable: the sh hook and this reader could take different ones, so neither does.
    if ((name === 'SSH_AUTH_SOCK' ? sock : pid) !== undefined) return { ok: false, reason: `two ${name} lines` };
    const value = format.unquote(match[2]!);
    if (value === undefined || value === '') return { ok: false, reason: `unreadable value in ${JSON.stringify(line.slice(0, 80))}` };
    if (name === 'SSH_AUTH_SOCK') {
      sock = value;
    } else {
      if (!/^[1-9][0-9]{0,9}$/.test(value)) return { ok: false, reason: `SSH_AGENT_PID is not a process id: ${JSON.stringify(value)}` };
      pid = Number(value);
    }
  }
  if (sock === undefined) return { ok: false, reason: 'no SSH_AUTH_SOCK line' };
  if (!sock.startsWith('/')) return { ok: false, reason: `SSH_AUTH_SOCK is not an absolute path: ${JSON.stringify(sock)}` };
  return { ok: true, env: pid === undefined ? { sock } : { sock, pid } };
}

/** Parses the contents of an `H-sh` file. */
export function parseShEnv(text: string): ParsedEnv {
  return parseEnv(text, 'sh');
}
