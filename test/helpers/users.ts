// Sandbox Unix users for tests that need a second (or third) account: each gets a unique
// name, a home inside the test's own directory, and is removed again with everything it owned
// that the test knows of (its crontab, its processes by PID through the Sandbox).
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AGENTKEEP, AGENTRUN, run, withNode, type RunOptions, type RunResult, type Sandbox } from './sandbox.js';

/** Root may create users; CI must be able to. */
export const CAN_CREATE_USERS = process.getuid?.() === 0;

/** A throwaway account that lives for one test file. */
export interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  env: NodeJS.ProcessEnv;
}

/** Fails loudly under CI when the suite cannot create users (it must run these tests). */
export function requireUsers(what: string): void {
  if (!CAN_CREATE_USERS && process.env.CI === 'true') throw new Error(`${what}: needs root to create sandbox users; CI must run it`);
}

/**
 * Creates `ak<tag><random>` (at most 32 chars, a system account with no login shell of its
 * own) whose home is a fresh 0700 directory inside the sandbox; `sb.dir` is opened to 0711
 * so the user can reach it. Call `removeUser` in afterAll.
 */
export function createUser(sb: Sandbox, tag: string, opts: { shell?: string } = {}): SandboxUser {
  const name = `ak${tag.replace(/[^a-z0-9]/g, '').slice(0, 16)}${randomBytes(3).toString('hex')}`;
  const home = join(sb.dir, name);
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--home-dir', home, '--shell', opts.shell ?? '/bin/sh', '--user-group', name], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`useradd ${name}: ${made.stderr}`);
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
  chmodSync(sb.dir, 0o711);
  mkdirSync(home, { mode: 0o700 });
  chownSync(home, uid, gid);
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  chownSync(join(home, '.ssh'), uid, gid);
  const env = { ...sb.env, HOME: home, USER: name, LOGNAME: name };
  return { name, uid, gid, home, env };
}

/** Removes the account and its crontab; its processes must already be gone (Sandbox.cleanup). */
export function removeUser(user: SandboxUser | undefined): void {
  if (!user) return;
  spawnSync('crontab', ['-u', user.name, '-r'], { stdio: 'ignore' });
  // Anything still running as the user was started by this test; kill it by PID, never by name.
  const ps = spawnSync('ps', ['-o', 'pid=', '-u', String(user.uid)], { encoding: 'utf8' });
  for (const pid of (ps.stdout ?? '').split('\n').map(Number).filter((p) => p > 0)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  spawnSync('userdel', [user.name], { stdio: 'ignore' });
}

/** setpriv arguments that run `cmd args` as the user (real and effective ids, no extra groups). */
export function asUser(user: SandboxUser, cmd: string, args: string[]): string[] {
  return ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', '--', cmd, ...args];
}

/** Runs a program as the user with the user's sandbox environment (plus `opts.env`). */
export function runAs(user: SandboxUser, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('setpriv', asUser(user, cmd, args), { ...opts, env: { ...user.env, ...opts.env } });
}

/** agentkeep as the user. */
export function agentkeepAs(user: SandboxUser, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runAs(user, process.execPath, [AGENTKEEP, ...args], opts);
}

/** agentrun as the user. */
export function agentrunAs(user: SandboxUser, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runAs(user, AGENTRUN, args, { ...opts, env: withNode({ ...user.env, ...opts.env }) });
}

/** Generates an ed25519 key in the user's ~/.ssh, owned by the user. */
export function keygenAs(user: SandboxUser, name: string, passphrase = ''): string {
  const path = join(user.home, '.ssh', name);
  const r = spawnSync('setpriv', asUser(user, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path]), { env: user.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen as ${user.name}: ${r.stderr}`);
  return path;
}
