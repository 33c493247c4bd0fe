// Key passphrases in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential
// Manager on Windows), under the service "agentkeep" and the key's SHA256 fingerprint as the
// account: renaming or moving a key file keeps its entry, and a different key never picks up
// another key's passphrase by sharing a file name.
import { AgentkeepError } from '../errors.js';
import { classifyKeyringError, missingSessionBus, timeoutUnavailable, type KeyringUnavailable } from './classify.js';
import { runKeyringChild, type KeyringOp, type KeyringResult } from './child.js';
import type { Settings } from '../settings.js';

/** The keyring service name every agentkeep entry is stored under. */
export const KEYRING_SERVICE = 'agentkeep';
/** How long one keyring round trip may take before we give up on it. */
export const KEYRING_TIMEOUT_MS = 10_000;
// An account no key can have (fingerprints start with SHA256:), looked up to probe the store.
const PROBE_ACCOUNT = 'agentkeep-probe';

/** The environment (D-Bus session) and time limit for one keyring call. */
export interface KeyringOptions {
  /** The environment the keyring child inherits (its D-Bus session). */
  env: NodeJS.ProcessEnv;
  /** What that environment says: the session bus, XDG_RUNTIME_DIR and AGENTKEEP_KEYRING_TIMEOUT. */
  settings: Pick<Settings, 'sessionBus' | 'xdgRuntimeDir' | 'keyringTimeoutMs'>;
  /** Overrides AGENTKEEP_KEYRING_TIMEOUT (seconds) and the default of 10 s. */
  timeoutMs?: number | undefined;
}

/** Either every operation's answer, or why the keyring could not be used at all. */
export type KeyringAnswer<T> = { ok: true; value: T } | { ok: false; unavailable: KeyringUnavailable };

/** The timeout in force: the option, else AGENTKEEP_KEYRING_TIMEOUT seconds, else the default. */
export function keyringTimeoutMs(opts: KeyringOptions): number {
  if (opts.timeoutMs !== undefined) return opts.timeoutMs;
  return opts.settings.keyringTimeoutMs ?? KEYRING_TIMEOUT_MS;
}

async function runOps(ops: KeyringOp[], opts: KeyringOptions): Promise<KeyringAnswer<KeyringResult[]>> {
  const noBus = missingSessionBus(opts.settings);
  if (noBus) return { ok: false, unavailable: noBus };
  const ms = keyringTimeoutMs(opts);
  const outcome = await runKeyringChild(KEYRING_SERVICE, ops, opts.env, ms);
  if (outcome.kind === 'timeout') return { ok: false, unavailable: timeoutUnavailable(ms) };
  if (outcome.kind === 'failed') return { ok: false, unavailable: { reason: 'error', message: `the keyring failed: ${outcome.message}`, hint: 'reinstall agentkeep so that @napi-rs/keyring is present' } };
  // An error that concerns the store itself (bus, service, lock) makes the whole keyring unusable.
  for (const r of outcome.results) {
    if (!r.ok) return { ok: false, unavailable: classifyKeyringError(r.message) };
  }
  return { ok: true, value: outcome.results };
}

/** The stored passphrases for these fingerprints (undefined where none), in one round trip. */
export async function lookupPassphrases(fingerprints: string[], opts: KeyringOptions): Promise<KeyringAnswer<Map<string, string | undefined>>> {
  const unique = [...new Set(fingerprints)];
  const answer = await runOps(unique.map((account) => ({ op: 'get', account })), opts);
  if (!answer.ok) return answer;
  const map = new Map<string, string | undefined>();
  unique.forEach((fp, i) => {
    const r = answer.value[i];
    map.set(fp, r?.ok && typeof r.value === 'string' ? r.value : undefined);
  });
  return { ok: true, value: map };
}

/** Every fingerprint that has a stored passphrase. */
export async function listStored(opts: KeyringOptions): Promise<KeyringAnswer<string[]>> {
  // The pinned probe first: the listing itself may not be pinned to the Secret Service, and an
  // unpinned listing would answer "nothing" from the kernel keyring instead of failing.
  const answer = await runOps([{ op: 'get', account: PROBE_ACCOUNT }, { op: 'list' }], opts);
  if (!answer.ok) return answer;
  const r = answer.value[1];
  return { ok: true, value: r?.ok && Array.isArray(r.value) ? r.value.sort() : [] };
}

/** Probes the keyring with a harmless lookup; ok means it answered. */
export async function keyringReachable(opts: KeyringOptions): Promise<KeyringAnswer<true>> {
  const answer = await runOps([{ op: 'get', account: PROBE_ACCOUNT }], opts);
  return answer.ok ? { ok: true, value: true } : answer;
}

function unavailableError(u: KeyringUnavailable): AgentkeepError {
  return new AgentkeepError('KEYRING', u.message, u.hint);
}

/** Stores `passphrase` for `fingerprint`, replacing any earlier one; throws KEYRING when it cannot. */
export async function storePassphrase(fingerprint: string, passphrase: string, opts: KeyringOptions): Promise<void> {
  const answer = await runOps([{ op: 'set', account: fingerprint, secret: passphrase }], opts);
  if (!answer.ok) throw unavailableError(answer.unavailable);
}

/** Removes the passphrase stored for `fingerprint`; false when there was none. Throws KEYRING when it cannot. */
export async function forgetPassphrase(fingerprint: string, opts: KeyringOptions): Promise<boolean> {
  const answer = await runOps([{ op: 'delete', account: fingerprint }], opts);
  if (!answer.ok) throw unavailableError(answer.unavailable);
  return answer.value[0]?.ok === true && answer.value[0].value === true;
}

