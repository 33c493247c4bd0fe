// `agentkeep hook cron`: the PATH= line a crontab needs so that cron finds this install's
// `agentrun` and the `node` that agentrun's launcher runs from PATH. npm puts the bins in its
// global prefix (/usr with NodeSource's npm, /usr/local with Debian's, ~/.nvm/... with nvm),
// and cron's own PATH is only /usr/bin:/bin.
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { AgentkeepError } from './errors.js';
import { lookupCommand } from './path-lookup.js';

/** The usual directories of administrators' tools, sbin first (LBackup lives in /usr/local/sbin). */
export const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** One program the crontab must find, and the real file it must resolve to. */
interface Wanted {
  name: string;
  real: string;
  dirs: string[];
}

function realOrUndefined(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The real path of the first executable `name` on `path`, as `env` and cron's sh would find it. */
export function firstOnPath(name: string, path: string[]): string | undefined {
  const found = lookupCommand(name, path.join(':')).found;
  return found === undefined ? undefined : realpathSync(found);
}

/** What `hook cron` learned about this install. */
export interface CronPath {
  path: string[];
  agentrunDir: string;
  nodeDir: string;
  packageDir: string;
  /** True when the package is not a copy under node_modules (`npm install -g .` links the checkout). */
  linkedCheckout: boolean;
}

/**
 * Finds the directory holding this package's `agentrun` (npm's PREFIX/bin, else any directory
 * of the caller's PATH whose `agentrun` is ours) and builds the shortest PATH, starting from
 * SYSTEM_PATH, on which both `agentrun` and `node` resolve to this install's files.
 */
export function cronPath(packageDir: string, callerPath: string, execPath: string = process.execPath): CronPath {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  const binTarget = pkg.bin?.agentrun;
  const agentrunReal = binTarget ? realOrUndefined(join(packageDir, binTarget)) : undefined;
  if (agentrunReal === undefined) {
    throw new AgentkeepError('NOT_INSTALLED', `cannot find agentrun in ${packageDir}`, 'reinstall agentkeep: see the README\'s "Install and run"');
  }
  // npm's global layout is PREFIX/lib/node_modules/NAME with the bins in PREFIX/bin.
  const prefixBin = /^(.*)\/lib\/node_modules\/[^/]+$/.exec(packageDir)?.[1];
  const candidates = [...(prefixBin ? [join(prefixBin, 'bin')] : []), ...callerPath.split(':').filter((d) => d.startsWith('/'))];
  const agentrunDir = candidates.find((dir) => realOrUndefined(join(dir, 'agentrun')) === agentrunReal);
  if (agentrunDir === undefined) {
    throw new AgentkeepError('NOT_INSTALLED', `agentrun is not installed: no directory on your PATH has an agentrun that is ${agentrunReal}`,
      'install agentkeep as the README says: npm ci && npm install -g "$(npm pack --silent)"');
  }
  const nodeReal = realpathSync(execPath);
  const nodeDir = dirname(execPath);
  if (realOrUndefined(join(nodeDir, 'node')) !== nodeReal) {
    throw new AgentkeepError('NOT_INSTALLED', `the node running agentkeep (${execPath}) is not called "node" in its directory, so "#!/usr/bin/env node" cannot find it`,
      'run agentkeep hook cron with the node that cron should use, found as "node" on your PATH');
  }
  const wanted: Wanted[] = [
    { name: 'node', real: nodeReal, dirs: [nodeDir] },
    { name: 'agentrun', real: agentrunReal, dirs: [agentrunDir] },
  ];
  let path = [...SYSTEM_PATH];
  // Put a directory in front only where the usual order would find another agentrun or node.
  for (let round = 0; round < wanted.length; round++) {
    for (const want of wanted) {
      if (firstOnPath(want.name, path) !== want.real) path = [...want.dirs, ...path.filter((d) => !want.dirs.includes(d))];
    }
  }
  for (const want of wanted) {
    if (firstOnPath(want.name, path) !== want.real) {
      throw new AgentkeepError('NOT_INSTALLED', `no PATH finds both this agentrun and this node (${want.name} resolves elsewhere)`,
        `put the node and agentrun you want first in the crontab's PATH=: ${nodeDir}:${agentrunDir}`);
    }
  }
  const linkedCheckout = !realpathSync(packageDir).split(sep).includes('node_modules');
  return { path, agentrunDir, nodeDir, packageDir, linkedCheckout };
}

/** The lines `agentkeep hook cron` prints: a comment naming the install, PATH=, and an example entry. */
export function cronLines(found: CronPath, nodeVersion: string = process.version): string {
  return [
    `# agentkeep: agentrun in ${found.agentrunDir}, node ${nodeVersion} in ${found.nodeDir}; add your jobs' own directories if they live elsewhere`,
    `PATH=${found.path.join(':')}`,
    '# m  h  dom mon dow  command',
    '# 15 2  *   *   *    agentrun --require id_ed25519 --log "$HOME/backup.log" rsync -a -e ssh backup@db1:/ "$HOME/backups/db1/"',
    '',
  ].join('\n');
}
