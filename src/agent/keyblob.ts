// Describes a public key blob the way `ssh-add -l` does: bits, fingerprint, comment, type.
import { readOrUndefined, WireReader } from '../ssh-wire.js';
import type { Identity } from './protocol.js';

/** The blob's string number `index` (0 is the type name), or undefined when the blob ends first. */
function field(blob: Buffer, index: number): Buffer | undefined {
  return readOrUndefined(() => {
    const reader = new WireReader(blob);
    for (let i = 0; i < index; i++) reader.string();
    return reader.string();
  });
}

function mpintBits(data: Buffer): number {
  let i = 0;
  while (i < data.length && data[i] === 0) i++;
  if (i === data.length) return 0;
  return (data.length - i - 1) * 8 + (32 - Math.clz32(data[i]!));
}

/** The key type name a blob starts with, e.g. `ssh-ed25519`; undefined when it does not start with a whole string. */
export function blobTypeName(blob: Buffer): string | undefined {
  return field(blob, 0)?.toString('latin1');
}

/** The key type name inside a blob, e.g. `ssh-ed25519`, or `unknown`. */
export function blobType(blob: Buffer): string {
  return blobTypeName(blob) ?? 'unknown';
}

/** Key size in bits and ssh-add's upper-case type label for a blob. */
export function describeBlob(blob: Buffer): { bits: number; label: string } {
  const type = blobType(blob);
  const base = type.replace(/-cert-v01@openssh\.com$/, '');
  const cert = base !== type ? '-CERT' : '';
  if (base === 'ssh-rsa') {
    const n = field(blob, 2); // type, e, n
    return { bits: n ? mpintBits(n) : 0, label: `RSA${cert}` };
  }
  if (base === 'ssh-dss') {
    const p = field(blob, 1); // type, p, q, g, y
    return { bits: p ? mpintBits(p) : 0, label: `DSA${cert}` };
  }
  const ecdsa = /^(sk-)?ecdsa-sha2-nistp(\d+)/.exec(base);
  if (ecdsa) return { bits: ecdsa[1] ? 256 : Number(ecdsa[2]), label: `ECDSA${ecdsa[1] ? '-SK' : ''}${cert}` };
  if (base === 'ssh-ed25519') return { bits: 256, label: `ED25519${cert}` };
  if (base.startsWith('sk-ssh-ed25519')) return { bits: 256, label: `ED25519-SK${cert}` };
  return { bits: 0, label: base.toUpperCase() };
}

/** One line of `ssh-add -l` output for an identity. */
export function fingerprintLine(id: Identity): string {
  const { bits, label } = describeBlob(id.blob);
  return `${bits} ${id.fingerprint} ${id.comment || '(no comment)'} (${label})`;
}

/** One line of `ssh-add -L` output for an identity. */
export function publicKeyLine(id: Identity): string {
  return `${blobType(id.blob)} ${id.blob.toString('base64')}${id.comment ? ` ${id.comment}` : ''}`;
}
