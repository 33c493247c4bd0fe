// Running ssh-add: once for all missing keys, prompting on the terminal or through the user's
// askpass (behind a shim that bounds retries), or fed a passphrase we hold through fd 3.
import { spawn, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentkeepError, isErrno } from '../errors.js';
import { ASKPASS_TRIES } from './prompt.js';
import { shellFile } from './shell-dir.js';

/** A non-interactive ssh-add (fd 3) that has not finished by then is killed. */
const FD3_TIMEOUT_MS = 30_000;

export interface SshAddOptions {
  sock: string;
  paths: string[];
  /** 'none': the keys need no passphrase, and ssh-add must not find a way to ask for one. */
  prompt: { kind: 'terminal' } | { kind: 'askpass'; program: string } | { kind: 'none' };
  lifetimeSec?: number | undefined;
  confirm: boolean;
  quiet: boolean;
  env: NodeJS.ProcessEnv;
}

function sshAddArgs(paths: string[], o: { lifetimeSec?: number | undefined; confirm?: boolean | undefined; quiet?: boolean | undefined }): string[] {
  const args: string[] = [];
  if (o.quiet) args.push('-q');
  if (o.confirm) args.push('-c');
  if (o.lifetimeSec !== undefined) args.push('-t', String(o.lifetimeSec));
  return [...args, '--', ...paths];
}

function baseEnv(env: NodeJS.ProcessEnv, sock: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, SSH_AUTH_SOCK: sock };
  delete out.AGENTKEEP_ASKPASS_PROGRAM;
  delete out.AGENTKEEP_ASKPASS_STATE;
  delete out.AGENTKEEP_ASKPASS_TRIES;
  return out;
}

function waitExit(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      reject(isErrno(error, 'ENOENT') ? new AgentkeepError('KEY_ADD', 'ssh-add is not in PATH', 'install the OpenSSH client') : error);
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Runs one ssh-add for `paths`, prompting as chosen; its output goes to our stderr (stdout may be eval'ed). */
export async function runSshAdd(o: SshAddOptions): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (o.paths.length === 0) throw new AgentkeepError('KEY_ADD', 'internal: ssh-add called without key files');
  const env = baseEnv(o.env, o.sock);
  let state: string | undefined;
  let stdio: StdioOptions;
  if (o.prompt.kind === 'none') {
    Object.assign(env, { SSH_ASKPASS: 'false', SSH_ASKPASS_REQUIRE: 'force' });
    stdio = ['ignore', 2, 2];
  } else if (o.prompt.kind === 'terminal') {
    // ssh-add reads the passphrase from /dev/tty; keep it from choosing an askpass instead.
    env.SSH_ASKPASS_REQUIRE = 'never';
    stdio = [0, 2, 2];
  } else {
    // The state directory only counts wrong answers; it never holds a passphrase.
    state = mkdtempSync(join(tmpdir(), 'agentkeep-askpass-'));
    Object.assign(env, {
      SSH_ASKPASS: shellFile('agentkeep-askpass'), SSH_ASKPASS_REQUIRE: 'force',
      AGENTKEEP_ASKPASS_PROGRAM: o.prompt.program, AGENTKEEP_ASKPASS_STATE: state, AGENTKEEP_ASKPASS_TRIES: String(ASKPASS_TRIES),
    });
    stdio = ['ignore', 2, 2];
  }
  try {
    return await waitExit(spawn('ssh-add', sshAddArgs(o.paths, o), { env, stdio }));
  } finally {
    if (state) rmSync(state, { recursive: true, force: true });
  }
}

export interface PassphraseAddOptions {
  lifetimeSec?: number | undefined;
  confirm?: boolean | undefined;
  env: NodeJS.ProcessEnv;
}

/** Adds keys with a passphrase we hold, via a pipe on ssh-add's fd 3 (never argv/env/file); throws KEY_ADD on any failure, never loops. */
export async function addKeysWithPassphrase(sock: string, keyPaths: string[], passphrase: string | Buffer, opts: PassphraseAddOptions): Promise<void> {
  if (keyPaths.length === 0) throw new AgentkeepError('KEY_ADD', 'addKeysWithPassphrase needs at least one key file');
  const env = baseEnv(opts.env, sock);
  Object.assign(env, { SSH_ASKPASS: shellFile('agentkeep-askpass-fd3'), SSH_ASKPASS_REQUIRE: 'force' });
  delete env.DISPLAY;
  const child = spawn('ssh-add', sshAddArgs(keyPaths, { ...opts, quiet: true }), { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  const fd3 = child.stdio[3] as NodeJS.WritableStream & { on(event: 'error', cb: () => void): void };
  fd3.on('error', () => { /* ssh-add exited without reading: its status tells why */ });
  fd3.end(passphrase);
  const timer = setTimeout(() => child.kill('SIGKILL'), FD3_TIMEOUT_MS);
  let result;
  try {
    result = await waitExit(child);
  } finally {
    clearTimeout(timer);
  }
  if (result.code === 0) return;
  const what = result.signal ? `was killed (${result.signal})` : `exited with status ${result.code}`;
  const detail = output.trim().split('\n').filter((l) => l !== '').join('; ');
  throw new AgentkeepError('KEY_ADD', `ssh-add ${what} adding ${keyPaths.join(', ')}${detail ? `: ${detail}` : ''}`,
    'check the passphrase; keys that share one are added together, a key with a different passphrase needs its own call');
}
