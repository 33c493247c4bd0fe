// Learns a key's public blob and SHA256 fingerprint without a passphrase and without running
// a program: from KEY.pub, or from the clear public section of an OpenSSH-format private key.
import { readFileSync } from 'node:fs';
import { fingerprintOf } from '../agent/protocol.js';
import { isErrno } from '../errors.js';

/** A key's public identity, and where it was learned. */
export interface PublicKey {
  blob: Buffer;
  fingerprint: string;
  source: 'pub' | 'private';
}

/** The blob in a `type base64 [comment]` public key line, or undefined. */
export function blobFromPublicLine(text: string): Buffer | undefined {
  const line = text.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#'));
  const match = line && /^(?:\S+\s+)*?([a-z0-9@.-]+)\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)/.exec(line.trim());
  if (!match) return undefined;
  const blob = Buffer.from(match[2]!, 'base64');
  // The blob starts with its own type name; a mismatch means this is not a public key line.
  if (blob.length < 4) return undefined;
  const typeLen = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + typeLen).toString('latin1') === match[1] ? blob : undefined;
}

const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** The first public key blob stored in clear in an OpenSSH-format private key file. */
export function blobFromOpensshPrivate(text: string): Buffer | undefined {
  const pem = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!pem) return undefined;
  const data = Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64');
  if (!data.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return undefined;
  let off = OPENSSH_MAGIC.length;
  const skipString = (): Buffer | undefined => {
    if (off + 4 > data.length) return undefined;
    const len = data.readUInt32BE(off);
    if (off + 4 + len > data.length) return undefined;
    const out = data.subarray(off + 4, off + 4 + len);
    off += 4 + len;
    return out;
  };
  for (let i = 0; i < 3; i++) if (!skipString()) return undefined; // cipher, kdf, kdf options
  if (off + 4 > data.length || data.readUInt32BE(off) < 1) return undefined;
  off += 4;
  const blob = skipString();
  return blob ? Buffer.from(blob) : undefined;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** The public key of the private key at `path`: KEY.pub first, then the private file's clear part. */
export function publicKeyOf(path: string): PublicKey | undefined {
  const pub = readIfExists(`${path}.pub`);
  const fromPub = pub === undefined ? undefined : blobFromPublicLine(pub);
  if (fromPub) return { blob: fromPub, fingerprint: fingerprintOf(fromPub), source: 'pub' };
  const priv = readIfExists(path);
  const fromPriv = priv === undefined ? undefined : blobFromOpensshPrivate(priv);
  if (fromPriv) return { blob: fromPriv, fingerprint: fingerprintOf(fromPriv), source: 'private' };
  return undefined;
}
