// Test askpass programs: each reads the passphrase from a mode-0600 file that only the test
// wrote (so it is never in any argv or environment), counts its calls, and may sleep.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from './sandbox.js';

export interface TestAskpass {
  /** The program to put in SSH_ASKPASS. */
  program: string;
  /** How many times it has been called so far. */
  calls(): number;
  /** The prompts it was called with, in order. */
  prompts(): string[];
  /** Changes what it answers from now on. */
  setPassphrase(passphrase: string): void;
}

/** Writes a counting askpass into the sandbox (outside HOME) that answers `passphrase`. */
export function makeAskpass(sb: Sandbox, passphrase: string, opts: { sleepS?: number; name?: string } = {}): TestAskpass {
  const name = opts.name ?? 'askpass';
  const secret = join(sb.dir, `${name}.secret`);
  const calls = join(sb.dir, `${name}.calls`);
  const program = join(sb.dir, name);
  const setPassphrase = (p: string) => {
    writeFileSync(secret, p, { mode: 0o600 });
    chmodSync(secret, 0o600);
  };
  setPassphrase(passphrase);
  writeFileSync(calls, '');
  writeFileSync(program, [
    '#!/bin/sh',
    `printf '%s\\n' "$1" >> '${calls}'`,
    opts.sleepS ? `sleep ${opts.sleepS}` : '',
    `cat '${secret}'`,
    '',
  ].join('\n'), { mode: 0o755 });
  const prompts = () => readFileSync(calls, 'utf8').split('\n').filter((l) => l !== '');
  return { program, calls: () => prompts().length, prompts, setPassphrase };
}

/** The SHA256 fingerprints the agent at `sock` holds, sorted, as the real ssh-add -l lists them. */
export function loadedFingerprints(sock: string): string[] {
  const out = spawnSync('ssh-add', ['-l', '-E', 'sha256'], { env: { PATH: process.env.PATH, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
  if (out.status === 1) return [];
  if (out.status !== 0) throw new Error(`ssh-add -l failed (${out.status}): ${out.stderr}`);
  return [...out.stdout.matchAll(/SHA256:\S+/g)].map((m) => m[0]).sort();
}

/** The SHA256 fingerprint of a public key file, as ssh-keygen itself computes it. */
export function keygenFingerprint(pubPath: string): string {
  const out = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath], { encoding: 'utf8' });
  const fp = /SHA256:\S+/.exec(out.stdout)?.[0];
  if (out.status !== 0 || !fp) throw new Error(`ssh-keygen -l failed on ${pubPath}: ${out.stderr}`);
  return fp;
}
