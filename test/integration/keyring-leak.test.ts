// The paths where agentkeep itself holds a key passphrase (taken from the keyring and fed to
// ssh-add on fd 3): no process ever shows it in its argv or environment, and no file gets it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cronAgentrun } from '../helpers/agentrun.js';
import { filesContaining, scanProc, scanWhile } from '../helpers/proc-scan.js';
import { Sandbox, parseShEval, waitFor } from '../helpers/sandbox.js';
import { startSecretService, type SecretService } from '../helpers/secret-service.js';

let sb: Sandbox;
let ss: SecretService;
let secret: string;

beforeEach(async () => {
  sb = new Sandbox('ak-kr-leak-');
  ss = await startSecretService(sb);
  secret = `keyring-leak-canary-${process.pid}-${Date.now()}`;
  // More KDF rounds than the default: ssh-add takes longer to decrypt, so the scan sees it running.
  const key = join(sb.home, '.ssh', 'leaky');
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '64', '-N', secret, '-C', 'leaky', '-f', key], { env: sb.env, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
  // Positive control: the scanner does find a canary placed in a live process's environment.
  const control = spawn('sleep', ['5'], { env: { CONTROL: `${secret}-control` }, stdio: 'ignore' });
  sb.track(control.pid!);
  expect(await waitFor(() => scanProc(`${secret}-control`).hits.length > 0)).toBe(true);
  control.kill('SIGKILL');
  // Its environment holds the canary too: it must be gone before the real scans start.
  expect(await waitFor(() => scanProc(`${secret}-control`).hits.length === 0)).toBe(true);
});
afterEach(() => sb.cleanup());

describe('a passphrase from the keyring', () => {
  it('when it is stored and agentkeep --keyring loads the key then no argv, environment or file under HOME ever holds it', async () => {
    const set = await scanWhile(secret, 'node', sb.agentkeep(['passphrase', 'set', 'leaky'], { env: ss.env, input: `${secret}\n` }));
    expect(set.result.code, set.result.stderr).toBe(0);
    expect(set.hits).toEqual([]);

    const login = await scanWhile(secret, 'ssh-add', sb.agentkeep(['--eval', '--keyring', 'leaky'], { env: ss.env }));
    expect(login.result.code, login.result.stderr).toBe(0);
    expect(login.result.stderr).toContain('from the keyring');
    expect(parseShEval(login.result.stdout).SSH_AUTH_SOCK).toBeTruthy();
    expect(login.sawName).toBe(true);
    expect(login.scans).toBeGreaterThan(3);
    expect(login.hits).toEqual([]);
    expect(login.result.stdout + login.result.stderr).not.toContain(secret);
    expect(filesContaining(sb.home, secret)).toEqual([]);
  });

  it('when agentrun --ephemeral loads the key from the keyring for a job then no argv, environment or file ever holds it', async () => {
    expect((await sb.agentkeep(['passphrase', 'set', 'leaky'], { env: ss.env, input: `${secret}\n` })).code).toBe(0);
    const tmp = join(sb.dir, 'tmp');
    mkdirSync(tmp, { mode: 0o700 });
    const job = await scanWhile(secret, 'ssh-add',
      cronAgentrun(sb, ['--ephemeral', 'leaky', 'true'], { env: { TMPDIR: tmp, ...ss.env } }));
    expect(job.result.code, job.result.stderr).toBe(0);
    expect(job.sawName).toBe(true);
    expect(job.scans).toBeGreaterThan(3);
    expect(job.hits).toEqual([]);
    expect(job.result.stdout + job.result.stderr).not.toContain(secret);
    expect(filesContaining(sb.home, secret)).toEqual([]);
    expect(filesContaining(tmp, secret)).toEqual([]);
  });
});
