// Key management for the login path (SPEC §4): resolve the requested keys, learn which are
// loaded from their public parts, and add the missing ones in one ssh-add run under the lock,
// so that when several terminals need keys at once exactly one of them prompts.
import { isatty } from 'node:tty';
import { AgentkeepError, EXIT } from '../errors.js';
import type { Context } from '../context.js';
import type { Agent } from '../agent/discover.js';
import type { Settings } from '../settings.js';
import type { KeyOptions } from './options.js';
import { describeMode } from '../path-safety.js';
import { removeAllIdentities, removeIdentity, requestIdentities, type Identity } from '../agent/protocol.js';
import { acquireLock } from '../lock/lock.js';
import { inspectKeyFile, publicKeyOf, type PublicKey } from './fingerprint.js';
import { resolveKeyArgs, type RequestedKey } from './resolve.js';
import { ASKPASS_TRIES, choosePrompt, promptPlace, type PromptWay } from './prompt.js';
import { promptNotePath, readPromptNote, removePromptNote, writePromptNote, type PromptNote } from './prompt-note.js';
import { CANNOT_ASK, keysNotLoaded, type Unloaded } from './not-loaded.js';
import type { SshAddResult } from './add.js';

/** How long a login waits for another one that may be waiting for a human to type. */
export const KEY_LOCKWAIT_S = 120;

/** A requested key that exists and that ssh-add would accept; `publicKey` when learnable. */
interface UsableKey extends RequestedKey {
  publicKey: PublicKey | undefined;
  /** False only when the file's format says it has no passphrase. */
  needsPassphrase: boolean;
}


async function requestedKeys(ctx: Context, opts: KeyOptions): Promise<RequestedKey[]> {
  return resolveKeyArgs(opts.keys, { home: ctx.home, env: ctx.env, extended: opts.extended, confallhosts: opts.confallhosts, debug: ctx.report.debug });
}

/** Inspects each key file, warning about the ones ssh-add cannot use and about stale .pub files. */
function usableKeys(ctx: Context, keys: RequestedKey[], ignoreMissing: boolean): { usable: UsableKey[]; unusable: Unloaded[] } {
  const usable: UsableKey[] = [];
  const unusable: Unloaded[] = [];
  for (const key of keys) {
    const st = inspectKeyFile(key.path, ctx.uid);
    if (st.status === 'missing') {
      // --ignore-missing: the user said this file may not exist here; it is not a failure.
      if (!ignoreMissing) {
        ctx.report.warn(`Cannot find ssh key ${key.path}${/^(sshk|host):|^--/.test(key.arg) ? ` (from ${key.arg})` : ''}; skipping it`);
        unusable.push({ key, why: 'no such file' });
      }
      continue;
    }
    if (st.status === 'too-open') {
      const mode = describeMode(st.mode ?? 0);
      ctx.report.warn(`ssh key ${key.path} has mode ${mode}: ssh-add refuses a private key that group or others can read ("UNPROTECTED PRIVATE KEY FILE"); skipping it. Fix: chmod 600 '${key.path}'`);
      unusable.push({ key, why: `mode ${mode}, fix: chmod 600` });
      continue;
    }
    if (st.status === 'unreadable') {
      ctx.report.warn(`Cannot read ssh key ${key.path} (${st.detail ?? 'unknown error'}); skipping it`);
      unusable.push({ key, why: `unreadable: ${st.detail ?? 'unknown error'}` });
      continue;
    }
    if (st.pubMismatch) {
      ctx.report.warn(`${key.path}.pub does not match ${key.path} (the .pub is ${st.pubMismatch.pubFingerprint}, the private key is ${st.pubMismatch.privateFingerprint}); the .pub file is wrong. Fix: ssh-keygen -y -f '${key.path}' > '${key.path}.pub'`);
    }
    if (!st.publicKey) {
      ctx.report.warn(`Cannot tell whether ${key.path} is loaded: it has no ${key.path}.pub and is not in OpenSSH format; treating it as not loaded. Fix: ssh-keygen -y -f '${key.path}' > '${key.path}.pub'`);
    }
    usable.push({ ...key, publicKey: st.publicKey, needsPassphrase: st.encrypted !== false });
  }
  return { usable, unusable };
}

function notLoaded(keys: UsableKey[], ids: Identity[]): UsableKey[] {
  // Blobs, not fingerprints: equal keys have equal blobs, and no hashing is needed.
  const loaded = new Set(ids.map((id) => id.blob.toString('base64')));
  return keys.filter((k) => k.publicKey === undefined || !loaded.has(k.publicKey.blob.toString('base64')));
}

async function clearAgent(ctx: Context, agent: Agent): Promise<void> {
  await removeAllIdentities(agent.sock);
  ctx.report.info('Cleared all identities from the ssh-agent');
}

function reportKnown(ctx: Context, keys: UsableKey[]): void {
  for (const k of keys) ctx.report.info(`Known ssh key: ${k.path}`);
}

/** `--keyring`: loads what it can with stored passphrases (fd 3); returns the agent's identities after. */
async function loadFromKeyring(ctx: Context, agent: Agent, missing: UsableKey[], opts: KeyOptions): Promise<Identity[]> {
  const wanted = missing.filter((k) => k.needsPassphrase && k.publicKey !== undefined);
  if (wanted.length > 0) {
    const { keyringPassphrases, loadKeysNonInteractive } = await import('./load-unattended.js');
    try {
      await loadKeysNonInteractive(agent.sock, {
        keys: wanted.map((k) => k.path), env: ctx.env, passphrases: keyringPassphrases(ctx.env, ctx.settings), report: ctx.report,
        confirm: opts.confirm, lifetimeSec: opts.keyLifetimeSec,
      });
      ctx.report.info(`Loaded ${wanted.length} ssh key(s) with passphrases from the keyring`);
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      ctx.report.debug(`keyring: ${error.message}`);
    }
  }
  return requestIdentities(agent.sock);
}

/**
 * Clears (with --clear, and only where a passphrase can be asked for) and loads the requested
 * keys that the agent does not hold yet. Throws one `keys not loaded: ...` error naming every
 * key left out (with --clear also the missing and unusable files) and the command that loads them.
 */
export async function manageKeys(ctx: Context, agent: Agent, opts: KeyOptions): Promise<void> {
  const requested = opts.noask ? [] : await requestedKeys(ctx, opts);
  // Learned only when needed: the common login (keys loaded, no --clear) never opens /dev/tty.
  let prompt: PromptWay | undefined;
  const howToPrompt = (): PromptWay => (prompt ??= choosePrompt(ctx.settings, opts.nogui, isatty(0)));
  // A login that cannot prompt (sudo -i, su -, runuser -l, ssh HOST CMD) proves nothing: emptying
  // the agent there would only break the cron jobs that use it.
  const atClear = opts.clear ? howToPrompt() : undefined;
  const mayClear = atClear !== undefined && atClear.kind !== 'none';
  if (atClear?.kind === 'none') {
    ctx.report.warn(`not clearing the ssh-agent (--clear): ${atClear.why}, so this login cannot prove it knows the passphrases; the agent's ${agent.identities.length} key(s) are left as they were`);
  }
  const { usable, unusable } = usableKeys(ctx, requested, opts.ignoreMissing);
  const { failed, cleared } = await loadMissing(ctx, agent, opts, usable, howToPrompt, mayClear);
  // Without --clear an unusable file is a warning; with it, the login just left that key out of the agent cron uses.
  const all = [...(opts.clear ? unusable : []), ...failed];
  if (all.length > 0) throw keysNotLoaded(all, cleared, ['agentkeep', ...(opts.retryArgs ?? [])], ctx.home);
}

/** What loading found: the keys left out (each with why) and whether the agent was emptied first. */
interface LoadOutcome {
  failed: Unloaded[];
  cleared: boolean;
}

/** One login's loading of keys: the keys it may add, and how it asks for their passphrases. */
interface KeyLoad {
  ctx: Context;
  agent: Agent;
  opts: KeyOptions;
  usable: UsableKey[];
  prompt: PromptWay;
  /** Where the agentkeep that prompts says so, for the others waiting on the lock. */
  notePath: string;
}

/** The key lock as held (or not taken, with --nolock), and the prompting agentkeep seen while waiting for it. */
interface KeyLock {
  release: (() => Promise<void>) | undefined;
  assertHeld: () => void;
  waited: boolean;
  holder: PromptNote | undefined;
}

/** Adds the usable keys the agent lacks (after clearing it when `mayClear`), under the lock unless --nolock. */
async function loadMissing(ctx: Context, agent: Agent, opts: KeyOptions, usable: UsableKey[], howToPrompt: () => PromptWay, mayClear: boolean): Promise<LoadOutcome> {
  if (usable.length === 0) {
    if (mayClear) await clearAgent(ctx, agent);
    return { failed: [], cleared: mayClear };
  }
  if (!mayClear && notLoaded(usable, agent.identities).length === 0) {
    reportKnown(ctx, usable);
    return { failed: [], cleared: false };
  }
  const prompt = howToPrompt();
  const firstMissing = mayClear ? usable : notLoaded(usable, agent.identities);
  if (prompt.kind === 'none' && !opts.keyring && firstMissing.every((k) => k.needsPassphrase)) {
    reportKnown(ctx, usable.filter((k) => !firstMissing.includes(k)));
    return { failed: firstMissing.map((key) => ({ key, why: cannotAskWhy(prompt) })), cleared: false };
  }
  const load: KeyLoad = { ctx, agent, opts, usable, prompt, notePath: promptNotePath(ctx.paths.lock) };
  const lock = await takeKeyLock(load);
  if (!lock) {
    reportKnown(ctx, usable);
    return { failed: [], cleared: false };
  }
  try {
    return await loadUnderLock(load, lock, mayClear);
  } finally {
    await lock.release?.();
  }
}

/** Why a key that needs a passphrase was left out when there is no way to ask for one. */
function cannotAskWhy(prompt: PromptWay): string {
  return prompt.kind === 'none' ? `${CANNOT_ASK}: ${prompt.why}` : '';
}

/**
 * Takes the key lock, noting which other agentkeep prompts while we wait; undefined when that
 * one loaded every key meanwhile. With --nolock, a lock that was never taken.
 */
async function takeKeyLock(load: KeyLoad): Promise<KeyLock | undefined> {
  const lock: KeyLock = { release: undefined, assertHeld: () => {}, waited: false, holder: undefined };
  if (load.opts.nolock) return lock;
  const { ctx, opts } = load;
  const started = Date.now();
  const waitMs = opts.lockWaitMs ?? KEY_LOCKWAIT_S * 1000;
  const outcome = await acquireLock(ctx.paths.lock, {
    waitMs,
    purpose: 'loading keys; another agentkeep may be waiting for a passphrase',
    onWait: () => ctx.report.debug('another agentkeep holds the lock (it may be prompting); waiting for it'),
    whileWaiting: async () => {
      noteWhoPrompts(load, lock);
      return loadedMeanwhile(load);
    },
  });
  if (!outcome.acquired) {
    ctx.report.info(`Waited ${((Date.now() - started) / 1000).toFixed(1)} s for another agentkeep to load the keys`);
    return undefined;
  }
  lock.release = outcome.release;
  lock.assertHeld = outcome.assertHeld;
  lock.waited = outcome.waited;
  return lock;
}

/** While waiting for the lock: says once which other agentkeep is prompting, and where. */
function noteWhoPrompts(load: KeyLoad, lock: KeyLock): void {
  const note = readPromptNote(load.notePath, load.ctx.uid);
  if (note && note.pid !== lock.holder?.pid && note.pid !== process.pid) {
    lock.holder = note;
    load.ctx.report.warn(`waiting for the passphrase prompt on ${note.place} (agentkeep PID ${note.pid}); if that prompt is abandoned, this one asks instead within a few seconds`);
  }
}

/** While waiting for the lock: the agent's identities once they include every usable key, else undefined. */
async function loadedMeanwhile(load: KeyLoad): Promise<Identity[] | undefined> {
  const ids = await requestIdentities(load.agent.sock).catch(() => undefined);
  return ids && notLoaded(load.usable, ids).length === 0 ? ids : undefined;
}

/** Under the lock: looks again, clears when asked, tries the keyring, then asks for what is still missing. */
async function loadUnderLock(load: KeyLoad, lock: KeyLock, mayClear: boolean): Promise<LoadOutcome> {
  const { ctx, agent, opts, usable } = load;
  // Under the lock, look again: whoever held it before us may have loaded the keys.
  let ids = await requestIdentities(agent.sock);
  let cleared = false;
  if (mayClear && !(lock.waited && notLoaded(usable, ids).length === 0)) {
    await clearAgent(ctx, agent);
    ids = [];
    cleared = true;
  }
  if (opts.keyring) ids = await loadFromKeyring(ctx, agent, notLoaded(usable, ids), opts);
  const missing = notLoaded(usable, ids);
  if (missing.length === 0) {
    if (lock.waited) ctx.report.info('Waited for another agentkeep; the keys are now loaded');
    reportKnown(ctx, usable);
    return { failed: [], cleared };
  }
  reportKnown(ctx, usable.filter((k) => !missing.includes(k)));
  return { failed: await askForKeys(load, lock, missing), cleared };
}

/** Asks for each missing key that can be asked for; returns every key left out, with why. */
async function askForKeys(load: KeyLoad, lock: KeyLock, missing: UsableKey[]): Promise<Unloaded[]> {
  const { prompt } = load;
  // Without a way to prompt, add what needs no passphrase and fail for the rest.
  const blocked = prompt.kind === 'none' ? missing.filter((k) => k.needsPassphrase) : [];
  const toAdd = missing.filter((k) => !blocked.includes(k));
  const failed: Unloaded[] = blocked.map((key) => ({ key, why: cannotAskWhy(prompt) }));
  // ssh-add with no file arguments would add ~/.ssh's default keys: only ever call it with some.
  if (toAdd.length > 0) failed.push(...await addWithPrompt(load, lock, toAdd));
  return failed;
}

/** Runs one ssh-add for `toAdd` as the one prompting agentkeep; returns the keys it did not load, with why. */
async function addWithPrompt(load: KeyLoad, lock: KeyLock, toAdd: UsableKey[]): Promise<Unloaded[]> {
  const { ctx, agent, opts, prompt } = load;
  const { runSshAdd } = await import('./add.js');
  lock.assertHeld(); // exactly one terminal prompts: only while we really hold the lock
  if (lock.holder) reportHolderGone(load, lock.holder);
  const noteWritten = prompt.kind !== 'none' && !opts.nolock;
  if (noteWritten) writePromptNote(load.notePath, { pid: process.pid, place: promptPlace(prompt) }, ctx.uid);
  try {
    const result = await runSshAdd({
      sock: agent.sock, paths: toAdd.map((k) => k.path), prompt: prompt.kind === 'none' ? { kind: 'none' } : prompt,
      confirm: opts.confirm, quiet: opts.quiet, env: ctx.env, catchInterrupt: prompt.kind !== 'none',
      lifetimeSec: opts.keyLifetimeSec,
      // A hung askpass program must not hang the login: nobody is typing into it after this.
      timeoutMs: prompt.kind === 'askpass' ? askpassDeadlineMs(ctx.settings) : undefined,
    });
    const after = await requestIdentities(agent.sock);
    const why = whyNotAdded(result, prompt, ctx.settings);
    return notLoaded(toAdd, after).filter((k) => k.publicKey !== undefined || result.code !== 0).map((key) => ({ key, why }));
  } finally {
    if (noteWritten) removePromptNote(load.notePath, ctx.uid);
  }
}

/** Says that the prompt we waited for ended without loading the keys, and that this login asks instead. */
function reportHolderGone(load: KeyLoad, holder: PromptNote): void {
  // A holder that finished took its note away; one that was killed left it behind.
  const abandoned = readPromptNote(load.notePath, load.ctx.uid, false)?.pid === holder.pid;
  load.ctx.report.warn(`the passphrase prompt on ${holder.place} (agentkeep PID ${holder.pid}) ${abandoned ? 'was abandoned' : 'ended without loading the keys'}; asking here`);
}

/** Why ssh-add left keys out, in the words of the `keys not loaded` error. */
function whyNotAdded(result: SshAddResult, prompt: PromptWay, settings: Settings): string {
  return result.interrupted ? 'cancelled with Ctrl-C'
    : result.timedOut ? `the askpass program did not answer within ${Math.round(askpassDeadlineMs(settings) / 1000)} s`
    : result.signal ? `ssh-add was killed (${result.signal})`
      : result.gaveUp ? `${ASKPASS_TRIES} wrong passphrases`
        : prompt.kind === 'none' ? 'ssh-add failed' : 'wrong passphrase, or none given';
}

/** How long a login waits for the user's SSH_ASKPASS program: AGENTKEEP_ASKPASS_TIMEOUT seconds, else 120 s. */
export function askpassDeadlineMs(settings: Settings): number {
  return settings.askpassTimeoutMs ?? 120_000;
}

/** `-r/--ssh-rm KEY...`: removes the named keys; 0 when none of them is loaded afterwards. */
export async function removeNamedKeys(ctx: Context, agent: Agent, opts: KeyOptions): Promise<number> {
  const requested = await requestedKeys(ctx, opts);
  if (requested.length === 0) throw new AgentkeepError('USAGE', '--ssh-rm needs the keys to remove', 'run: agentkeep --ssh-rm id_ed25519');
  const { usable, problems } = usableKeysForRemoval(ctx, requested);
  const loaded = new Map(agent.identities.map((id) => [id.fingerprint, id]));
  for (const key of usable) {
    const id = loaded.get(key.publicKey!.fingerprint);
    if (!id) {
      ctx.report.warn(`ssh key ${key.path} is not loaded; nothing to remove`);
      continue;
    }
    await removeIdentity(agent.sock, id.blob);
    ctx.report.info(`Removed ssh key: ${key.path}`);
  }
  return problems > 0 ? EXIT.failure : EXIT.ok;
}

/** For removal only the public part matters: the private key's mode is irrelevant. */
function usableKeysForRemoval(ctx: Context, keys: RequestedKey[]): { usable: UsableKey[]; problems: number } {
  const usable: UsableKey[] = [];
  let problems = 0;
  for (const key of keys) {
    const st = inspectKeyFile(key.path, -1);
    const pub = st.publicKey ?? publicKeyOf(key.path);
    if (st.status === 'missing' && !pub) {
      ctx.report.warn(`Cannot find ssh key ${key.path}; cannot tell which identity to remove`);
      problems++;
    } else if (!pub) {
      ctx.report.warn(`Cannot learn the public key of ${key.path}. Fix: ssh-keygen -y -f '${key.path}' > '${key.path}.pub'`);
      problems++;
    } else {
      usable.push({ ...key, publicKey: pub, needsPassphrase: true });
    }
  }
  return { usable, problems };
}
