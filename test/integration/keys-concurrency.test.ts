// Several logins needing the same key at once, and the passphrase never leaking into any
// process's argv or environment (SPEC §3, §4).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { Sandbox, parseShEval, waitFor } from '../helpers/sandbox.js';
import { keygenFingerprint, loadedFingerprints, makeAskpass } from '../helpers/askpass.js';
import { filesContaining, scanProc, scanWhile } from '../helpers/proc-scan.js';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

describe('agentkeep under contention and the passphrase', () => {
  it('when three logins need the same key at once then askpass is called exactly once and the others say they waited', async () => {
    sb = new Sandbox();
    const key = sb.keygen('shared', { passphrase: 'three at once' });
    // The askpass takes 4 s: long enough that all three have reached the key's lock on a loaded machine.
    const askpass = makeAskpass(sb, 'three at once', { sleepS: 4 });
    const started = await sb.agentkeep(['--eval', '--noask']);
    expect(started.code, started.stderr).toBe(0);
    const sock = parseShEval(started.stdout).SSH_AUTH_SOCK!;
    const runs = await Promise.all([1, 2, 3].map(() => sb.agentkeep(['--eval', 'shared'], { env: { SSH_ASKPASS: askpass.program } })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const r of runs) expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBe(sock);
    expect(askpass.calls()).toBe(1);
    expect(runs.filter((r) => /Waited/.test(r.stderr))).toHaveLength(2);
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${key}.pub`)]);
  });

  it('when a key is being added then no process ever has the passphrase in its argv or environment, and no file gets it', async () => {
    sb = new Sandbox();
    const secret = `leak-canary-${process.pid}-${Date.now()}`;
    sb.keygen('canary', { passphrase: secret });
    // Positive control: the scanner does find a canary placed in a live process's environment.
    const control = spawn('sleep', ['5'], { env: { CONTROL: `${secret}-control` }, stdio: 'ignore' });
    sb.track(control.pid!);
    expect(await waitFor(() => scanProc(`${secret}-control`).hits.length > 0)).toBe(true);
    control.kill('SIGKILL');
    // Its environment holds the canary too: it must be gone before the real scan starts.
    expect(await waitFor(() => scanProc(`${secret}-control`).hits.length === 0)).toBe(true);
    const askpass = makeAskpass(sb, secret, { sleepS: 1 });
    const { result: r, hits, scans, sawName } = await scanWhile(secret, 'ssh-add',
      sb.agentkeep(['--eval', 'canary'], { env: { SSH_ASKPASS: askpass.program } }));
    expect(r.code, r.stderr).toBe(0);
    expect(sawName).toBe(true);
    expect(scans).toBeGreaterThan(3);
    expect(hits).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(secret);
    // The only file holding it is the test's own 0600 secret, outside HOME.
    expect(filesContaining(sb.home, secret)).toEqual([]);
    expect(askpass.calls()).toBe(1);
  });
});
