import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
afterEach(() => sb.cleanup());

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
// Ownership tests need root (chown); CI runs as root, so there they must run, never skip.
if (!isRoot && process.env.CI === 'true') throw new Error('permissions tests: chown needs root; CI must run them');

describe('refusing unsafe key directories and env files', () => {
  it('when the key directory is group/other-writable then agentkeep refuses with 78 and the chmod that fixes it', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir);
    chmodSync(sb.keydir, 0o775);
    const r = await sb.agentkeep([]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`agentkeep: refusing to use ${sb.keydir}: mode 0775 lets group or others write to it`);
    expect(r.stderr).toContain(`hint: run: chmod 700 '${sb.keydir}'`);
    expect(readdirSync(sb.keydir)).toEqual([]);
    expect(sb.sandboxAgents()).toEqual([]);
  });

  it('when the key directory is a symlink then it is refused and nothing is written through it', async () => {
    sb = new Sandbox();
    const elsewhere = join(sb.dir, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, sb.keydir);
    const r = await sb.agentkeep(['--eval']);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('false;\n');
    expect(r.stderr).toContain('it is a symbolic link');
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it.runIf(isRoot)('when the key directory belongs to another user then it is refused', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    chownSync(sb.keydir, NOBODY, NOBODY);
    const r = await sb.agentkeep([]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`it is owned by uid ${NOBODY}, not by you`);
    expect(readdirSync(sb.keydir)).toEqual([]);
  });

  it('when the env file is a symlink then it is refused and its target is untouched', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    const target = join(sb.dir, 'precious');
    writeFileSync(target, 'precious data\n');
    symlinkSync(target, sb.file('sh'));
    const r = await sb.agentkeep([]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`refusing to use ${sb.file('sh')}: it is a symbolic link`);
    expect(readFileSync(target, 'utf8')).toBe('precious data\n');
  });

  it('when another env file (csh) is a symlink then nothing is written and its target is untouched', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    const target = join(sb.dir, 'precious');
    writeFileSync(target, 'precious data\n');
    symlinkSync(target, sb.file('csh'));
    const r = await sb.agentkeep([]);
    expect(r.code).toBe(78);
    expect(readFileSync(target, 'utf8')).toBe('precious data\n');
    expect(existsSync(sb.file('sh'))).toBe(false);
  });

  it('when the env file is group/other-writable then it is refused with the chmod 600 fix', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    writeFileSync(sb.file('sh'), 'SSH_AUTH_SOCK=/x; export SSH_AUTH_SOCK;\n');
    chmodSync(sb.file('sh'), 0o666);
    const r = await sb.agentkeep([]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`hint: run: chmod 600 '${sb.file('sh')}'`);
  });

  it.runIf(isRoot)('when the env file belongs to another user then it is refused', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    writeFileSync(sb.file('sh'), 'SSH_AUTH_SOCK=/x; export SSH_AUTH_SOCK;\n', { mode: 0o600 });
    chownSync(sb.file('sh'), NOBODY, NOBODY);
    const r = await sb.agentkeep(['--query']);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`owned by uid ${NOBODY}`);
  });

  it.runIf(isRoot)('when the socket the pidfile names belongs to another user then it is never adopted', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    const theirs = sb.startAgent(join(sb.dir, 'theirs.sock'));
    chownSync(theirs.sock, NOBODY, NOBODY);
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${theirs.sock}; export SSH_AUTH_SOCK;\n`, { mode: 0o600 });
    const r = await sb.agentkeep(['--eval'], { env: { SSH_AUTH_SOCK: theirs.sock } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(theirs.sock);
    expect(readFileSync(sb.file('sh'), 'utf8')).not.toContain(theirs.sock);
  });
});
