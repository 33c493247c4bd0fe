// Learns a key's public blob and SHA256 fingerprint without a passphrase and without running
// a program: from KEY.pub, or from the clear public section of an OpenSSH-format private key.
import { statSync } from 'node:fs';
import { blobTypeName } from '../agent/keyblob.js';
import { fingerprintOf } from '../agent/protocol.js';
import { isErrno } from '../errors.js';
import { readBoundedText } from '../read-file.js';
import { readOrUndefined, WireReader } from '../ssh-wire.js';

/** A key's public identity, and where it was learned. */
export interface PublicKey {
  readonly blob: Buffer;
  readonly fingerprint: string;
  readonly source: 'pub' | 'private';
}

/** A PublicKey whose fingerprint is hashed only when something asks for it. */
function publicKey(blob: Buffer, source: PublicKey['source']): PublicKey {
  let fingerprint: string | undefined;
  return { blob, source, get fingerprint() { return fingerprint ??= fingerprintOf(blob); } };
}

/** The blob in a `type base64 [comment]` public key line, or undefined. */
export function blobFromPublicLine(text: string): Buffer | undefined {
  const line = text.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'));
  const match = line && /^(?:\S+\s+)*?([a-z0-9@.-]+)\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)/.exec(line.trim());
  if (!match) return undefined;
  const blob = Buffer.from(match[2]!, 'base64');
  // The blob starts with its own type name; a mismatch means this is not a public key line.
  return blobTypeName(blob) === match[1] ? blob : undefined;
}

const OPENSSH_PEM = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** A reader placed just after the magic of an openssh-key-v1 PEM block in `text`, or undefined. */
function opensshKeyReader(text: string): WireReader | undefined {
  const pem = OPENSSH_PEM.exec(text);
  if (!pem) return undefined;
  const data = Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64');
  if (!data.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return undefined;
  return new WireReader(data, OPENSSH_MAGIC.length);
}

/** The first public key blob stored in clear in an OpenSSH-format private key file. */
export function blobFromOpensshPrivate(text: string): Buffer | undefined {
  const reader = opensshKeyReader(text);
  return reader && readOrUndefined(() => {
    for (let i = 0; i < 3; i++) reader.string(); // cipher name, kdf name, kdf options
    if (reader.uint32() < 1) return undefined; // number of keys
    return Buffer.from(reader.string());
  });
}

function readIfExists(path: string): string | undefined {
  try {
    return readBoundedText(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** The public key of the private key at `path`: KEY.pub first, then the private file's clear part. */
export function publicKeyOf(path: string): PublicKey | undefined {
  const pub = readIfExists(`${path}.pub`);
  const fromPub = pub === undefined ? undefined : blobFromPublicLine(pub);
  if (fromPub) return publicKey(fromPub, 'pub');
  const priv = readIfExists(path);
  const fromPriv = priv === undefined ? undefined : blobFromOpensshPrivate(priv);
  if (fromPriv) return publicKey(fromPriv, 'private');
  return undefined;
}

/** What the key files on disk say about one key, without a passphrase and without a process. */
export interface KeyFileState {
  path: string;
  /** 'missing': no such file; 'too-open': ssh-add would refuse its mode; 'unreadable': cannot read it. */
  status: 'ok' | 'missing' | 'too-open' | 'unreadable';
  mode?: number;
  /** The key's public identity, preferring the private file's clear part over KEY.pub. */
  publicKey?: PublicKey;
  /** Set when KEY.pub names a different key than the private file's clear public part. */
  pubMismatch?: { pubFingerprint: string; privateFingerprint: string };
  /** Whether loading it needs a passphrase; undefined when the format does not say. */
  encrypted?: boolean;
  detail?: string;
}

/** Inspects a private key file: presence, ssh's permission rule, its public key, a stale .pub. */
export function inspectKeyFile(path: string, uid: number): KeyFileState {
  let st;
  try {
    st = statSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return { path, status: 'missing' };
    return { path, status: 'unreadable', detail: isErrno(error) ? error.code ?? String(error) : String(error) };
  }
  if (!st.isFile()) return { path, status: 'unreadable', detail: 'not a regular file' };
  const mode = st.mode & 0o7777;
  // ssh-add's own rule (sshkey_perm_ok): a key owned by the caller must have no group/other bits.
  if (st.uid === uid && (mode & 0o077) !== 0) return { path, status: 'too-open', mode };
  let priv: string | undefined;
  let pub: string | undefined;
  try {
    priv = readBoundedText(path);
    pub = readIfExists(`${path}.pub`);
  } catch (error) {
    return { path, status: 'unreadable', mode, detail: isErrno(error) ? error.code ?? String(error) : error instanceof Error ? error.message : String(error) };
  }
  const fromPriv = blobFromOpensshPrivate(priv);
  const fromPub = pub === undefined ? undefined : blobFromPublicLine(pub);
  const state: KeyFileState = { path, status: 'ok', mode };
  const encrypted = isEncrypted(priv);
  if (encrypted !== undefined) state.encrypted = encrypted;
  if (fromPriv) state.publicKey = publicKey(fromPriv, 'private');
  else if (fromPub) state.publicKey = publicKey(fromPub, 'pub');
  if (fromPriv && fromPub && !fromPriv.equals(fromPub)) {
    state.pubMismatch = { pubFingerprint: fingerprintOf(fromPub), privateFingerprint: fingerprintOf(fromPriv) };
  }
  return state;
}

/** Whether a private key file is passphrase-protected, read from its format; undefined if unknown. */
export function isEncrypted(text: string): boolean | undefined {
  if (OPENSSH_PEM.test(text)) {
    const reader = opensshKeyReader(text);
    const cipher = reader && readOrUndefined(() => reader.stringLatin1());
    return cipher === undefined ? undefined : cipher !== 'none';
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /^Proc-Type:\s*4,ENCRYPTED/m.test(text)) return true;
  if (/-----BEGIN (?:RSA |EC |DSA )?PRIVATE KEY-----/.test(text)) return false;
  return undefined;
}
