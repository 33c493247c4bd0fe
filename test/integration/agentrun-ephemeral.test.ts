// `agentrun --ephemeral KEY`: a private agent for one cron job, a real ssh pull through it, and
// no agent or directory left behind on any way out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, Sandbox, waitFor } from '../helpers/sandbox.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { cronAgentrun, spawnAgentrun } from '../helpers/agentrun.js';
import { makeAskpass, type TestAskpass } from '../helpers/askpass.js';
import { startSecretService } from '../helpers/secret-service.js';

const PASS = 'ephemeral backup passphrase';

describe('agentrun --ephemeral with a real sshd', () => {
  let sb: Sandbox;
  let sshd: Sshd;
  let askpass: TestAskpass;
  let tmp: string;
  let ssh: string;

  beforeAll(async () => {
    sb = new Sandbox('ak-run-eph-');
    mkdirSync(join(sb.dir, 'srv/data/sub'), { recursive: true });
    writeFileSync(join(sb.dir, 'srv/data/sub/file.txt'), 'pulled through a private agent\n');
    sshd = await startSshd(sb);
    const key = sb.keygen('backup_eph', { passphrase: PASS });
    sshd.authorize(`${key}.pub`, `from="127.0.0.1",command="/usr/bin/rrsync -ro ${join(sb.dir, 'srv/data')}",restrict`);
    sshd.alias('eph-src', `${key}.pub`);
    askpass = makeAskpass(sb, PASS);
    // The private agent's directory goes under TMPDIR: inside the sandbox, so leftovers are visible.
    tmp = join(sb.dir, 'tmp');
    mkdirSync(tmp, { mode: 0o700 });
    ssh = `ssh -F ${sshd.clientConfig}`;
  });
  afterAll(() => sb?.cleanup());

  function leftovers(): { agents: number[]; dirs: string[] } {
    return { agents: sb.sandboxAgents(), dirs: readdirSync(tmp) };
  }

  it('when a cron job pulls with --ephemeral and an askpass program then the tree arrives and nothing is left running', async () => {
    const dest = join(sb.dir, 'backups/eph');
    mkdirSync(dest, { recursive: true });
    const r = await cronAgentrun(sb, ['--ephemeral', 'backup_eph', '--askpass', askpass.program, 'rsync', '-a', '-e', ssh, 'eph-src:./', `${dest}/`], { env: { TMPDIR: tmp } });
    expect(r.code, `${r.stderr}\n${sshd.log()}`).toBe(0);
    expect(existsSync(join(dest, 'sub/file.txt'))).toBe(true);
    expect(leftovers()).toEqual({ agents: [], dirs: [] });
    // The long-lived agent's files were never written.
    expect(existsSync(sb.file('sh'))).toBe(false);
  });

  it('when the passphrase is stored in the keyring then --ephemeral needs no askpass', async () => {
    const ss = await startSecretService(sb);
    expect((await sb.agentkeep(['passphrase', 'set', 'backup_eph'], { env: ss.env, input: `${PASS}\n` })).code).toBe(0);
    const dest = join(sb.dir, 'backups/keyring');
    mkdirSync(dest, { recursive: true });
    const r = await cronAgentrun(sb, ['--ephemeral', 'backup_eph', 'rsync', '-a', '-e', ssh, 'eph-src:./', `${dest}/`], { env: { TMPDIR: tmp, ...ss.env } });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dest, 'sub/file.txt'))).toBe(true);
    expect(leftovers()).toEqual({ agents: [], dirs: [] });
  });

  it('when the job fails, times out, or agentrun gets SIGTERM then the private agent is stopped and its directory removed', async () => {
    const failed = await cronAgentrun(sb, ['--ephemeral', 'backup_eph', '--askpass', askpass.program, 'sh', '-c', 'exit 3'], { env: { TMPDIR: tmp } });
    expect(failed.code).toBe(3);
    expect(leftovers()).toEqual({ agents: [], dirs: [] });

    const timedOut = await cronAgentrun(sb, ['--ephemeral', 'backup_eph', '--askpass', askpass.program, '--timeout', '1', 'sleep', '30'], { env: { TMPDIR: tmp } });
    expect(timedOut.code).toBe(124);
    expect(leftovers()).toEqual({ agents: [], dirs: [] });

    const marker = join(sb.dir, 'started');
    const { child, done } = spawnAgentrun(sb, ['--ephemeral', 'backup_eph', '--askpass', askpass.program, 'sh', '-c', `touch '${marker}'; sleep 30`], { TMPDIR: tmp });
    expect(await waitFor(() => existsSync(marker), 20_000)).toBe(true);
    expect(leftovers().agents.length).toBe(1);
    process.kill(child.pid!, 'SIGTERM');
    const r = await done;
    expect(r.code).toBe(143);
    expect(await waitFor(() => leftovers().agents.every((pid) => !alive(pid)))).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it.each([
    ['writable by others', (dir: string) => chmodSync(dir, 0o777), 'mode 0777'],
    ['owned by another user', (dir: string) => chownSync(dir, 1, 1), 'owned by uid 1'],
  ])('when the key directory is %s then --ephemeral --lock exits 78 without running the job or writing into it', async (_what, spoil, why) => {
    mkdirSync(sb.keydir, { mode: 0o700 });
    try {
      spoil(sb.keydir);
      const marker = join(sb.dir, 'never');
      const r = await cronAgentrun(sb, ['--ephemeral', 'backup_eph', '--askpass', askpass.program, '--lock', 'n', 'sh', '-c', `touch '${marker}'`], { env: { TMPDIR: tmp } });
      expect(r.code, r.stderr).toBe(78);
      expect(r.stderr).toContain(`refusing to use ${sb.keydir}: `);
      expect(r.stderr).toContain(why);
      expect(existsSync(marker)).toBe(false);
      expect(readdirSync(sb.keydir)).toEqual([]);
      expect(leftovers()).toEqual({ agents: [], dirs: [] });
    } finally {
      rmSync(sb.keydir, { recursive: true, force: true });
    }
  });

  it('when no passphrase source works then nothing runs and the exit status is 75', async () => {
    const marker = join(sb.dir, 'never');
    const r = await cronAgentrun(sb, ['--ephemeral', 'backup_eph', 'sh', '-c', `touch '${marker}'`], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/agentrun: .*backup_eph/);
    expect(r.stderr).toContain('agentkeep passphrase set');
    expect(existsSync(marker)).toBe(false);
    expect(leftovers()).toEqual({ agents: [], dirs: [] });
  });
});
