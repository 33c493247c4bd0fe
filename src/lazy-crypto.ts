// node:crypto costs about 3 ms to load, and the common login (agent alive, keys loaded) never
// hashes anything: it compares public key blobs. So crypto is loaded on first use only.
import { createRequire } from 'node:module';

let loaded: typeof import('node:crypto') | undefined;

/** node:crypto, required the first time it is needed. */
export function nodeCrypto(): typeof import('node:crypto') {
  loaded ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return loaded;
}
