// Before a cron job starts: the env file is there and safe, its agent answers, holds at least
// one identity and every required key. Never starts an agent, never prompts, never writes.
import { lstatSync, readdirSync } from 'node:fs';
import { AgentkeepError, isErrno } from '../errors.js';
import type { Context } from '../context.js';
import { findAgent, type Agent } from '../agent/discover.js';
import { checkKeydir } from '../envfile/store.js';
import { quoteSh } from '../shells/quote.js';
import { keyPath } from '../keys/resolve.js';
import { publicKeyOf } from '../keys/fingerprint.js';

/** A key the job requires: how it was named and its fingerprint. */
export interface RequiredKey {
  arg: string;
  fingerprint: string;
}

/** What the user wrote that locates the key directory, repeated in every suggested fix. */
export interface WhereOptions {
  dir?: string | undefined;
  absolute?: boolean | undefined;
  host?: string | undefined;
}

/** The exact `agentkeep ...` command that loads the keys this job needs. */
export function fixCommand(where: WhereOptions, keys: string[]): string {
  const words = ['agentkeep'];
  if (where.dir !== undefined) words.push('--dir', where.dir);
  if (where.absolute) words.push('--absolute');
  if (where.host !== undefined) words.push('--host', where.host);
  const named = keys.filter((k) => !k.startsWith('SHA256:'));
  const cmd = [...words, ...named].map(quoteSh).join(' ');
  return named.length > 0 ? cmd : `${cmd} KEY (the key your cron jobs use; agentrun --require KEY checks for it)`;
}

/** Names of other hosts' `*-sh` files in the key directory (written under another host name). */
export function otherHostFiles(keydir: string, host: string): string[] {
  let names: string[];
  try {
    names = readdirSync(keydir);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('-sh') && n !== `${host}-sh`).sort();
}

/** Resolves each --require argument to a fingerprint without a passphrase. */
export function resolveRequired(args: string[], home: string): RequiredKey[] {
  return args.map((arg) => {
    if (arg.startsWith('SHA256:')) return { arg, fingerprint: arg };
    const path = keyPath(arg, home);
    let key;
    try {
      key = publicKeyOf(path);
    } catch (error) {
      if (!isErrno(error)) throw error;
      throw new AgentkeepError('KEY_FILE', `cannot read the key ${arg} (${path}): ${error.code}`,
        `make ${path}.pub readable, or name the key by fingerprint: --require SHA256:...`);
    }
    if (!key) {
      throw new AgentkeepError('KEY_FILE', `cannot learn the fingerprint of --require ${arg}: neither ${path}.pub nor an OpenSSH private key ${path} is readable`,
        `fix the name, or give the fingerprint instead: --require SHA256:... (ssh-keygen -lf KEY.pub prints it)`);
    }
    return { arg, fingerprint: key.fingerprint };
  });
}

/** Finds the usable agent for a job, or throws the one error that says what is wrong and the fix. */
export async function preflight(ctx: Context, where: WhereOptions, required: RequiredKey[]): Promise<Agent> {
  const { keydir, sh, host } = ctx.paths;
  const fix = `log in as ${ctx.settings.user ?? 'the job\'s user'} and run: ${fixCommand(where, required.map((r) => r.arg))}`;
  if (!checkKeydir(keydir, ctx.uid)) {
    throw new AgentkeepError('NO_AGENT', `no ssh-agent: the key directory ${keydir} does not exist (agentkeep has not run for this user)`, fix);
  }
  const { agent, pidfile } = await findAgent(ctx, { inherit: true, allowForwarded: false, persist: false });
  if (!agent) {
    // Only when the env file itself is missing (a socket that is gone also "does not exist").
    const others = lstatSync(sh, { throwIfNoEntry: false }) === undefined ? otherHostFiles(keydir, host) : [];
    if (others.length > 0) {
      throw new AgentkeepError('NO_AGENT', `no ssh-agent: ${sh} does not exist, but ${others.join(', ')} ${others.length > 1 ? 'do' : 'does'} (written under another host name?)`,
        `if that is this machine, pass its name: agentrun --host ${others[0]!.slice(0, -3)} ...; otherwise ${fix}`);
    }
    const problem = pidfile.problem ?? `no usable ssh-agent for ${sh}`;
    throw new AgentkeepError('NO_AGENT', problem.startsWith('no ') ? problem : `no usable ssh-agent: ${problem}`, fix);
  }
  if (agent.identities.length === 0) {
    throw new AgentkeepError('NO_IDENTITIES', `the ssh-agent at ${agent.sock} answers but holds no keys (after a reboot, or cleared at login)`, fix);
  }
  if (required.length === 0) return agent;
  const loaded = new Set(agent.identities.map((id) => id.fingerprint));
  const missing = required.filter((r) => !loaded.has(r.fingerprint));
  if (missing.length > 0) {
    const held = agent.identities.map((id) => `${id.fingerprint}${id.comment ? ` ${id.comment}` : ''}`).join(', ');
    throw new AgentkeepError('KEY_NOT_LOADED',
      `required key${missing.length > 1 ? 's' : ''} not loaded in the ssh-agent at ${agent.sock}: ${missing.map((m) => m.arg === m.fingerprint ? m.arg : `${m.arg} (${m.fingerprint})`).join(', ')}; it holds ${held}`,
      `log in as ${ctx.settings.user ?? 'the job\'s user'} and run: ${fixCommand(where, missing.map((m) => m.arg))}`);
  }
  return agent;
}
