// Reads an `H-sh` env file as data: only the exact lines agentkeep (or keychain) writes are
// accepted; anything else makes the file invalid, and it is never sourced or evaluated.
import type { AgentEnv } from './render.js';

/** The agent an `H-sh` file names, or why the file is not valid. */
export type ParsedEnv = { ok: true; env: AgentEnv } | { ok: false; reason: string };

const LINE = /^(SSH_AUTH_SOCK|SSH_AGENT_PID)=(.*); export \1;$/;

/** Decodes one value written by quoteSh: bare characters and '...' runs joined by \'. */
export function unquoteSh(text: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return undefined;
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\' && text[i + 1] === "'") {
      out += "'";
      i += 2;
    } else if (/[A-Za-z0-9_./:@%+,=-]/.test(c)) {
      out += c;
      i += 1;
    } else {
      return undefined;
    }
  }
  return out;
}

/** Parses the contents of an `H-sh` file. */
export function parseShEnv(text: string): ParsedEnv {
  let sock: string | undefined;
  let pid: number | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (!match) return { ok: false, reason: `unexpected line ${JSON.stringify(line.slice(0, 80))}` };
    // Two lines for one variable: the sh hook and this reader could take different ones, so neither does.
    if ((match[1] === 'SSH_AUTH_SOCK' ? sock : pid) !== undefined) return { ok: false, reason: `two ${match[1]} lines` };
    const value = unquoteSh(match[2]!);
    if (value === undefined || value === '') return { ok: false, reason: `unreadable value in ${JSON.stringify(line.slice(0, 80))}` };
    if (match[1] === 'SSH_AUTH_SOCK') {
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
