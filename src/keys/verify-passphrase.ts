// Proves in-process that a passphrase decrypts a private key, so a passphrase is never handed
// to a program's argv to find out. OpenSSH-format keys (ed25519, RSA, ECDSA; bcrypt KDF) and
// legacy PEM keys go through ssh2's parser; encrypted PKCS#8 PEM, which ssh2 cannot read, through
// node:crypto. Security-key (-sk) and other formats are reported as unsupported.
import { createPrivateKey } from 'node:crypto';
import { isErrno } from '../errors.js';
import { readBoundedFile } from '../read-file.js';

/** What trying a passphrase on a key file found. */
export type PassphraseCheck =
  | { status: 'ok'; keyType: string }
  | { status: 'wrong' }
  | { status: 'unencrypted'; keyType: string }
  | { status: 'missing' }
  | { status: 'unsupported'; detail: string };

type Parsed = { type: string } | Error;

async function ssh2Parse(data: Buffer, passphrase: string | undefined): Promise<Parsed> {
  const { utils } = (await import('ssh2')).default;
  try {
    const out = utils.parseKey(data, passphrase);
    if (out instanceof Error) return out;
    const first = Array.isArray(out) ? out[0] : out;
    return first ? { type: first.type } : new Error('no key in file');
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function pkcs8Check(data: Buffer, passphrase: string | undefined): PassphraseCheck {
  if (!/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(data.toString('latin1'))) {
    try {
      const key = createPrivateKey({ key: data, format: 'pem' });
      return { status: 'unencrypted', keyType: key.asymmetricKeyType ?? 'unknown' };
    } catch (error) {
      return { status: 'unsupported', detail: error instanceof Error ? error.message : String(error) };
    }
  }
  if (passphrase === undefined) return { status: 'ok', keyType: 'encrypted' };
  try {
    const key = createPrivateKey({ key: data, format: 'pem', passphrase });
    return { status: 'ok', keyType: key.asymmetricKeyType ?? 'unknown' };
  } catch {
    return { status: 'wrong' };
  }
}

/**
 * Tries `passphrase` on the private key at `path`. With `passphrase` undefined it only learns
 * whether the key is encrypted: 'unencrypted', or 'ok' meaning "encrypted, a passphrase is needed".
 */
export async function verifyPassphrase(path: string, passphrase: string | undefined): Promise<PassphraseCheck> {
  let data: Buffer;
  try {
    data = readBoundedFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { status: 'missing' };
    throw error;
  }
  const text = data.toString('latin1');
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(text)) return pkcs8Check(data, passphrase);
  const bare = await ssh2Parse(data, undefined);
  if (!(bare instanceof Error)) return { status: 'unencrypted', keyType: bare.type };
  if (!/no passphrase given/i.test(bare.message)) return { status: 'unsupported', detail: bare.message };
  if (passphrase === undefined) return { status: 'ok', keyType: 'encrypted' };
  const parsed = await ssh2Parse(data, passphrase);
  if (!(parsed instanceof Error)) return { status: 'ok', keyType: parsed.type };
  if (/bad passphrase|integrity check failed/i.test(parsed.message)) return { status: 'wrong' };
  return { status: 'unsupported', detail: parsed.message };
}
