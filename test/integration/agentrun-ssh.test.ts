// The 02:00 backups for real: a real sshd on loopback whose authorized_keys restricts each backup
// key with a forced command, jobs run by agentrun in a cron-like environment through the agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Sandbox } from '../helpers/sandbox.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { cronAgentrun, setupAgent, sshAdd } from '../helpers/agentrun.js';

/** Every file under `root` with its contents, sorted, for comparing trees. */
function tree(root: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push([relative(root, path), readFileSync(path, 'utf8')]);
    }
  };
  walk(root);
  return out;
}

describe('agentrun with a real sshd and restricted backup keys', () => {
  let sb: Sandbox;
  let sshd: Sshd;
  let srv: string;

  beforeAll(async () => {
    sb = new Sandbox('ak-run-ssh-');
    // The client's data.
    srv = join(sb.dir, 'srv');
    mkdirSync(join(srv, 'data/etc/nested'), { recursive: true });
    writeFileSync(join(srv, 'data/etc/hosts'), '127.0.0.1 localhost\n');
    writeFileSync(join(srv, 'data/etc/nested/deep.conf'), 'deep=1\n');
    writeFileSync(join(srv, 'data/readme.txt'), 'backup me\n'.repeat(100));
    writeFileSync(join(srv, 'db.sql'), 'CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n');
    const dump = join(sb.dir, 'dbdump.sh');
    writeFileSync(dump, `#!/bin/sh\n# Only the dump, whatever the caller asked for.\necho "-- dump of db1 (asked: $SSH_ORIGINAL_COMMAND)"\ncat '${join(srv, 'db.sql')}'\n`);
    chmodSync(dump, 0o755);

    sshd = await startSshd(sb);
    const rsyncKey = sb.keygen('backup_rsync');
    const scpKey = sb.keygen('backup_scp');
    const dumpKey = sb.keygen('backup_dump');
    sshd.authorize(`${rsyncKey}.pub`, `from="127.0.0.1",command="/usr/bin/rrsync -ro ${join(srv, 'data')}",restrict`);
    sshd.authorize(`${scpKey}.pub`, `from="127.0.0.1",command="/usr/lib/openssh/sftp-server -R",restrict`);
    sshd.authorize(`${dumpKey}.pub`, `from="127.0.0.1",command="${dump}",restrict`);
    sshd.alias('rsync-src', `${rsyncKey}.pub`);
    sshd.alias('scp-src', `${scpKey}.pub`);
    sshd.alias('db1', `${dumpKey}.pub`);
    const agent = setupAgent(sb);
    sshAdd(sb, agent.sock, rsyncKey, scpKey, dumpKey);
  });

  afterAll(() => sb?.cleanup());

  it('when an rsync pull and an scp pull run under agentrun then they produce identical trees', async () => {
    const viaRsync = join(sb.dir, 'backups/rsync');
    const viaScp = join(sb.dir, 'backups/scp');
    mkdirSync(viaRsync, { recursive: true });
    mkdirSync(viaScp, { recursive: true });
    const ssh = `ssh -F ${sshd.clientConfig}`;
    const r1 = await cronAgentrun(sb, ['--require', 'backup_rsync', 'rsync', '-a', '-e', ssh, 'rsync-src:./', `${viaRsync}/`]);
    expect(r1.code, `${r1.stderr}\n${sshd.log()}`).toBe(0);
    const r2 = await cronAgentrun(sb, ['--require', 'backup_scp', 'scp', '-F', sshd.clientConfig, '-r', '-p', `scp-src:${join(srv, 'data')}/.`, `${viaScp}/`]);
    expect(r2.code, `${r2.stderr}\n${sshd.log()}`).toBe(0);
    const a = tree(viaRsync);
    expect(a.map(([p]) => p)).toEqual(['etc/hosts', 'etc/nested/deep.conf', 'readme.txt']);
    expect(tree(viaScp)).toEqual(a);
  });

  it('when the rsync key tries to write through rrsync -ro then the server refuses', async () => {
    const local = join(sb.dir, 'upload.txt');
    writeFileSync(local, 'x\n');
    const r = await cronAgentrun(sb, ['rsync', '-a', '-e', `ssh -F ${sshd.clientConfig}`, local, 'rsync-src:./']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/read-only/);
    expect(existsSync(join(srv, 'data/upload.txt'))).toBe(false);
  });

  it('when a remote dump is triggered through agentrun then the dump file is written', async () => {
    const out = join(sb.dir, 'backups/db1.sql');
    mkdirSync(join(sb.dir, 'backups'), { recursive: true });
    const r = await cronAgentrun(sb, ['--require', 'backup_dump', '--lock', 'db1-dump', 'sh', '-c', `ssh -F '${sshd.clientConfig}' db1 dbdump.sh > '${out}'`]);
    expect(r.code, `${r.stderr}\n${sshd.log()}`).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('-- dump of db1 (asked: dbdump.sh)');
    expect(text).toContain('INSERT INTO t VALUES (1);');
  });

  it('when the same pull runs without agentrun under cron then ssh cannot authenticate (the agent is what makes it work)', async () => {
    const dest = join(sb.dir, 'backups/noagent');
    mkdirSync(dest, { recursive: true });
    const { cronEnv } = await import('../helpers/agentrun.js');
    const { run } = await import('../helpers/sandbox.js');
    const r = await run('rsync', ['-a', '-e', `ssh -F ${sshd.clientConfig}`, 'rsync-src:./', `${dest}/`], { env: cronEnv(sb) });
    expect(r.code).not.toBe(0);
    expect(readdirSync(dest)).toEqual([]);
  });
});
