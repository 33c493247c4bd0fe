// IdentityFile lines from the user's ssh configuration: per host through `ssh -G ALIAS`, or
// every one in ~/.ssh/config for --confallhosts. ssh prints them with `~` and `%` tokens
// unexpanded, so both paths expand them here, against HOME (not the passwd home ssh uses).
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { runChild } from '../child/run.js';
import { AgentkeepError, isErrno } from '../errors.js';
import { readBoundedText } from '../read-file.js';

const SSH_G_TIMEOUT_MS = 10_000;

/** Values of the `%` tokens that do not depend on a host (plus those `ssh -G` told us). */
type Tokens = Record<string, string>;

function localTokens(home: string): Tokens {
  const info = userInfo();
  const long = hostname();
  // %u is the local account's name from the password database, as ssh(1) takes it, never $USER.
  return { '%': '%', d: home, u: info.username, i: String(info.uid), l: long, L: long.split('.')[0] ?? long };
}

/** Expands `~` and the known `%x` tokens; undefined when an unknown token remains. */
export function expandIdentityFile(value: string, home: string, tokens: Tokens): string | undefined {
  let path = value;
  if (path === '~' || path.startsWith('~/')) path = home + path.slice(1);
  let unknown = false;
  path = path.replace(/%(.)/g, (_m, t: string) => {
    const v = tokens[t];
    if (v === undefined) unknown = true;
    return v ?? '';
  });
  if (unknown) return undefined;
  return isAbsolute(path) ? path : join(home, path);
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** Every IdentityFile that `ssh -G ALIAS` resolves and that exists (ssh's defaults included). */
export async function identityFilesForHost(alias: string, home: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  if (alias.startsWith('-')) throw new AgentkeepError('USAGE', `host:${alias} is not a host alias`);
  // ssh reads ~/.ssh/config from the passwd home; when HOME points elsewhere, name HOME's file.
  const userConfig = join(home, '.ssh', 'config');
  const args = ['-G'];
  if (home !== userInfo().homedir) args.push('-F', existsSync(userConfig) ? userConfig : '/dev/null');
  args.push('--', alias);
  const r = await runChild('ssh', args, { env: { ...env, HOME: home }, timeoutMs: SSH_G_TIMEOUT_MS });
  if (r.error?.code === 'ENOENT') throw new AgentkeepError('KEY_FILE', 'host: keys need ssh, which is not in PATH');
  if (r.code !== 0 || r.error) {
    const why = r.timedOut ? `no answer in ${SSH_G_TIMEOUT_MS / 1000} s` : r.error?.message ?? `exit status ${r.status}`;
    throw new AgentkeepError('KEY_FILE', `ssh -G ${alias} failed: ${(r.timedOut ? '' : r.stderr.trim()) || why}`, 'check ~/.ssh/config');
  }
  const out = r.stdout;
  const tokens = localTokens(home);
  const files: string[] = [];
  for (const line of out.split('\n')) {
    const [key, ...rest] = line.split(' ');
    const value = rest.join(' ');
    if (key === 'user') tokens.r = value;
    else if (key === 'hostname') tokens.h = value;
    else if (key === 'port') tokens.p = value;
    else if (key === 'identityfile') files.push(value);
  }
  tokens.n = alias;
  const expanded = files.map((f) => expandIdentityFile(f, home, tokens)).filter((f): f is string => f !== undefined);
  return expanded.filter((f) => existsSync(f));
}

/**
 * The IdentityFile lines of the `Host` blocks in ~/.ssh/config that name `alias` literally, as
 * keychain's --confhost reads them: the fallback when `ssh -G` cannot read the file. Only those
 * that exist; host-dependent `%` tokens are skipped.
 */
export function identityFilesInHostBlock(alias: string, home: string): string[] {
  let text: string;
  try {
    text = readBoundedText(join(home, '.ssh', 'config'));
  } catch {
    return [];
  }
  const tokens = { ...localTokens(home), n: alias, h: alias };
  const files: string[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    const [, keyword = '', rest = ''] = /^\s*(\w+)(?:\s*=\s*|\s+)(.*?)\s*$/.exec(line) ?? [];
    const key = keyword.toLowerCase();
    if (key === 'host') inBlock = rest.split(/\s+/).map(unquote).includes(alias);
    else if (key === 'match') inBlock = false;
    else if (inBlock && key === 'identityfile') {
      const path = expandIdentityFile(unquote(rest), home, tokens);
      if (path !== undefined && existsSync(path)) files.push(path);
    }
  }
  return files;
}

/** Every IdentityFile in ~/.ssh/config (no Include; host-dependent `%` tokens are skipped). */
export function identityFilesInConfig(home: string, debug?: (message: string) => void): string[] {
  let text: string;
  try {
    text = readBoundedText(join(home, '.ssh', 'config'));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const tokens = localTokens(home);
  const files: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*identityfile(?:\s*=\s*|\s+)(.+?)\s*$/i.exec(line);
    if (!m) continue;
    const value = unquote(m[1]!);
    if (value.toLowerCase() === 'none') continue;
    const path = expandIdentityFile(value, home, tokens);
    if (path === undefined) debug?.(`--confallhosts: skipping IdentityFile ${value}: it depends on the host`);
    else files.push(path);
  }
  return files;
}
