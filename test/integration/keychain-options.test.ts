// agentkeep's own side of keychain's options where it differs on purpose: the env snippet is
// data (only PATH applies, nothing runs), --confhost without a config warns, gpg is ignored.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { HOST, parseShEval, Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
afterEach(() => sb.cleanup());

/** A wrapper named ssh-agent in ~/sbin that records its use, then runs the real one. */
function recordingSshAgent(): { dir: string; used: () => boolean } {
  const dir = join(sb.home, 'sbin');
  mkdirSync(dir);
  const log = join(sb.dir, 'ssh-agent-used');
  writeFileSync(join(dir, 'ssh-agent'), `#!/bin/sh\necho used >> '${log}'\nexec /usr/bin/ssh-agent "$@"\n`);
  chmodSync(join(dir, 'ssh-agent'), 0o755);
  return { dir, used: () => existsSync(log) };
}

describe('keychain\'s env snippet (HOST-env, env, --env FILE)', () => {
  it('when KEYDIR/HOST-env sets PATH and holds a command then PATH reaches ssh-agent and the command never runs', async () => {
    sb = new Sandbox('ak-kcopt-');
    const agent = recordingSshAgent();
    mkdirSync(sb.keydir, { mode: 0o700 });
    writeFileSync(join(sb.keydir, `${HOST}-env`), `PATH="$HOME/sbin:$PATH"; export PATH\ntouch '${join(sb.dir, 'CANARY')}'\n`, { mode: 0o600 });
    const r = await sb.agentkeep(['--eval', '--quiet'], { cwd: sb.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBe(join(sb.keydir, `${HOST}-agent.sock`));
    expect(agent.used()).toBe(true);
    expect(existsSync(join(sb.dir, 'CANARY'))).toBe(false);
    expect(r.stderr).toContain(`only PATH=... lines apply; ignoring "touch '${join(sb.dir, 'CANARY')}'"`);
  });

  it('when KEYDIR/env is the only snippet then it is read the same way', async () => {
    sb = new Sandbox('ak-kcopt-');
    const agent = recordingSshAgent();
    mkdirSync(sb.keydir, { mode: 0o700 });
    writeFileSync(join(sb.keydir, 'env'), 'PATH=$HOME/sbin:$PATH\n', { mode: 0o600 });
    const r = await sb.agentkeep(['--eval', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(agent.used()).toBe(true);
  });

  it('when --env names a file others can write then it is ignored with a warning and the login goes on', async () => {
    sb = new Sandbox('ak-kcopt-');
    const agent = recordingSshAgent();
    const file = join(sb.home, 'kenv');
    writeFileSync(file, 'PATH=$HOME/sbin:$PATH\n');
    chmodSync(file, 0o666);
    const r = await sb.agentkeep(['--eval', '--quiet', '--env', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`Warning: ignoring ${file}: .*lets group or others write`));
    expect(agent.used()).toBe(false);
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBeDefined();
  });

  it('when --env names a FIFO then the login is not blocked', async () => {
    sb = new Sandbox('ak-kcopt-');
    const fifo = join(sb.home, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = await sb.agentkeep(['--eval', '--quiet', '--env', fifo], { timeoutMs: 15_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('not a regular file');
  });
});

describe('--confhost and gpg', () => {
  it('when --confhost comes without ~/.ssh/config then it warns, as keychain does, and the login goes on', async () => {
    sb = new Sandbox('ak-kcopt-');
    const r = await sb.agentkeep(['--eval', '--quiet', '--confhost', 'myhost']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('~/.ssh/config not found; --confhost myhost ignored');
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBeDefined();
  });

  it('when --agents gpg comes alone then the ssh part still runs, with one warning', async () => {
    sb = new Sandbox('ak-kcopt-');
    const r = await sb.agentkeep(['--eval', '--quiet', '--agents', 'gpg', '0xDEADBEEF']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(' * Warning: agentkeep manages ssh-agent only; ignoring --agents gpg, gpg key 0xDEADBEEF\n');
    expect(readFileSync(sb.file('sh'), 'utf8')).toContain('SSH_AUTH_SOCK=');
  });
});
