// `agentkeep --keyring KEY`: after a reboot, the login keyring supplies the key passphrase.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Sandbox, parseShEval } from '../helpers/sandbox.js';
import { makeAskpass } from '../helpers/askpass.js';
import { startSecretService } from '../helpers/secret-service.js';

const PASS = 'stored passphrase 42';
let sb: Sandbox;
beforeEach(() => { sb = new Sandbox('ak-kr-login-'); });
afterEach(() => sb.cleanup());

function listed(sock: string): string {
  return spawnSync('ssh-add', ['-l'], { env: { ...sb.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' }).stdout;
}

describe('agentkeep --keyring', () => {
  it('when the passphrase is stored then a login with no terminal and no askpass loads the key, and the next login asks nothing', async () => {
    const ss = await startSecretService(sb);
    sb.keygen('id_ed25519', { passphrase: PASS });
    expect((await sb.agentkeep(['passphrase', 'set', 'id_ed25519'], { env: ss.env, input: `${PASS}\n` })).code).toBe(0);

    const login = await sb.agentkeep(['--eval', '--keyring', 'id_ed25519'], { env: ss.env });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain('from the keyring');
    const sock = parseShEval(login.stdout).SSH_AUTH_SOCK!;
    expect(listed(sock)).toContain('id_ed25519');

    const again = await sb.agentkeep(['--eval', '--keyring', 'id_ed25519'], { env: ss.env });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('from the keyring');
    expect(again.stderr).toContain('Known ssh key');
  });

  it('when the keyring is unreachable then the login falls back to the askpass program', async () => {
    sb.keygen('id_ed25519', { passphrase: PASS });
    const askpass = makeAskpass(sb, PASS);
    const r = await sb.agentkeep(['--eval', '--keyring', 'id_ed25519'], { env: { SSH_ASKPASS: askpass.program }, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(askpass.calls()).toBe(1);
    expect(listed(parseShEval(r.stdout).SSH_AUTH_SOCK!)).toContain('id_ed25519');
  });

  it('when the keyring is unreachable and there is no way to prompt then it fails at once with a clear message', async () => {
    sb.keygen('id_ed25519', { passphrase: PASS });
    const r = await sb.agentkeep(['--eval', '--keyring', 'id_ed25519'], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    // The agent is fine, only the key is missing: the shell still gets the agent.
    expect(r.stdout).toMatch(/^SSH_AUTH_SOCK=.*\nfalse;\n$/s);
    expect(r.stderr).toMatch(/cannot ask for the passphrase/);
  });
});
