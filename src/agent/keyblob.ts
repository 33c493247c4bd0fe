// Describes a public key blob the way `ssh-add -l` does: bits, fingerprint, comment, type.
import type { Identity } from './protocol.js';

function readString(buf: Buffer, off: number): [Buffer, number] | undefined {
  if (off + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(off);
  if (off + 4 + len > buf.length) return undefined;
  return [buf.subarray(off + 4, off + 4 + len), off + 4 + len];
}

function mpintBits(data: Buffer): number {
  let i = 0;
  while (i < data.length && data[i] === 0) i++;
  if (i === data.length) return 0;
  return (data.length - i - 1) * 8 + (32 - Math.clz32(data[i]!));
}

/** The key type name inside a blob, e.g. `ssh-ed25519`. */
export function blobType(blob: Buffer): string {
  return readString(blob, 0)?.[0].toString('latin1') ?? 'unknown';
}

/** Key size in bits and ssh-add's upper-case type label for a blob. */
export function describeBlob(blob: Buffer): { bits: number; label: string } {
  const type = blobType(blob);
  const base = type.replace(/-cert-v01@openssh\.com$/, '');
  const cert = base !== type ? '-CERT' : '';
  const first = readString(blob, 0);
  if (base === 'ssh-rsa' && first) {
    const e = readString(blob, first[1]);
    const n = e && readString(blob, e[1]);
    return { bits: n ? mpintBits(n[0]) : 0, label: `RSA${cert}` };
  }
  if (base === 'ssh-dss' && first) {
    const p = readString(blob, first[1]);
    return { bits: p ? mpintBits(p[0]) : 0, label: `DSA${cert}` };
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
