// `agentkeep passphrase` against a real Secret Service (gnome-keyring-daemon on a private bus),
// and against every way the keyring can be missing: no bus, a bus that never answers, no
// Secret Service on the bus, a locked keyring.
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/agent/protocol.js';
import { publicKeyOf } from '../../src/keys/fingerprint.js';
import { AGENTKEEP, Sandbox } from '../helpers/sandbox.js';
import { startSecretService, type SecretService } from '../helpers/secret-service.js';

const PASS = 'correct horse battery';
let sb: Sandbox;

beforeEach(() => { sb = new Sandbox('ak-keyring-'); });
afterEach(() => { sb.cleanup(); });

function fp(path: string): string {
  const pub = publicKeyOf(path);
  if (!pub) throw new Error(`no public key for ${path}`);
  return fingerprintOf(pub.blob);
}

describe('with a running, unlocked Secret Service', () => {
  let ss: SecretService;
  beforeEach(async () => { ss = await startSecretService(sb); });

  it('when the right passphrase is set then it is stored under the key fingerprint, reported, and forgotten on request', async () => {
    const key = sb.keygen('id_ed25519', { passphrase: PASS });
    const set = await sb.agentkeep(['passphrase', 'set', 'id_ed25519'], { env: ss.env, input: `${PASS}\n` });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain(fp(key));
    const lookup = await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', fp(key)]);
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toBe(PASS);

    const status = await sb.agentkeep(['passphrase', 'status', 'id_ed25519'], { env: ss.env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${fp(key)} stored`);

    const forget = await sb.agentkeep(['passphrase', 'forget', 'id_ed25519'], { env: ss.env });
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stderr).toContain('Forgot the passphrase');
    expect((await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', fp(key)])).code).not.toBe(0);
    const after = await sb.agentkeep(['passphrase', 'status', 'id_ed25519'], { env: ss.env });
    expect(after.code).toBe(1);
    expect(after.stdout).toContain(`${fp(key)} not stored`);
  });

  it('when the passphrase is wrong then set exits 1 and nothing is stored', async () => {
    const key = sb.keygen('id_rsa', { passphrase: PASS, type: 'rsa' });
    const set = await sb.agentkeep(['passphrase', 'set', 'id_rsa'], { env: ss.env, input: 'wrong guess\n' });
    expect(set.code).toBe(1);
    expect(set.stderr).toMatch(/does not decrypt .*nothing was stored/);
    expect((await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', fp(key)])).code).not.toBe(0);
  });

  it('when the key has no passphrase then set exits 1 and says there is nothing to store', async () => {
    sb.keygen('plain');
    const set = await sb.agentkeep(['passphrase', 'set', 'plain'], { env: ss.env, input: 'x\n' });
    expect(set.code).toBe(1);
    expect(set.stderr).toContain('has no passphrase');
  });

  it('when the key file is deleted after its passphrase was stored then status names the orphan and forget by fingerprint removes it', async () => {
    const key = sb.keygen('gone_ed25519', { passphrase: PASS });
    const print = fp(key);
    expect((await sb.agentkeep(['passphrase', 'set', 'gone_ed25519'], { env: ss.env, input: `${PASS}\n` })).code).toBe(0);
    rmSync(key);
    rmSync(`${key}.pub`);
    const named = await sb.agentkeep(['passphrase', 'status', 'gone_ed25519'], { env: ss.env });
    expect(named.code).toBe(1);
    expect(named.stderr).toContain(`no key file at ${key}`);
    expect(named.stderr).toMatch(/^hint: .*forget SHA256/m);
    const all = await sb.agentkeep(['passphrase', 'status'], { env: ss.env });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain(`${print} stored  (no matching key in ~/.ssh)`);
    const forget = await sb.agentkeep(['passphrase', 'forget', print], { env: ss.env });
    expect(forget.code, forget.stderr).toBe(0);
    expect((await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', print])).code).not.toBe(0);
  });

  /** `agentkeep passphrase set KEY` fed by `feed`, which may never close stdin; 'hung' after 20 s. */
  async function setFedBy(key: string, feed: (stdin: NodeJS.WritableStream) => void): Promise<{ code: number | null | 'hung'; stderr: string }> {
    const child = spawn(process.execPath, [AGENTKEEP, 'passphrase', 'set', key], { env: { ...sb.env, ...ss.env }, stdio: ['pipe', 'ignore', 'pipe'] });
    sb.track(child.pid!);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin!.on('error', () => { /* agentkeep stopped reading, as it should */ });
    feed(child.stdin!);
    const code = await new Promise<number | null | 'hung'>((resolve) => {
      const timer = setTimeout(() => resolve('hung'), 20_000);
      child.on('close', (c) => { clearTimeout(timer); resolve(c); });
    });
    child.stdin!.destroy();
    if (code === 'hung') child.kill('SIGKILL');
    return { code, stderr };
  }

  it('when stdin has more lines after the passphrase then only the first line, without its CR, is stored', async () => {
    const key = sb.keygen('id_ed25519', { passphrase: PASS });
    const set = await sb.agentkeep(['passphrase', 'set', 'id_ed25519'], { env: ss.env, input: `${PASS}\r\nsecond line\nthird\n` });
    expect(set.code, set.stderr).toBe(0);
    expect((await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', fp(key)])).stdout).toBe(PASS);
  });

  it('when the first line of stdin is longer than 4096 bytes then set exits 1 saying so and stores nothing', async () => {
    const key = sb.keygen('id_ed25519', { passphrase: PASS });
    const set = await sb.agentkeep(['passphrase', 'set', 'id_ed25519'], { env: ss.env, input: `${'x'.repeat(5000)}\n` });
    expect(set.code).toBe(1);
    expect(set.stderr).toContain('longer than 4096 bytes');
    expect(set.stderr).not.toContain('    at ');
    expect((await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', fp(key)])).code).not.toBe(0);
    // Endless input with no newline at all fails the same way instead of filling memory.
    const endless = await setFedBy('id_ed25519', (stdin) => {
      const chunk = 'y'.repeat(65536);
      const write = (): void => { while (stdin.write(chunk)) { /* until the pipe is full */ } };
      stdin.on('drain', write);
      write();
    });
    expect(endless.code).toBe(1);
    expect(endless.stderr).toContain('longer than 4096 bytes');
  });

  it('when stdin stays open after the first line (ssh without a tty) then set stores it and exits on its own', async () => {
    const key = sb.keygen('id_ed25519', { passphrase: PASS });
    const set = await setFedBy('id_ed25519', (stdin) => { stdin.write(`${PASS}\n`); });
    expect(set.code, set.stderr).toBe(0);
    expect((await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', fp(key)])).stdout).toBe(PASS);
  });

  it('when stdin never ends (yes PASS |) then set stores the first line and exits', async () => {
    const key = sb.keygen('id_ed25519', { passphrase: PASS });
    const set = await setFedBy('id_ed25519', (stdin) => {
      const line = `${PASS}\n`.repeat(4096);
      const write = (): void => { while (stdin.write(line)) { /* until the pipe is full */ } };
      stdin.on('drain', write);
      write();
    });
    expect(set.code, set.stderr).toBe(0);
    expect((await ss.secretTool(['lookup', 'service', 'agentkeep', 'username', fp(key)])).stdout).toBe(PASS);
  });

  it('when the keyring is locked then status and set exit 1 saying it is locked', async () => {
    sb.keygen('id_ecdsa', { passphrase: PASS, type: 'ecdsa' });
    // An entry must exist: a lookup that matches nothing needs no unlock and answers "not stored".
    expect((await sb.agentkeep(['passphrase', 'set', 'id_ecdsa'], { env: ss.env, input: `${PASS}\n` })).code).toBe(0);
    await ss.lock();
    const status = await sb.agentkeep(['passphrase', 'status', 'id_ecdsa'], { env: ss.env, timeoutMs: 30_000 });
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/^agentkeep: the keyring is locked/m);
    expect(status.stdout).toBe('');
    const set = await sb.agentkeep(['passphrase', 'set', 'id_ecdsa'], { env: ss.env, input: `${PASS}\n`, timeoutMs: 30_000 });
    expect(set.code).toBe(1);
    expect(set.stderr).toMatch(/^agentkeep: the keyring is locked.*\nhint: unlock it/m);
  });

  it('when the bus has no Secret Service then status exits 1 naming the missing service', async () => {
    await ss.stopKeyring();
    const status = await sb.agentkeep(['passphrase', 'status'], { env: ss.env });
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/^agentkeep: the keyring is unreachable: no Secret Service/m);
  });
});

describe('without a usable D-Bus session', () => {
  let server: Server | undefined;
  const held: Socket[] = [];
  afterEach(() => {
    for (const s of held) s.destroy();
    server?.close();
    server = undefined;
  });

  it('when DBUS_SESSION_BUS_ADDRESS is unset then status exits 1 at once with one clear line and a hint', async () => {
    sb.keygen('id_ed25519', { passphrase: PASS });
    const r = await sb.agentkeep(['passphrase', 'status', 'id_ed25519'], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^agentkeep: the keyring is unreachable: no D-Bus session bus \(DBUS_SESSION_BUS_ADDRESS is not set\)\nhint: .+\n$/);
  });

  it('when the bus address points nowhere then set exits 1 naming the bus, and never prompts', async () => {
    sb.keygen('id_ed25519', { passphrase: PASS });
    const r = await sb.agentkeep(['passphrase', 'set', 'id_ed25519'], { env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(sb.dir, 'nothing')}` }, input: `${PASS}\n` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^agentkeep: the keyring is unreachable: no D-Bus session bus answers/m);
  });

  it('when the bus accepts connections but never answers then status exits 1 within the timeout rather than hanging', async () => {
    const path = join(sb.dir, 'silent-bus');
    server = createServer((s) => { held.push(s); });
    await new Promise<void>((r) => server!.listen(path, r));
    const r = await sb.agentkeep(['passphrase', 'status'], { env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${path}`, AGENTKEEP_KEYRING_TIMEOUT: '2' }, timeoutMs: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the keyring did not answer within 2 s');
    expect(r.ms).toBeLessThan(20_000);
  });
});
