// Turns a key argument into a file path: a bare name lives in ~/.ssh, anything with a "/" or
// a leading "~" is a path; with --extended, sshk:NAME and host:ALIAS (ssh -G) too.
import { realpathSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { AgentkeepError } from '../errors.js';

/** The private key file a plain key argument names (`id_ed25519`, `~/keys/k`, `./k`, `/p/k`). */
export function keyPath(arg: string, home: string, cwd = process.cwd()): string {
  if (arg === '~' || arg.startsWith('~/')) return join(home, arg.slice(1));
  if (isAbsolute(arg)) return arg;
  if (arg.includes('/')) return resolve(cwd, arg);
  return join(home, '.ssh', arg);
}

/** One requested key: the argument that named it and the file it resolved to. */
export interface RequestedKey {
  arg: string;
  path: string;
}

/** What key arguments are resolved against: HOME, the environment, and the extended forms allowed. */
export interface ResolveOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  extended: boolean;
  confallhosts: boolean;
  cwd?: string;
  /** Notes for --debug. */
  debug?: (message: string) => void;
}

/** Expands key arguments (names, paths, sshk:, host:, --confallhosts) into files, first mention wins. */
export async function resolveKeyArgs(args: string[], opts: ResolveOptions): Promise<RequestedKey[]> {
  const out: RequestedKey[] = [];
  const seen = new Set<string>();
  const push = (arg: string, path: string) => {
    const key = canonical(path);
    if (seen.has(key)) {
      opts.debug?.(`${arg}: ${path} is already requested; skipping the duplicate`);
      return;
    }
    seen.add(key);
    out.push({ arg, path });
  };
  for (const arg of args) {
    const ext = /^(sshk|host):(.*)$/.exec(arg);
    if (ext && !opts.extended) {
      throw new AgentkeepError('USAGE', `key argument ${arg} needs --extended`, `run: agentkeep --extended ${arg}`);
    }
    if (!ext) {
      push(arg, keyPath(arg, opts.home, opts.cwd));
      continue;
    }
    const [, kind, rest] = ext as unknown as [string, 'sshk' | 'host', string];
    if (rest === '') throw new AgentkeepError('USAGE', `key argument ${arg} names nothing`, `write ${kind}:NAME`);
    if (kind === 'sshk') {
      if (rest.includes('/')) throw new AgentkeepError('USAGE', `sshk:${rest} must be a file name in ~/.ssh, not a path`, 'give the path itself as the key argument');
      push(arg, join(opts.home, '.ssh', rest));
      continue;
    }
    const { identityFilesForHost } = await import('./ssh-config.js');
    const files = await identityFilesForHost(rest, opts.home, opts.env);
    if (files.length === 0) {
      throw new AgentkeepError('KEY_FILE', `host:${rest}: ssh -G names no identity file that exists`,
        `add "IdentityFile ~/.ssh/KEY" under "Host ${rest}" in ~/.ssh/config`);
    }
    for (const file of files) push(arg, file);
  }
  if (opts.confallhosts) {
    const { identityFilesInConfig } = await import('./ssh-config.js');
    for (const file of identityFilesInConfig(opts.home, opts.debug)) push('--confallhosts', file);
  }
  return out;
}

/** The path used to spot duplicates: the real path when the file exists. */
function canonical(path: string): string {
  try {
    return realpathSync.native(path); // one syscall, not an lstat per path component
  } catch {
    return resolve(path);
  }
}
