// Key arguments, ssh config IdentityFiles, key file inspection, prompt choice and the askpass
// shims, each checked against real files, real ssh-keygen keys and the real /bin/sh.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyPath, resolveKeyArgs } from '../../src/keys/resolve.js';
import { expandIdentityFile, identityFilesInConfig } from '../../src/keys/ssh-config.js';
import { inspectKeyFile, isEncrypted } from '../../src/keys/fingerprint.js';
import { choosePrompt } from '../../src/keys/prompt.js';
import { readSettings } from '../../src/settings.js';
import { AgentkeepError } from '../../src/errors.js';

const SHIM = join(import.meta.dirname, '../../shell/agentkeep-askpass');
const SHIM_FD3 = join(import.meta.dirname, '../../shell/agentkeep-askpass-fd3');
const SHIM_TTY = join(import.meta.dirname, '../../shell/agentkeep-askpass-tty');
let dir: string;
let home: string;
const uid = process.getuid!();

function keygen(name: string, extra: string[] = [], passphrase = ''): string {
  const path = join(home, '.ssh', name);
  const out = spawnSync('ssh-keygen', ['-q', '-N', passphrase, '-C', name, '-f', path, ...extra], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ak-keys-unit-'));
  home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('key arguments', () => {
  it.each([
    ['id_ed25519', '/h/.ssh/id_ed25519'],
    ['~/keys/k', '/h/keys/k'],
    ['/abs/k', '/abs/k'],
    ['./rel/k', '/cwd/rel/k'],
  ])('when the argument is %s then the key file is %s', (arg, want) => {
    expect(keyPath(arg, '/h', '/cwd')).toBe(want);
  });

  it('when sshk: or host: is given without --extended then it is a usage error naming --extended', async () => {
    const error = await resolveKeyArgs(['sshk:k'], { home, env: {}, extended: false, confallhosts: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentkeepError);
    expect((error as AgentkeepError).code).toBe('USAGE');
    expect((error as AgentkeepError).message).toContain('--extended');
  });

  it('when the same file is named by name, sshk:, path and symlink then it is requested once', async () => {
    const k = keygen('dup');
    symlinkSync(k, join(dir, 'link'));
    const keys = await resolveKeyArgs(['dup', 'sshk:dup', k, join(dir, 'link'), 'other'], { home, env: {}, extended: true, confallhosts: false });
    expect(keys.map((x) => x.path)).toEqual([k, join(home, '.ssh', 'other')]);
  });

  it('when sshk: names a path then it is a usage error', async () => {
    await expect(resolveKeyArgs(['sshk:../x'], { home, env: {}, extended: true, confallhosts: false })).rejects.toThrow(/file name in ~\/.ssh/);
  });
});

describe('IdentityFile expansion', () => {
  const tokens = { '%': '%', d: '/h', u: 'bk', i: '1000', l: 'backup1.example.net', L: 'backup1' };
  it.each([
    ['~/.ssh/id', '/h/.ssh/id'],
    ['%d/.ssh/id_%u', '/h/.ssh/id_bk'],
    ['/keys/100%%', '/keys/100%'],
    ['.ssh/rel', '/h/.ssh/rel'],
    ['~/.ssh/k_%h', undefined],
  ])('when IdentityFile is %s then the path is %s', (value, want) => {
    expect(expandIdentityFile(value, '/h', tokens)).toBe(want);
  });

  it('when ~/.ssh/config has IdentityFile lines in every spelling then --confallhosts finds each usable one', () => {
    writeFileSync(join(home, '.ssh', 'config'), [
      'Host a', '  IdentityFile ~/.ssh/a', 'Host b', '\tidentityfile=%d/.ssh/b', 'Host c', '  IDENTITYFILE "~/.ssh/with space"',
      'Host d', '  IdentityFile none', 'Host e', '  IdentityFile ~/.ssh/%r_key', '# IdentityFile ~/.ssh/commented',
    ].join('\n'));
    const notes: string[] = [];
    expect(identityFilesInConfig(home, (m) => notes.push(m))).toEqual([join(home, '.ssh/a'), join(home, '.ssh/b'), join(home, '.ssh/with space')]);
    expect(notes.join('\n')).toContain('%r_key');
  });
});

describe('inspectKeyFile', () => {
  it('when the file does not exist then it is missing', () => {
    expect(inspectKeyFile(join(home, '.ssh', 'nope'), uid).status).toBe('missing');
  });

  it('when the key is readable by group or others then it is too open, as ssh-add would judge', () => {
    const k = keygen('open');
    chmodSync(k, 0o640);
    const st = inspectKeyFile(k, uid);
    expect(st.status).toBe('too-open');
    expect(st.mode).toBe(0o640);
  });

  it('when an OpenSSH key has no .pub then its public key comes from the private file, with its encryption', () => {
    const k = keygen('locked', [], 'secret');
    rmSync(`${k}.pub`);
    const st = inspectKeyFile(k, uid);
    expect(st.status).toBe('ok');
    expect(st.publicKey?.source).toBe('private');
    expect(st.encrypted).toBe(true);
    expect(inspectKeyFile(keygen('bare'), uid).encrypted).toBe(false);
  });

  it('when .pub belongs to another key then the mismatch is reported and the private part wins', () => {
    const k = keygen('mine');
    const other = keygen('theirs');
    const want = inspectKeyFile(k, uid).publicKey!.fingerprint;
    copyFileSync(`${other}.pub`, `${k}.pub`);
    const st = inspectKeyFile(k, uid);
    expect(st.publicKey!.fingerprint).toBe(want);
    expect(st.pubMismatch?.privateFingerprint).toBe(want);
    expect(st.pubMismatch?.pubFingerprint).toBe(inspectKeyFile(other, uid).publicKey!.fingerprint);
  });

  it('when an old PEM key has no .pub then its public key is unknown and its encryption is read from the header', () => {
    const k = keygen('pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], 'secret');
    rmSync(`${k}.pub`);
    const st = inspectKeyFile(k, uid);
    expect(st.status).toBe('ok');
    expect(st.publicKey).toBeUndefined();
    expect(st.encrypted).toBe(true);
    expect(isEncrypted('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n')).toBe(false);
    expect(isEncrypted('garbage')).toBeUndefined();
  });
});

describe('choosePrompt without a terminal', () => {
  it.each([
    [{ SSH_ASKPASS: '/bin/true' }, false, 'askpass'],
    [{ SSH_ASKPASS: 'true', PATH: '/usr/bin:/bin' }, false, 'askpass'],
    [{ SSH_ASKPASS: '/bin/true' }, true, 'none'],
    [{}, false, 'none'],
    [{ SSH_ASKPASS: '' }, false, 'none'],
    [{ SSH_ASKPASS: '/bin/true', SSH_ASKPASS_REQUIRE: 'never' }, false, 'none'],
    [{ SSH_ASKPASS: '/bin/true', SSH_ASKPASS_REQUIRE: 'force' }, true, 'none'],
    [{ SSH_ASKPASS: '/nonexistent/ssh-askpass' }, false, 'none'],
    [{ SSH_ASKPASS: '/etc/passwd' }, false, 'none'],
    [{ SSH_ASKPASS: '/tmp' }, false, 'none'],
    [{ SSH_ASKPASS: 'vitest', PATH: 'node_modules/.bin' }, false, 'none'],
    [{ SSH_ASKPASS: 'vitest', PATH: '' }, false, 'none'],
  ])('when the environment is %j and --nogui is %s then the prompt is %s', (env, nogui, kind) => {
    expect(choosePrompt(readSettings(env), nogui, false).kind).toBe(kind);
  });

  it('when SSH_ASKPASS names no executable program then the reason says so', () => {
    expect(choosePrompt(readSettings({ SSH_ASKPASS: '/nonexistent/ssh-askpass' }), false, false)).toEqual({
      kind: 'none', why: 'there is no terminal and SSH_ASKPASS (/nonexistent/ssh-askpass) is not an executable program',
    });
  });

  it('when SSH_ASKPASS_REQUIRE=force names a program then it is used even where a terminal could be', () => {
    expect(choosePrompt(readSettings({ SSH_ASKPASS: '/bin/true', SSH_ASKPASS_REQUIRE: 'force' }), false, true)).toEqual({ kind: 'askpass', program: '/bin/true' });
  });
});

describe('askpass shims', () => {
  it('when shellcheck reads them then it finds nothing', () => {
    const out = spawnSync('shellcheck', ['-s', 'sh', SHIM, SHIM_FD3, SHIM_TTY], { encoding: 'utf8' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  });

  it('when ssh-add keeps saying "Bad passphrase" then the shim stops calling the program after the allowed tries', () => {
    const state = mkdtempSync(join(dir, 'state-'));
    const prog = join(dir, 'prog');
    const calls = join(dir, 'prog.calls');
    writeFileSync(prog, `#!/bin/sh\necho "$1" >> '${calls}'\necho answer\n`, { mode: 0o755 });
    const env = { PATH: process.env.PATH, AGENTKEEP_ASKPASS_PROGRAM: prog, AGENTKEEP_ASKPASS_STATE: state, AGENTKEEP_ASKPASS_TRIES: '3' };
    const ask = (prompt: string) => spawnSync(SHIM, [prompt], { env, encoding: 'utf8' });
    expect(ask('Enter passphrase for k: ')).toMatchObject({ status: 0, stdout: 'answer\n' });
    expect(ask('Bad passphrase, try again for k: ')).toMatchObject({ status: 0, stdout: 'answer\n' });
    expect(ask('Bad passphrase, try again for k: ')).toMatchObject({ status: 0, stdout: 'answer\n' });
    const last = ask('Bad passphrase, try again for k: ');
    expect(last.status).toBe(1);
    expect(last.stdout).toBe('');
    expect(last.stderr).toContain('giving up');
    expect(existsSync(join(state, 'gaveup'))).toBe(true);
    // The next key ssh-add asks for starts with its own tries.
    expect(ask('Enter passphrase for k2: ')).toMatchObject({ status: 0, stdout: 'answer\n' });
    expect(ask('Bad passphrase, try again for k2: ')).toMatchObject({ status: 0, stdout: 'answer\n' });
    const noState = spawnSync(SHIM, ['Bad passphrase, try again for k: '], { env: { ...env, AGENTKEEP_ASKPASS_STATE: '' }, encoding: 'utf8' });
    expect(noState.status).toBe(1);
  });

  it('when the fd-3 helper has no fd 3, or is told the passphrase was bad, then it answers nothing and fails', () => {
    const none = spawnSync(SHIM_FD3, ['Enter passphrase for k: '], { env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(none.status).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('fd 3');
    const bad = spawnSync(SHIM_FD3, ['Bad passphrase, try again for k: '], { env: {}, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
  });
});
