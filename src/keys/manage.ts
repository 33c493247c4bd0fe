// Key management for the login path (SPEC §4): resolve the requested keys, learn which are
// loaded from their public parts, and add the missing ones in one ssh-add run under the lock,
// so that when several terminals need keys at once exactly one of them prompts.
import { isatty } from 'node:tty';
import { AgentkeepError, EXIT } from '../errors.js';
import type { Context } from '../context.js';
import type { Agent } from '../agent/discover.js';
import type { KeyOptions } from './options.js';
import { describeMode } from '../envfile/store.js';
import { removeAllIdentities, removeIdentity, requestIdentities, type Identity } from '../agent/protocol.js';
import { acquireLock } from '../lock/lock.js';
import { inspectKeyFile, publicKeyOf, type PublicKey } from './fingerprint.js';
import { resolveKeyArgs, type RequestedKey } from './resolve.js';
import { ASKPASS_TRIES, choosePrompt } from './prompt.js';

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
function usableKeys(ctx: Context, keys: RequestedKey[], ignoreMissing: boolean): { usable: UsableKey[]; problems: number } {
  const usable: UsableKey[] = [];
  let problems = 0;
  for (const key of keys) {
    const st = inspectKeyFile(key.path, ctx.uid);
    if (st.status === 'missing') {
      if (!ignoreMissing) ctx.report.warn(`Cannot find ssh key ${key.path}${/^(sshk|host):|^--/.test(key.arg) ? ` (from ${key.arg})` : ''}; skipping it`);
      problems++;
      continue;
    }
    if (st.status === 'too-open') {
      const mode = describeMode(st.mode ?? 0);
      ctx.report.warn(`ssh key ${key.path} has mode ${mode}: ssh-add refuses a private key that group or others can read ("UNPROTECTED PRIVATE KEY FILE"); skipping it. Fix: chmod 600 '${key.path}'`);
      problems++;
      continue;
    }
    if (st.status === 'unreadable') {
      ctx.report.warn(`Cannot read ssh key ${key.path} (${st.detail ?? 'unknown error'}); skipping it`);
      problems++;
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
  return { usable, problems };
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

function cannotPrompt(keys: UsableKey[], why: string): AgentkeepError {
  return new AgentkeepError('NO_PROMPT', `cannot ask for the passphrase of ${keys.map((k) => k.path).join(', ')}: ${why}`,
    'run agentkeep from a terminal, or set SSH_ASKPASS to a passphrase dialog program');
}

function reportKnown(ctx: Context, keys: UsableKey[]): void {
  for (const k of keys) ctx.report.info(`Known ssh key: ${k.path}`);
}

/** `--keyring`: loads what it can with stored passphrases (fd 3); returns the agent's identities after. */
async function loadFromKeyring(ctx: Context, agent: Agent, missing: UsableKey[], opts: KeyOptions): Promise<Identity[]> {
  const wanted = missing.filter((k) => k.needsPassphrase && k.publicKey !== undefined);
  if (wanted.length > 0) {
    const { keyringPassphrases, loadKeysNonInteractive } = await import('../ephemeral/load.js');
    try {
      await loadKeysNonInteractive(agent.sock, {
        keys: wanted.map((k) => k.path), env: ctx.env, passphrases: keyringPassphrases(ctx.env), report: ctx.report,
        confirm: opts.confirm, lifetimeSec: opts.timeout === undefined ? undefined : opts.timeout * 60,
      });
      ctx.report.info(`Loaded ${wanted.length} ssh key(s) with passphrases from the keyring`);
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      ctx.report.debug(`keyring: ${error.message}`);
    }
  }
  return requestIdentities(agent.sock);
}

/** Clears (with --clear) and loads the requested keys that the agent does not hold yet. */
export async function manageKeys(ctx: Context, agent: Agent, opts: KeyOptions): Promise<void> {
  const requested = opts.noask ? [] : await requestedKeys(ctx, opts);
  if (requested.length === 0) {
    if (opts.clear) await clearAgent(ctx, agent);
    return;
  }
  const { usable } = usableKeys(ctx, requested, opts.ignoreMissing);
  if (usable.length === 0) {
    if (opts.clear) await clearAgent(ctx, agent);
    return;
  }
  if (!opts.clear && notLoaded(usable, agent.identities).length === 0) return reportKnown(ctx, usable);

  const prompt = choosePrompt(ctx.env, opts.nogui, isatty(0));
  const firstMissing = opts.clear ? usable : notLoaded(usable, agent.identities);
  if (prompt.kind === 'none' && !opts.keyring && firstMissing.every((k) => k.needsPassphrase)) {
    // --clear still clears: whoever cannot prove they know the passphrase gets an empty agent.
    if (opts.clear) await clearAgent(ctx, agent);
    throw cannotPrompt(firstMissing, prompt.why);
  }

  let release: (() => Promise<void>) | undefined;
  let assertHeld = (): void => {};
  let waited = false;
  if (!opts.nolock) {
    const started = Date.now();
    const waitS = opts.lockwait ?? KEY_LOCKWAIT_S;
    const outcome = await acquireLock(ctx.paths.lock, {
      waitMs: waitS * 1000,
      purpose: 'loading keys; another agentkeep may be waiting for a passphrase',
      onWait: () => ctx.report.debug('another agentkeep holds the lock (it may be prompting); waiting for it'),
      whileWaiting: async () => {
        const ids = await requestIdentities(agent.sock).catch(() => undefined);
        return ids && notLoaded(usable, ids).length === 0 ? ids : undefined;
      },
    });
    if (!outcome.acquired) {
      ctx.report.info(`Waited ${((Date.now() - started) / 1000).toFixed(1)} s for another agentkeep to load the keys`);
      return reportKnown(ctx, usable);
    }
    release = outcome.release;
    assertHeld = outcome.assertHeld;
    waited = outcome.waited;
  }
  try {
    // Under the lock, look again: whoever held it before us may have loaded the keys.
    let ids = await requestIdentities(agent.sock);
    if (opts.clear && !(waited && notLoaded(usable, ids).length === 0)) {
      await clearAgent(ctx, agent);
      ids = [];
    }
    if (opts.keyring) ids = await loadFromKeyring(ctx, agent, notLoaded(usable, ids), opts);
    const missing = notLoaded(usable, ids);
    if (missing.length === 0) {
      if (waited) ctx.report.info('Waited for another agentkeep; the keys are now loaded');
      return reportKnown(ctx, usable);
    }
    reportKnown(ctx, usable.filter((k) => !missing.includes(k)));
    // Without a way to prompt, add what needs no passphrase and fail for the rest.
    const blocked = prompt.kind === 'none' ? missing.filter((k) => k.needsPassphrase) : [];
    const toAdd = missing.filter((k) => !blocked.includes(k));
    if (toAdd.length > 0) {
      const { runSshAdd } = await import('./add.js');
      // ssh-add with no file arguments would add ~/.ssh's default keys: only ever call it with some.
      assertHeld(); // exactly one terminal prompts: only while we really hold the lock
      const result = await runSshAdd({
        sock: agent.sock, paths: toAdd.map((k) => k.path), prompt: prompt.kind === 'none' ? { kind: 'none' } : prompt,
        confirm: opts.confirm, quiet: opts.quiet, env: ctx.env,
        lifetimeSec: opts.timeout === undefined ? undefined : opts.timeout * 60,
      });
      const after = await requestIdentities(agent.sock);
      const failed = notLoaded(toAdd, after).filter((k) => k.publicKey !== undefined || result.code !== 0);
      if (failed.length > 0) {
        const why = result.signal ? `ssh-add was killed (${result.signal})` : 'wrong passphrase, or none given';
        throw new AgentkeepError('KEY_ADD', `could not load ${failed.map((k) => k.path).join(', ')}: ${why}`,
          prompt.kind === 'askpass' ? `run agentkeep again; your askpass program (${prompt.program}) gets ${ASKPASS_TRIES} tries` : 'run agentkeep again and type the passphrase');
      }
    }
    if (blocked.length > 0 && prompt.kind === 'none') throw cannotPrompt(blocked, prompt.why);
  } finally {
    await release?.();
  }
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
