// verifyPassphrase on real keys made by ssh-keygen, for every format we claim to read.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassphrase } from '../../src/keys/verify-passphrase.js';
import { Sandbox } from '../helpers/sandbox.js';

const PASS = 'right one';
let sb: Sandbox;
beforeAll(() => { sb = new Sandbox('ak-verify-'); });
afterAll(() => { sb.cleanup(); });

function keygen(name: string, args: string[]): string {
  const path = join(sb.home, '.ssh', name);
  const r = spawnSync('ssh-keygen', ['-q', ...args, '-C', name, '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return path;
}

const formats: [string, string[], string][] = [
  ['OpenSSH ed25519 (bcrypt)', ['-t', 'ed25519'], 'ssh-ed25519'],
  ['OpenSSH RSA (bcrypt)', ['-t', 'rsa', '-b', '2048'], 'ssh-rsa'],
  ['OpenSSH ECDSA P-256 (bcrypt)', ['-t', 'ecdsa'], 'ecdsa-sha2-nistp256'],
  ['OpenSSH ECDSA P-521 (bcrypt)', ['-t', 'ecdsa', '-b', '521'], 'ecdsa-sha2-nistp521'],
  ['legacy PEM RSA', ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], 'ssh-rsa'],
  ['PKCS#8 RSA', ['-t', 'rsa', '-b', '2048', '-m', 'PKCS8'], 'rsa'],
];

describe('verifyPassphrase', () => {
  for (const [label, args, type] of formats) {
    it(`when a ${label} key gets its passphrase then ok; a wrong one then wrong`, async () => {
      const path = keygen(label.replace(/\W+/g, '_'), [...args, '-N', PASS]);
      expect(await verifyPassphrase(path, PASS)).toEqual({ status: 'ok', keyType: type });
      expect(await verifyPassphrase(path, 'not it')).toEqual({ status: 'wrong' });
      expect((await verifyPassphrase(path, undefined)).status).toBe('ok');
    });
  }

  it('when the key has no passphrase then unencrypted', async () => {
    const path = keygen('plain', ['-t', 'ed25519', '-N', '']);
    expect(await verifyPassphrase(path, undefined)).toEqual({ status: 'unencrypted', keyType: 'ssh-ed25519' });
  });

  it('when the file is missing then missing; when it is not a key then unsupported', async () => {
    expect(await verifyPassphrase(join(sb.home, 'nope'), PASS)).toEqual({ status: 'missing' });
    const junk = join(sb.home, 'junk');
    writeFileSync(junk, 'hello\n');
    expect((await verifyPassphrase(junk, PASS)).status).toBe('unsupported');
  });
});
