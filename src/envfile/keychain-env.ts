// keychain's env snippet (`--env FILE`, else `KEYDIR/HOST-env`, else `KEYDIR/env`), which keychain
// sources to set PATH. agentkeep reads it as data and applies only PATH, to its own children
// (ssh-agent, ssh-add, ssh): nothing in it is ever executed.
import { join } from 'node:path';
import type { Reporter } from '../context.js';
import { asAgentkeepError } from '../errors.js';
import { readEnvFileText } from './store.js';

/** The snippet to read: the one named by --env, else the first of HOST-env and env that exists. */
export function keychainEnvCandidates(keydir: string, host: string, explicit: string | undefined): { paths: string[]; explicit: boolean } {
  return explicit !== undefined ? { paths: [explicit], explicit: true } : { paths: [join(keydir, `${host}-env`), join(keydir, 'env')], explicit: false };
}

/** What a snippet asked for: the new PATH (if any) and the lines that were ignored. */
export interface SnippetResult {
  path?: string;
  ignored: string[];
}

const ASSIGN = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*(?:;\s*export\s+\1\s*;?|;)?\s*$/;

/** One shell word of the simple kinds: bare, '...' or "..." with only $PATH/$HOME expanded. */
function shellValue(raw: string, vars: Record<string, string>): string | undefined {
  let out = '';
  let i = 0;
  const expand = (text: string): string | undefined => {
    let bad = false;
    const done = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))|[`\\$]/g, (m, a: string | undefined, b: string | undefined) => {
      const name = a ?? b;
      if (name === undefined || vars[name] === undefined) { bad = true; return m; }
      return vars[name]!;
    });
    return bad ? undefined : done;
  };
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) return undefined;
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      const end = raw.indexOf('"', i + 1);
      if (end < 0) return undefined;
      const v = expand(raw.slice(i + 1, end));
      if (v === undefined) return undefined;
      out += v;
      i = end + 1;
    } else {
      let end = i;
      while (end < raw.length && raw[end] !== "'" && raw[end] !== '"') end++;
      const word = raw.slice(i, end);
      if (/[\s;&|<>()*?[\]~#]/.test(word)) return undefined;
      const v = expand(word);
      if (v === undefined) return undefined;
      out += v;
      i = end;
    }
  }
  return out;
}

/** Reads a snippet's text: PATH= assignments apply (in order), everything else is listed as ignored. */
export function parseKeychainEnv(text: string, env: { PATH?: string | undefined; HOME: string }): SnippetResult {
  const result: SnippetResult = { ignored: [] };
  let path = env.PATH ?? '';
  for (const line of text.split('\n')) {
    if (/^\s*(#.*)?$/.test(line) || /^\s*export\s+PATH\s*;?\s*$/.test(line)) continue;
    const m = ASSIGN.exec(line);
    const value = m && m[1] === 'PATH' ? shellValue(m[2]!, { PATH: path, HOME: env.HOME }) : undefined;
    if (value === undefined || /[\0\n]/.test(value)) {
      result.ignored.push(line.trim().slice(0, 60));
      continue;
    }
    path = value;
    result.path = value;
  }
  return result;
}

/**
 * Applies the snippet's PATH to a copy of `env`. A snippet that is missing (unless named by
 * --env), unsafe (not ours, writable by others, a link, not a regular file) or unreadable is
 * ignored with one warning; a login never fails because of it.
 */
export function applyKeychainEnv(env: NodeJS.ProcessEnv, home: string, uid: number, candidates: { paths: string[]; explicit: boolean }, report: Reporter): NodeJS.ProcessEnv {
  for (const file of candidates.paths) {
    let text: string | undefined;
    try {
      text = readEnvFileText(file, uid);
    } catch (error) {
      report.warn(`ignoring ${file}: ${asAgentkeepError(error).message.replace(/^refusing to (use|read) \S+: /, '')}`);
      return env;
    }
    if (text === undefined) continue;
    const parsed = parseKeychainEnv(text, { PATH: env.PATH, HOME: home });
    if (parsed.ignored.length > 0) {
      report.warn(`${file} is read as data, not run: only PATH=... lines apply; ignoring ${parsed.ignored.map((l) => JSON.stringify(l)).join(', ')}`);
    }
    if (parsed.path === undefined) return env;
    report.debug(`PATH from ${file}: ${parsed.path}`);
    return { ...env, PATH: parsed.path };
  }
  if (candidates.explicit) report.warn(`--env ${candidates.paths[0]}: no such file; ignored`);
  return env;
}
