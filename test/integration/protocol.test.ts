import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AgentRequestError, removeAllIdentities, removeIdentity, request, requestIdentities } from '../../src/agent/protocol.js';
import { fingerprintLine, publicKeyLine } from '../../src/agent/keyblob.js';
import { publicKeyOf } from '../../src/keys/fingerprint.js';
import { WireWriter } from '../../src/ssh-wire.js';
import { Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
  sb.cleanup();
});

function sshAdd(args: string[], sock: string) {
  return spawnSync('ssh-add', args, { env: { ...sb.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
}

describe('agent protocol client against a real ssh-agent', () => {
  it('when keys are loaded then identities, fingerprints and list lines match ssh-add', async () => {
    sb = new Sandbox();
    const { sock } = sb.startAgent(join(sb.dir, 'agent.sock'));
    const ed = sb.keygen('id_ed25519');
    const rsa = sb.keygen('id_rsa', { type: 'rsa', bits: 2048 });
    const ec = sb.keygen('id_ecdsa', { type: 'ecdsa' });
    expect(sshAdd([ed, rsa, ec], sock).status).toBe(0);

    const ids = await requestIdentities(sock);
    expect(ids.map((id) => id.fingerprint).sort()).toEqual([ed, rsa, ec].map((k) => publicKeyOf(k)!.fingerprint).sort());
    expect(ids.map(fingerprintLine).join('\n')).toBe(sshAdd(['-l'], sock).stdout.trim());
    expect(ids.map(publicKeyLine).join('\n')).toBe(sshAdd(['-L'], sock).stdout.trim());

    await removeIdentity(sock, publicKeyOf(rsa)!.blob);
    expect((await requestIdentities(sock)).length).toBe(2);
    await removeAllIdentities(sock);
    expect(await requestIdentities(sock)).toEqual([]);
  });

  it('when a real agent\'s identities answer arrives one byte at a time then it parses to the same identities', async () => {
    sb = new Sandbox();
    const { sock } = sb.startAgent(join(sb.dir, 'agent.sock'));
    expect(sshAdd([sb.keygen('id_ed25519'), sb.keygen('id_ecdsa', { type: 'ecdsa' })], sock).status).toBe(0);
    const real = await request(sock, new WireWriter().byte(11).frame());
    expect(real.type).toBe(12);
    const bytes = Buffer.concat([new WireWriter().uint32(1 + real.body.length).byte(real.type).toBuffer(), real.body]);
    const slow = join(sb.dir, 'slow.sock');
    server = createServer((conn) => {
      conn.once('data', () => {
        let i = 0;
        const next = (): void => { if (i < bytes.length) conn.write(bytes.subarray(i, ++i), next); };
        next();
      });
    });
    await new Promise<void>((r) => server!.listen(slow, r));
    const direct = await requestIdentities(sock);
    const trickled = await requestIdentities(slow);
    expect(trickled.map((id) => [id.fingerprint, id.comment])).toEqual(direct.map((id) => [id.fingerprint, id.comment]));
    expect(trickled.length).toBe(2);
  });

  it('when an agent\'s identities answer is cut short then the error is a protocol error that names the offset', async () => {
    sb = new Sandbox();
    const sock = join(sb.dir, 'short.sock');
    // One identity promised, a blob whose length says 100 bytes and only 3 follow.
    const body = Buffer.concat([new WireWriter().byte(12).uint32(1).toBuffer(), Buffer.from([0, 0, 0, 100, 1, 2, 3])]);
    server = createServer((conn) => conn.once('data', () => conn.write(Buffer.concat([new WireWriter().uint32(body.length).toBuffer(), body]))));
    await new Promise<void>((r) => server!.listen(sock, r));
    const error = await requestIdentities(sock).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentRequestError);
    expect((error as AgentRequestError).kind).toBe('protocol');
    expect((error as AgentRequestError).message).toBe('truncated identities answer: truncated SSH string at offset 4: its length says 100 bytes, 3 left');
  });

  it('when the socket accepts and never answers then the request fails with a timeout instead of hanging', async () => {
    sb = new Sandbox();
    const sock = join(sb.dir, 'silent.sock');
    server = createServer(() => { /* accept, never answer */ });
    await new Promise<void>((r) => server!.listen(sock, r));
    const started = Date.now();
    const error = await requestIdentities(sock, 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentRequestError);
    expect((error as AgentRequestError).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('when nothing listens then the error kind says so', async () => {
    sb = new Sandbox();
    const error = await requestIdentities(join(sb.dir, 'none.sock')).catch((e: unknown) => e);
    expect((error as AgentRequestError).kind).toBe('missing');
  });
});
