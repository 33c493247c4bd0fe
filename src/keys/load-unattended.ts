// Loads keys into an agent without a terminal (the private per-job one, or the long-lived one
// with --keyring): each key's passphrase from the keyring (checked in-process first, then fed to
// ssh-add through fd 3), and whatever is left through the user's askpass program with a bounded
// number of tries.
import { requestIdentities } from '../agent/protocol.js';
import type { Reporter } from '../context.js';
import { silentReporter } from '../context.js';
import { AgentkeepError } from '../errors.js';
import { keyringAccount } from './keyring-account.js';
import { addKeysWithPassphrase, runSshAdd } from './add.js';
import { verifyPassphrase } from './verify-passphrase.js';
import type { KeyringOptions } from '../keyring/store.js';

/** Looks up stored passphrases by fingerprint; a Map, or the reason the keyring cannot be used. */
export type PassphraseSource = (fingerprints: string[]) => Promise<{ ok: true; value: Map<string, string | undefined> } | { ok: false; unavailable: { message: string; hint: string } }>;

/** Which keys to load, and where their passphrases come from. */
export interface LoadOptions {
  /** Private key files (already resolved to paths). */
  keys: string[];
  env: NodeJS.ProcessEnv;
  /** Where stored passphrases come from (the OS keyring for `--keyring`/`--ephemeral`); none: skip. */
  passphrases?: PassphraseSource | undefined;
  /** The user's askpass program for keys without a (working) stored passphrase. */
  askpass?: string | undefined;
  /** How long the askpass program may take before ssh-add and it are killed (default ASKPASS_DEADLINE_MS). */
  askpassTimeoutMs?: number | undefined;
  lifetimeSec?: number | undefined;
  confirm?: boolean | undefined;
  report?: Reporter | undefined;
}

/** Nobody watches a cron job's askpass: one that has not answered by then never will. */
export const ASKPASS_DEADLINE_MS = 60_000;

/** The OS keyring as a PassphraseSource (imported only when used). */
export function keyringPassphrases(env: NodeJS.ProcessEnv, settings: KeyringOptions['settings'], timeoutMs?: number): PassphraseSource {
  return async (fps) => (await import('../keyring/store.js')).lookupPassphrases(fps, { env, settings, timeoutMs });
}

function notLoaded(message: string, hint: string): AgentkeepError {
  // Nothing has run yet and a later attempt may work: a temporary failure for agentrun (75).
  return new AgentkeepError('KEY_NOT_LOADED', message, hint);
}

/** Loads `keys` into the agent at `sock`; throws KEY_NOT_LOADED naming each key it could not load. */
export async function loadKeysNonInteractive(sock: string, opts: LoadOptions): Promise<void> {
  const report = opts.report ?? silentReporter;
  const accounts = new Map<string, string>();
  for (const path of opts.keys) accounts.set(path, keyringAccount(path));
  const { groups, rest } = await groupByPassphrase(opts, accounts, report);
  await addGroups(sock, groups, opts, report);
  if (rest.length > 0) await addThroughAskpass(sock, rest, opts);
  await assertAllLoaded(sock, opts.keys, accounts);
}

/** The keys by the passphrase that opens them ('' for none needed), and the rest, which have no usable stored one. */
async function groupByPassphrase(opts: LoadOptions, accounts: Map<string, string>, report: Reporter): Promise<{ groups: Map<string, string[]>; rest: string[] }> {
  const groups = new Map<string, string[]>();
  const rest: string[] = [];
  const needsPass: string[] = [];
  for (const path of opts.keys) {
    const check = await verifyPassphrase(path, undefined);
    if (check.status === 'unencrypted') groups.set('', [...(groups.get('') ?? []), path]);
    else needsPass.push(path);
  }
  if (needsPass.length > 0 && opts.passphrases) {
    const found = await storedPassphrases(needsPass, opts.passphrases, opts, accounts, report);
    for (const [path, pass] of found.opened) groups.set(pass, [...(groups.get(pass) ?? []), path]);
    rest.push(...found.rest);
  } else {
    rest.push(...needsPass);
  }
  return { groups, rest };
}

/** Looks up the stored passphrases of `needsPass` and keeps each that opens its key; the others are left for the askpass program. */
async function storedPassphrases(needsPass: string[], source: PassphraseSource, opts: LoadOptions, accounts: Map<string, string>, report: Reporter): Promise<{ opened: Array<[string, string]>; rest: string[] }> {
  const stored = await source(needsPass.map((p) => accounts.get(p)!));
  if (!stored.ok) {
    report.warn(`${stored.unavailable.message}; ${opts.askpass ? 'asking through the askpass program instead' : 'no stored passphrases'}`);
    return { opened: [], rest: [...needsPass] };
  }
  const opened: Array<[string, string]> = [];
  const rest: string[] = [];
  for (const path of needsPass) {
    const pass = stored.value.get(accounts.get(path)!);
    if (pass === undefined) {
      report.debug(`no passphrase stored in the keyring for ${path} (${accounts.get(path)})`);
      rest.push(path);
      continue;
    }
    const check = await verifyPassphrase(path, pass);
    // A format we cannot parse in-process is left to ssh-add to judge.
    if (check.status === 'ok' || check.status === 'unsupported') {
      opened.push([path, pass]);
    } else {
      report.warn(`the passphrase stored in the keyring for ${path} does not decrypt it (${check.status}); store the right one with: agentkeep passphrase set ${path}`);
      rest.push(path);
    }
  }
  return { opened, rest };
}

/** Adds each group of keys with the passphrase they share, through ssh-add's fd 3. */
async function addGroups(sock: string, groups: Map<string, string[]>, opts: LoadOptions, report: Reporter): Promise<void> {
  for (const [pass, paths] of groups) {
    try {
      await addKeysWithPassphrase(sock, paths, pass, { env: opts.env, lifetimeSec: opts.lifetimeSec, confirm: opts.confirm });
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      throw notLoaded(error.message, error.hint ?? 'run with --debug for details');
    }
    report.debug(`loaded ${paths.join(', ')}${pass ? ' with the stored passphrase' : ''}`);
  }
}

/** Loads `rest` through the user's askpass program within its deadline; throws KEY_NOT_LOADED when there is none or it fails. */
async function addThroughAskpass(sock: string, rest: string[], opts: LoadOptions): Promise<void> {
  if (!opts.askpass) {
    throw notLoaded(`no usable passphrase for ${rest.join(', ')}`,
      `store it once with: agentkeep passphrase set ${rest[0]} — or pass --askpass PROGRAM`);
  }
  const deadlineMs = opts.askpassTimeoutMs ?? ASKPASS_DEADLINE_MS;
  const result = await runSshAdd({
    sock, paths: rest, prompt: { kind: 'askpass', program: opts.askpass },
    lifetimeSec: opts.lifetimeSec, confirm: opts.confirm ?? false, quiet: true, env: opts.env,
    timeoutMs: deadlineMs,
  });
  if (result.timedOut) {
    const seconds = Math.round(deadlineMs / 100) / 10;
    throw notLoaded(`${opts.askpass} did not answer within ${seconds} s for ${rest.join(', ')}; it and ssh-add were stopped`,
      'check that the askpass program prints the passphrase without waiting for a human, or store it once with: agentkeep passphrase set KEY');
  }
  if (result.code !== 0) {
    throw notLoaded(`ssh-add could not load ${rest.join(', ')} through ${opts.askpass} (${result.signal ? `killed by ${result.signal}` : `exit status ${result.code}`})`,
      'check that the askpass program prints the right passphrase');
  }
}

/** Throws KEY_NOT_LOADED unless the agent now lists every one of `keys`. */
async function assertAllLoaded(sock: string, keys: string[], accounts: Map<string, string>): Promise<void> {
  // Trust the agent, not the exit statuses: every key must now be listed.
  const loaded = new Set((await requestIdentities(sock)).map((i) => i.fingerprint));
  const missing = keys.filter((p) => !loaded.has(accounts.get(p)!));
  if (missing.length > 0) throw notLoaded(`the private agent does not hold ${missing.join(', ')} after loading`, 'run with --debug for details');
}
