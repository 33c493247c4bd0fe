// Which keyring entry belongs to a key file: its public key's SHA256 fingerprint.
import { existsSync } from 'node:fs';
import { AgentkeepError } from '../errors.js';
import { publicKeyOf } from './fingerprint.js';

/** The keyring account for the key at `path` (its `SHA256:` fingerprint); throws KEY_FILE when unknown. */
export function keyringAccount(path: string): string {
  const pub = publicKeyOf(path);
  if (pub) return pub.fingerprint;
  if (!existsSync(path)) {
    throw new AgentkeepError('KEY_FILE', `no key file at ${path}`,
      'passphrases are stored under the key\'s fingerprint: `agentkeep passphrase status` lists them, `agentkeep passphrase forget SHA256:...` removes one');
  }
  throw new AgentkeepError('KEY_FILE', `cannot learn the public key of ${path} (no ${path}.pub, and not an OpenSSH-format private key)`,
    `recreate the public key: ssh-keygen -y -f ${path} > ${path}.pub`);
}
