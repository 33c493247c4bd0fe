// addKeysWithPassphrase: the passphrase reaches ssh-add's askpass only through a pipe on fd 3.
// The success case is the proof that ssh-add still hands fd 3 to its askpass child.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Sandbox } from '../helpers/sandbox.js';
import { keygenFingerprint, loadedFingerprints } from '../helpers/askpass.js';
import { addKeysWithPassphrase } from '../../src/keys/add.js';
import { AgentkeepError } from '../../src/errors.js';

const PASS = `it's "quoted" $(not run) \\ too`;

let sb: Sandbox;
afterEach(() => sb?.cleanup());

describe('addKeysWithPassphrase (fd 3)', () => {
  it('when the passphrase is right then ssh-add gets it through fd 3 and loads every key that shares it', async () => {
    sb = new Sandbox();
    const a = sb.keygen('a', { passphrase: PASS });
    const b = sb.keygen('b', { passphrase: PASS, type: 'ecdsa' });
    const { sock } = sb.startAgent(join(sb.dir, 'agent.sock'));
    await addKeysWithPassphrase(sock, [a, b], PASS, { env: sb.env });
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${a}.pub`), keygenFingerprint(`${b}.pub`)].sort());
  });

  it('when the passphrase is wrong then it rejects with KEY_ADD within seconds, without looping, and the agent is unchanged', async () => {
    sb = new Sandbox();
    const a = sb.keygen('a', { passphrase: PASS });
    const { sock } = sb.startAgent(join(sb.dir, 'agent.sock'));
    const started = Date.now();
    const error = await addKeysWithPassphrase(sock, [a], 'wrong-one', { env: sb.env }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentkeepError);
    expect((error as AgentkeepError).code).toBe('KEY_ADD');
    expect((error as AgentkeepError).message).not.toContain('wrong-one');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(loadedFingerprints(sock)).toEqual([]);
  });

  it('when a key has a different passphrase then that key fails and the call rejects instead of asking again', async () => {
    sb = new Sandbox();
    const a = sb.keygen('a', { passphrase: PASS });
    const c = sb.keygen('c', { passphrase: 'another one' });
    const { sock } = sb.startAgent(join(sb.dir, 'agent.sock'));
    await expect(addKeysWithPassphrase(sock, [a, c], PASS, { env: sb.env, lifetimeSec: 60 })).rejects.toThrow(/ssh-add exited with status/);
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${a}.pub`)]);
  });
});
