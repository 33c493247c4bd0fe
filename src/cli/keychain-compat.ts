// keychain 2.8.5 options that agentkeep accepts but treats its own way: bare -k/--stop, gpg
// (--gpg2, --agents gpg, gpg key ids) and --confhost HOST, so that no keychain login line breaks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter } from '../context.js';

const STOP_WORDS = new Set(['mine', 'others', 'all']);

/**
 * keychain eats the word after -k/--stop only when it is mine, others or all; a bare -k (its
 * pre-2.5 form, still in many ~/.bash_logout files) means all. Rewrites the bare form to the
 * hidden --stop-bare flag; `withValue` (agentkeep's options that take one) keeps a value from
 * being read as an option; everything after `--` is left alone.
 */
export function rewriteBareStop(argv: string[], withValue: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (word === '-k' || word === '--stop') {
      if (STOP_WORDS.has(argv[i + 1] ?? '')) { out.push(word, argv[i + 1]!); i++; } else out.push('--stop-bare');
      continue;
    }
    if (withValue.has(word)) {
      out.push(word, ...argv.slice(i + 1, i + 2));
      i++;
      continue;
    }
    out.push(word);
  }
  return out;
}

/** The agents named by --agents other than ssh (keychain's list is comma- or space-separated). */
export function foreignAgents(list: string | undefined): string[] {
  if (list === undefined) return [];
  return [...new Set(list.split(/[,\s]+/).filter((a) => a !== '' && a !== 'ssh'))];
}

/** A gpg key id as keychain users write it: 0x-prefixed or 8, 16 or 40 hex digits. */
export function looksLikeGpgKey(arg: string): boolean {
  return /^(0x)?([0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$/.test(arg);
}

/**
 * Splits the key arguments into ssh keys and the gpg key ids keychain would hand to gpg-agent
 * (only when --agents names gpg and the word is not an existing file), and warns once about
 * everything gpg that is ignored.
 */
export function dropGpg(keys: string[], opts: { agents?: string | undefined; gpg2: boolean }, isFile: (arg: string) => boolean, report: Reporter): string[] {
  const agents = foreignAgents(opts.agents);
  const gpgWanted = agents.includes('gpg');
  const gpgKeys = gpgWanted ? keys.filter((k) => looksLikeGpgKey(k) && !isFile(k)) : [];
  const ignored: string[] = [];
  if (agents.length > 0) ignored.push(`--agents ${agents.join(',')}`);
  if (opts.gpg2) ignored.push('--gpg2');
  if (gpgKeys.length > 0) ignored.push(`gpg key${gpgKeys.length > 1 ? 's' : ''} ${gpgKeys.join(' ')}`);
  if (ignored.length > 0) report.warn(`agentkeep manages ssh-agent only; ignoring ${ignored.join(', ')}`);
  return keys.filter((k) => !gpgKeys.includes(k));
}

/** The key files `--confhost HOST` adds (its IdentityFile, through ssh -G as host:HOST does); none, with a warning, when there is nothing to read. */
export async function confhostKeys(host: string | true, home: string, env: NodeJS.ProcessEnv, report: Reporter): Promise<string[]> {
  if (host === true) {
    report.warn('--confhost needs a host name from ~/.ssh/config; ignored');
    return [];
  }
  if (!existsSync(join(home, '.ssh', 'config'))) {
    report.warn(`~/.ssh/config not found; --confhost ${host} ignored`);
    return [];
  }
  const { identityFilesForHost, identityFilesInHostBlock } = await import('../keys/ssh-config.js');
  let files: string[];
  try {
    files = await identityFilesForHost(host, home, env);
  } catch (error) {
    // keychain reads the Host block itself; a config that ssh rejects must not cost the login its agent.
    files = identityFilesInHostBlock(host, home);
    report.warn(`--confhost ${host}: ${error instanceof Error ? error.message : String(error)}; using the IdentityFile lines of its Host block in ~/.ssh/config (${files.length} found)`);
  }
  if (files.length === 0) report.warn(`--confhost ${host}: ssh -G names no identity file that exists; ignored`);
  return files;
}
