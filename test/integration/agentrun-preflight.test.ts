// Preflight under cron: no usable agent, no keys or a missing required key → exit 75 at once,
// the job not run, a message naming the fix, and no agent started. Unsafe files → 78.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, waitFor, alive } from '../helpers/sandbox.js';
import { cronAgentrun, setupAgent, sshAdd, sshAddWipe, touchJob } from '../helpers/agentrun.js';

const HANG_GUARD_MS = 10_000;

describe('agentrun preflight', () => {
  let sb: Sandbox;
  afterEach(() => sb?.cleanup());

  /** A sandbox with an agent holding `backup_ed25519`, as after the owner's login. */
  function loggedIn(): { sock: string; pid: number; marker: string } {
    sb = new Sandbox('ak-run-pre-');
    const key = sb.keygen('backup_ed25519', { passphrase: '' });
    sb.keygen('other_ed25519');
    const agent = setupAgent(sb);
    sshAdd(sb, agent.sock, key);
    return { ...agent, marker: join(sb.dir, 'ran') };
  }

  /** Runs a job that would create the marker, and checks the common promises of a refusal. */
  async function expectRefused(marker: string, args: string[], status = 75) {
    const before = sb.sandboxAgents().length;
    const r = await cronAgentrun(sb, [...args, ...touchJob(marker)], { timeoutMs: HANG_GUARD_MS + 5000 });
    expect(r.code, r.stderr).toBe(status);
    expect(r.ms).toBeLessThan(HANG_GUARD_MS);
    expect(existsSync(marker)).toBe(false);
    expect(sb.sandboxAgents().length).toBe(before);
    expect(r.stdout).toBe('');
    return r;
  }

  it('when the agent holds the required key then the job runs with the agent environment', async () => {
    const { sock, pid } = loggedIn();
    const out = join(sb.dir, 'env');
    const r = await cronAgentrun(sb, ['--require', 'backup_ed25519', 'sh', '-c', 'echo "$SSH_AUTH_SOCK $SSH_AGENT_PID" > "$1"; ssh-add -l', 'job', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SHA256:\S+ backup_ed25519 \(ED25519\)/);
    expect(readFileSync(out, 'utf8')).toBe(`${sock} ${pid}\n`);
  });

  it('when agentkeep started the agent and the key was added then agentrun finds it under cron', async () => {
    sb = new Sandbox('ak-run-pre-');
    const key = sb.keygen('backup_ed25519');
    const started = await sb.agentkeep(['--noask', '--quiet']);
    expect(started.code, started.stderr).toBe(0);
    const sock = readFileSync(sb.file('sh'), 'utf8').match(/^SSH_AUTH_SOCK=(\S+);/)![1]!;
    sshAdd(sb, sock, key);
    const agents = sb.sandboxAgents().length;
    const r = await cronAgentrun(sb, ['--require', 'backup_ed25519', 'sh', '-c', 'echo "$SSH_AUTH_SOCK"']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${sock}\n`);
    expect(sb.sandboxAgents().length).toBe(agents);
  });

  it('when the keys were wiped then exit 75 names the agentkeep command that loads them', async () => {
    const { sock, marker } = loggedIn();
    sshAddWipe(sb, sock);
    const r = await expectRefused(marker, ['--require', 'backup_ed25519']);
    expect(r.stderr).toContain(`agentrun: the ssh-agent at ${sock} answers but holds no keys`);
    expect(r.stderr).toContain('hint: log in as root and run: agentkeep backup_ed25519');
  });

  it('when the agent was killed (after a reboot) then exit 75 names the dead socket, the env file and the fix', async () => {
    const { sock, pid, marker } = loggedIn();
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !alive(pid))).toBe(true);
    const r = await expectRefused(marker, ['--require', 'backup_ed25519']);
    expect(r.stderr).toContain(`agentrun: no ssh-agent is answering at ${sock} (from ${sb.file('sh')})`);
    expect(r.stderr).toContain('hint: log in as root and run: agentkeep backup_ed25519');
  });

  it('when the env file is missing then exit 75 says so', async () => {
    const { marker } = loggedIn();
    rmSync(sb.file('sh'));
    const r = await expectRefused(marker, []);
    expect(r.stderr).toContain(`${sb.file('sh')} does not exist`);
    expect(r.stderr).toContain('hint: log in as root and run: agentkeep KEY');
  });

  it('when only another host name\'s env file exists then the message names it and --host', async () => {
    const { marker } = loggedIn();
    renameSync(sb.file('sh'), join(sb.keydir, 'backup1.example.org-sh'));
    const r = await expectRefused(marker, []);
    expect(r.stderr).toContain(`${sb.file('sh')} does not exist, but backup1.example.org-sh does`);
    expect(r.stderr).toContain('agentrun --host backup1.example.org');
  });

  it('when the key directory does not exist then exit 75 says agentkeep has not run', async () => {
    sb = new Sandbox('ak-run-pre-');
    const r = await expectRefused(join(sb.dir, 'ran'), []);
    expect(r.stderr).toContain(`the key directory ${sb.keydir} does not exist`);
  });

  it('when a required key is not loaded then exit 75 names it, its fingerprint and what the agent holds', async () => {
    const { marker } = loggedIn();
    const r = await expectRefused(marker, ['--require', 'backup_ed25519', '--require', 'other_ed25519']);
    expect(r.stderr).toMatch(/required key not loaded in the ssh-agent at \S+: other_ed25519 \(SHA256:\S+\); it holds SHA256:\S+ backup_ed25519/);
    expect(r.stderr).toContain('hint: log in as root and run: agentkeep other_ed25519');
  });

  it('when a required fingerprint is not loaded then exit 75', async () => {
    const { marker } = loggedIn();
    const r = await expectRefused(marker, ['--require', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']);
    expect(r.stderr).toContain('SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  });

  it('when a required key is named by its loaded fingerprint then the job runs', async () => {
    const { marker } = loggedIn();
    const { publicKeyOf } = await import('../../src/keys/fingerprint.js');
    const fp = publicKeyOf(join(sb.home, '.ssh/backup_ed25519'))!.fingerprint;
    const r = await cronAgentrun(sb, ['--require', fp, ...touchJob(marker)]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('when the env file is writable by others then exit 78 refuses it', async () => {
    const { marker } = loggedIn();
    chmodSync(sb.file('sh'), 0o666);
    const r = await expectRefused(marker, [], 78);
    expect(r.stderr).toContain(`chmod 600 '${sb.file('sh')}'`);
  });

  it('when the env file is a symlink then exit 78 refuses it', async () => {
    const { marker } = loggedIn();
    renameSync(sb.file('sh'), join(sb.dir, 'elsewhere-sh'));
    symlinkSync(join(sb.dir, 'elsewhere-sh'), sb.file('sh'));
    const r = await expectRefused(marker, [], 78);
    expect(r.stderr).toContain('symbolic link');
  });

  it('when cron has no SSH_AUTH_SOCK but the environment names a live agent then the env file still decides', async () => {
    const { marker } = loggedIn();
    // A stray inherited variable pointing at nothing must not matter while the env file is good.
    const r = await cronAgentrun(sb, [...touchJob(marker)], { env: { SSH_AUTH_SOCK: join(sb.dir, 'nothing.sock') } });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('when a --require key file does not exist then nothing runs and the message suggests a fingerprint', async () => {
    const { marker } = loggedIn();
    const r = await expectRefused(marker, ['--require', 'no_such_key'], 1);
    expect(r.stderr).toContain('--require SHA256:');
  });

  it('when the key directory is writable by others then exit 78', async () => {
    const { marker } = loggedIn();
    chmodSync(sb.keydir, 0o777);
    const r = await expectRefused(marker, [], 78);
    expect(r.stderr).toContain(`chmod 700 '${sb.keydir}'`);
  });

  it('when the key directory is writable by others and --lock is given then exit 78 and no lock directory is made', async () => {
    const { marker } = loggedIn();
    chmodSync(sb.keydir, 0o777);
    const r = await expectRefused(marker, ['--lock', 'n'], 78);
    expect(r.stderr).toContain(`chmod 700 '${sb.keydir}'`);
    expect(existsSync(join(sb.keydir, 'run-locks'))).toBe(false);
  });
});
