// `agentkeep doctor`: what a cron job of this user would find — key directory and env files,
// the agent they name, its keys, agentrun and node on cron's PATH — each problem with its fix.
// Read-only: never starts an agent, never writes a file.
import { accessSync, constants, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { AgentkeepError, asAgentkeepError } from '../errors.js';
import type { Context } from '../context.js';
import { describeMode, readEnvFileText, unsafeReason } from '../envfile/store.js';
import { parseShEnv } from '../envfile/parse.js';
import { probeSocket } from '../agent/probe.js';
import { isLiveSshAgent } from '../agent/agent-process.js';
import { describeBlob } from '../agent/keyblob.js';
import { fixCommand, otherHostFiles, preflight, resolveRequired, type WhereOptions } from '../run/preflight.js';

/** cron's PATH when the crontab sets none (Vixie cron, cronie, systemd-cron). */
export const CRON_DEFAULT_PATH = '/usr/bin:/bin';

/** One file or directory, as found. */
export interface FileCheck {
  path: string;
  exists: boolean;
  type: 'file' | 'dir' | 'symlink' | 'socket' | 'other' | null;
  owner: number | null;
  mode: string | null;
  ok: boolean;
}

/** A problem with a stable code, what was found, and the fix. */
export interface Problem {
  code: 'KEYDIR_MISSING' | 'UNSAFE_PATH' | 'ENV_FILE_MISSING' | 'ENV_FILE_INVALID' | 'AGENT_NOT_ANSWERING' | 'NO_IDENTITIES'
    | 'KEY_NOT_LOADED' | 'KEY_FILE' | 'AGENTRUN_NOT_ON_CRON_PATH' | 'NODE_NOT_ON_CRON_PATH';
  message: string;
  fix: string;
}

/** The whole report; `agentkeep doctor --json` prints exactly this (shape version 1). */
export interface DoctorReport {
  version: 1;
  healthy: boolean;
  /**
   * What `agentrun` (without --ephemeral) would exit with before running a job, from its own
   * preflight: 0, 75 (temporary), 78 (unsafe), or 1 (a --require key file cannot be read).
   */
  agentrunStatus: number;
  uid: number;
  host: { name: string; source: 'option' | 'uname' };
  keydir: FileCheck;
  envFiles: Array<FileCheck & { flavour: 'sh' | 'csh' | 'fish' | 'envfile' }>;
  /** `*-sh` files of other host names in the key directory. */
  otherHostEnvFiles: string[];
  agent: {
    socket: string | null;
    pid: number | null;
    pidAlive: boolean | null;
    answering: boolean;
    detail: string | null;
    identities: Array<{ fingerprint: string; comment: string; type: string; bits: number }>;
  };
  required: Array<{ key: string; fingerprint: string | null; loaded: boolean }>;
  cron: { path: string; agentrun: string | null; node: string | null };
  problems: Problem[];
}

/** What doctor inspects: the context, the --require keys and the PATH cron will use. */
export interface DoctorOptions extends WhereOptions {
  /** The caller's context; its SSH_AUTH_SOCK/SSH_AGENT_PID are ignored, as cron has none. */
  ctx: Context;
  user: string;
  require: string[];
  cronPath: string;
  /** The caller's own PATH, to say where agentrun and node are when cron cannot see them. */
  userPath: string;
}

/** Checks one path; when it is unsafe or of the wrong type, records the fix under its path in `fixes`. */
function checkPath(path: string, uid: number, want: 'file' | 'dir', fixes: Map<string, string>): FileCheck {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return { path, exists: false, type: null, owner: null, mode: null, ok: false };
  const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSocket() ? 'socket' : 'other';
  // The same rule agentkeep and agentrun apply (unsafeReason), plus the expected type.
  const unsafe = unsafeReason(path, st, uid, want);
  const fix = unsafe?.fix ?? (type === want ? undefined : `move it away: mv '${path}' '${path}.old'`);
  if (fix !== undefined) fixes.set(path, fix);
  return { path, exists: true, type, owner: st.uid, mode: describeMode(st.mode), ok: fix === undefined };
}

/** The first executable NAME in a colon-separated PATH. */
export function which(name: string, path: string): string | null {
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (lstatSync(candidate).isDirectory()) continue;
      return candidate;
    } catch { /* not here */ }
  }
  return null;
}

/**
 * agentrun's own checks, run as cron would run them (no inherited agent), so that the status
 * predicted here cannot drift from what a job gets. Read-only like the rest of doctor.
 */
async function agentrunStatus(opts: DoctorOptions): Promise<number> {
  const { SSH_AUTH_SOCK: _sock, SSH_AGENT_PID: _pid, ...env } = opts.ctx.env;
  const ctx: Context = { ...opts.ctx, env };
  try {
    await preflight(ctx, opts, resolveRequired(opts.require, ctx.home));
    return 0;
  } catch (error) {
    return asAgentkeepError(error).exitCode;
  }
}

/** Inspects everything a cron job would depend on. */
export async function inspect(opts: DoctorOptions): Promise<DoctorReport> {
  const { paths, uid, home } = opts.ctx;
  const problems: Problem[] = [];
  const login = `log in as ${opts.user} and run: ${fixCommand(opts, opts.require)}`;
  const fail = (p: Problem) => { problems.push(p); };
  const fixes = new Map<string, string>();
  const report: DoctorReport = {
    version: 1, healthy: false, agentrunStatus: await agentrunStatus(opts), uid,
    host: { name: paths.host, source: opts.host !== undefined ? 'option' : 'uname' },
    keydir: checkPath(paths.keydir, uid, 'dir', fixes),
    envFiles: (['sh', 'csh', 'fish', 'envfile'] as const).map((flavour) => ({ flavour, ...checkPath(paths[flavour], uid, 'file', fixes) })),
    otherHostEnvFiles: otherHostFiles(paths.keydir, paths.host),
    agent: { socket: null, pid: null, pidAlive: null, answering: false, detail: null, identities: [] },
    required: [],
    cron: { path: opts.cronPath, agentrun: which('agentrun', opts.cronPath), node: which('node', opts.cronPath) },
    problems,
  };

  if (!report.keydir.exists) {
    fail({ code: 'KEYDIR_MISSING', message: `the key directory ${paths.keydir} does not exist: agentkeep has not run for this user`, fix: login });
  } else if (!report.keydir.ok) {
    fail({ code: 'UNSAFE_PATH', message: `the key directory ${paths.keydir} is unsafe (${report.keydir.type}, uid ${report.keydir.owner}, mode ${report.keydir.mode})`, fix: fixes.get(paths.keydir) ?? '' });
  }
  for (const file of report.envFiles) {
    if (file.exists && !file.ok) {
      fail({ code: 'UNSAFE_PATH', message: `the env file ${file.path} is unsafe (${file.type}, uid ${file.owner}, mode ${file.mode})`, fix: fixes.get(file.path) ?? '' });
    }
  }

  const sh = report.envFiles[0]!;
  if (report.keydir.exists && !sh.exists) {
    const others = report.otherHostEnvFiles;
    fail({
      code: 'ENV_FILE_MISSING',
      message: `${paths.sh} does not exist${others.length > 0 ? `, but ${others.join(', ')} ${others.length > 1 ? 'do' : 'does'} (written under another host name?)` : ''}`,
      fix: others.length > 0 ? `if that is this machine, pass --host ${others[0]!.slice(0, -3)} to agentrun (and agentkeep); otherwise ${login}` : login,
    });
  } else if (sh.ok) {
    let text: string | undefined;
    try {
      text = readEnvFileText(paths.sh, uid);
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      fail({ code: 'UNSAFE_PATH', message: error.message, fix: error.hint ?? '' });
    }
    const parsed = text === undefined ? undefined : parseShEnv(text);
    if (parsed && !parsed.ok) {
      fail({ code: 'ENV_FILE_INVALID', message: `${paths.sh} is not a valid env file (${parsed.reason})`, fix: `remove it and let agentkeep rewrite it: rm '${paths.sh}'; then ${login}` });
    } else if (parsed?.ok) {
      const { sock, pid } = parsed.env;
      report.agent.socket = sock;
      report.agent.pid = pid ?? null;
      report.agent.pidAlive = pid === undefined ? null : isLiveSshAgent(pid, uid);
      const probe = await probeSocket(sock, uid);
      report.agent.answering = probe.usable;
      if (!probe.usable) {
        report.agent.detail = probe.detail;
        fail({ code: 'AGENT_NOT_ANSWERING', message: `no ssh-agent is answering at ${sock} (from ${paths.sh}): ${probe.detail}`, fix: login });
      } else {
        report.agent.identities = probe.identities.map((id) => {
          const { bits, label } = describeBlob(id.blob);
          return { fingerprint: id.fingerprint, comment: id.comment, type: label, bits };
        });
        if (probe.identities.length === 0) {
          fail({ code: 'NO_IDENTITIES', message: `the ssh-agent at ${sock} answers but holds no keys (after a reboot, or cleared at login)`, fix: login });
        }
      }
    }
  }

  const loaded = new Set(report.agent.identities.map((id) => id.fingerprint));
  for (const arg of opts.require) {
    try {
      const [key] = resolveRequired([arg], home);
      const isLoaded = loaded.has(key!.fingerprint);
      report.required.push({ key: arg, fingerprint: key!.fingerprint, loaded: isLoaded });
      if (!isLoaded && report.agent.answering && report.agent.identities.length > 0) {
        fail({ code: 'KEY_NOT_LOADED', message: `${arg} (${key!.fingerprint}) is not loaded in the ssh-agent at ${report.agent.socket}`, fix: `log in as ${opts.user} and run: ${fixCommand(opts, [arg])}` });
      }
    } catch (error) {
      if (!(error instanceof AgentkeepError)) throw error;
      report.required.push({ key: arg, fingerprint: null, loaded: false });
      fail({ code: 'KEY_FILE', message: error.message, fix: error.hint ?? '' });
    }
  }

  const crontabPath = (name: string) => {
    const found = which(name, opts.userPath);
    return found
      ? `${name} is ${found} on your PATH; put this line at the top of the crontab: PATH=${found.slice(0, found.lastIndexOf('/'))}:${opts.cronPath}`
      : `install ${name === 'node' ? 'Node.js >= 20' : 'agentkeep (npm install -g agentkeep)'} and add its directory to the crontab's PATH= line`;
  };
  if (!report.cron.agentrun) {
    fail({ code: 'AGENTRUN_NOT_ON_CRON_PATH', message: `agentrun is not on cron's PATH (${opts.cronPath}), so "agentrun ..." lines in the crontab fail with "not found"`, fix: crontabPath('agentrun') });
  }
  if (!report.cron.node) {
    fail({ code: 'NODE_NOT_ON_CRON_PATH', message: `node is not on cron's PATH (${opts.cronPath}); agentrun runs node from PATH and needs it`, fix: crontabPath('node') });
  }
  report.healthy = problems.length === 0;
  return report;
}
