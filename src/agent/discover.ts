// Finding or starting the one agent (SPEC §3): the pidfile, then the environment, then, under
// the lock, adopting an agent already at our stable socket or starting a new one.
import { lstatSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentkeepError } from '../errors.js';
import type { Context, Reporter } from '../context.js';
import { parseShEnv } from '../envfile/parse.js';
import { checkKeydir, ensureKeydir, readEnvFileText, writeEnvFiles, writeFileAtomic } from '../envfile/store.js';
import { acquireLock } from '../lock/lock.js';
import { probeSocket } from './probe.js';
import { socketHoldersVisible, socketListener } from '../proc/sockets.js';
import { findAgentBoundTo, isLiveSshAgent, pidServesSocket } from './agent-process.js';
import type { Identity } from './protocol.js';
import { startSshAgent } from './spawn.js';

/** A usable agent and how it was found. */
export interface Agent {
  sock: string;
  /** The local ssh-agent process; undefined for a forwarded or unidentified agent. */
  pid: number | undefined;
  identities: Identity[];
  source: 'pidfile' | 'environment' | 'forwarded' | 'adopted' | 'started';
}

/** How to look for an existing agent (SPEC §3 steps 1–2). */
export interface FindOptions {
  inherit: boolean;
  allowForwarded: boolean;
  /** Write the env files when the pidfile needs repair or an inherited agent is adopted. */
  persist: boolean;
}

/** How to look for, and if needed start, the agent (SPEC §3 step 3). */
export interface EnsureOptions extends FindOptions {
  lock: boolean;
  lockWaitMs: number;
  agentLifetimeSec?: number | undefined;
}

/** What the pidfile said, for messages: its agent, or why it was not usable. */
export interface PidfileState {
  agent?: Agent;
  problem?: string;
}

type Owner = { kind: 'local'; pid: number } | { kind: 'unknown' } | { kind: 'foreign'; name: string; pid: number };

/**
 * Who serves a socket: a local ssh-agent of ours, another process (sshd: forwarded), or unknown.
 * A PID hint counts only if that ssh-agent holds the socket: a stale SSH_AGENT_PID next to a
 * forwarded SSH_AUTH_SOCK must not make the forwarded socket look local. Without /proc (the ps
 * backend) the holder itself cannot be checked: --debug says so, and the agent's `-a SOCK` decides.
 */
function socketOwner(sock: string, uid: number, pidHint: number | undefined, report: Reporter): Owner {
  const unchecked = socketHoldersVisible() ? undefined : `which process holds ${sock} cannot be checked without /proc (ps backend)`;
  if (pidHint !== undefined && isLiveSshAgent(pidHint, uid)) {
    const serves = pidServesSocket(pidHint, sock);
    if (serves === undefined && unchecked) report.debug(`${unchecked}; taking ssh-agent ${pidHint} (started without -a) at its word, as the socket answers`);
    if (serves !== false) return { kind: 'local', pid: pidHint };
  }
  const listener = socketListener(sock);
  if (listener && listener.name === 'ssh-agent' && listener.uid === uid) return { kind: 'local', pid: listener.pid };
  if (listener) return { kind: 'foreign', name: listener.name, pid: listener.pid };
  // Unprivileged, another process's fds are hidden (ssh-agent is non-dumpable): try `-a SOCK`.
  const bound = findAgentBoundTo(sock, uid);
  if (bound === undefined && unchecked) report.debug(`${unchecked}, and no ssh-agent of ours was started with -a ${sock}: its holder stays unknown (as for a forwarded agent)`);
  return bound !== undefined ? { kind: 'local', pid: bound } : { kind: 'unknown' };
}

/** Step 1: the agent named in `H-sh`, if its socket answers. Throws if the file is unsafe. */
export async function agentFromPidfile(ctx: Context, persist: boolean): Promise<PidfileState> {
  if (!checkKeydir(ctx.paths.keydir, ctx.uid)) return { problem: `${ctx.paths.keydir} does not exist` };
  const text = readEnvFileText(ctx.paths.sh, ctx.uid);
  if (text === undefined) return { problem: `${ctx.paths.sh} does not exist` };
  const parsed = parseShEnv(text);
  if (!parsed.ok) {
    ctx.report.debug(`ignoring ${ctx.paths.sh}: ${parsed.reason}`);
    return { problem: `${ctx.paths.sh} is not a valid env file (${parsed.reason})` };
  }
  const { sock, pid } = parsed.env;
  const probe = await probeSocket(sock, ctx.uid);
  if (!probe.usable) {
    ctx.report.debug(`pidfile agent not usable: ${probe.detail}`);
    return { problem: `no ssh-agent is answering at ${sock} (from ${ctx.paths.sh}): ${probe.detail}` };
  }
  const owner = socketOwner(sock, ctx.uid, pid, ctx.report);
  if (owner.kind === 'foreign' && owner.name === 'sshd') {
    return { problem: `${ctx.paths.sh} names a forwarded agent (${sock}, served by sshd); agentkeep never persists those` };
  }
  const realPid = owner.kind === 'local' ? owner.pid : undefined;
  if (realPid !== pid && owner.kind !== 'unknown') {
    ctx.report.debug(`pidfile PID ${pid ?? '(none)'} is not the agent's; it is ${realPid ?? '(none)'}`);
    if (persist) writeEnvFiles(ctx.paths, { sock, pid: realPid }, ctx.uid);
  }
  return { agent: { sock, pid: owner.kind === 'unknown' ? pid : realPid, identities: probe.identities, source: 'pidfile' } };
}

/**
 * agentkeep's own agent process, found without asking it anything (it may be busy or hung):
 * the ssh-agent that holds the socket named in `H-sh`, or else the one at the stable socket.
 */
export function ownAgentPid(ctx: Context): number | undefined {
  const socks: string[] = [];
  const text = checkKeydir(ctx.paths.keydir, ctx.uid) ? readEnvFileText(ctx.paths.sh, ctx.uid) : undefined;
  const parsed = text === undefined ? undefined : parseShEnv(text);
  if (parsed?.ok) {
    const { sock, pid } = parsed.env;
    if (pid !== undefined && isLiveSshAgent(pid, ctx.uid) && pidServesSocket(pid, sock) !== false) return pid;
    socks.push(sock);
  }
  socks.push(ctx.paths.socket);
  for (const sock of socks) {
    const owner = socketOwner(sock, ctx.uid, undefined, ctx.report);
    if (owner.kind === 'local') return owner.pid;
  }
  return undefined;
}

/** Step 2: SSH_AUTH_SOCK from the environment; a local agent is adopted, a forwarded one only allowed. */
export async function agentFromEnvironment(ctx: Context, opts: FindOptions): Promise<Agent | undefined> {
  const sock = ctx.settings.inheritedSock;
  if (sock === undefined) return undefined;
  if (!sock.startsWith('/')) {
    ctx.report.debug(`ignoring SSH_AUTH_SOCK=${sock}: not an absolute path`);
    return undefined;
  }
  const probe = await probeSocket(sock, ctx.uid);
  if (!probe.usable) {
    ctx.report.debug(`inherited SSH_AUTH_SOCK not usable: ${probe.detail}`);
    return undefined;
  }
  const owner = socketOwner(sock, ctx.uid, ctx.settings.inheritedPid, ctx.report);
  if (owner.kind === 'local') {
    if (opts.persist) writeEnvFiles(ctx.paths, { sock, pid: owner.pid }, ctx.uid);
    return { sock, pid: owner.pid, identities: probe.identities, source: 'environment' };
  }
  const what = owner.kind === 'foreign' ? `served by ${owner.name} (pid ${owner.pid})` : 'served by no local ssh-agent we can identify';
  if (!opts.allowForwarded) {
    ctx.report.debug(`not using inherited ${sock}: ${what}; pass --ssh-allow-forwarded to use it`);
    return undefined;
  }
  ctx.report.debug(`using forwarded agent ${sock} (${what}); it is not written to the env files`);
  return { sock, pid: undefined, identities: probe.identities, source: 'forwarded' };
}

/** Steps 1 and 2: an existing usable agent, or undefined. Never starts anything. */
export async function findAgent(ctx: Context, opts: FindOptions): Promise<{ agent?: Agent; pidfile: PidfileState }> {
  const pidfile = await agentFromPidfile(ctx, opts.persist);
  if (pidfile.agent) return { agent: pidfile.agent, pidfile };
  const inherited = opts.inherit ? await agentFromEnvironment(ctx, opts) : undefined;
  return inherited ? { agent: inherited, pidfile } : { pidfile };
}

/** Prepares the stable socket path: adopts an agent answering there, or clears a dead socket. */
async function adoptOrClearStableSocket(ctx: Context): Promise<Agent | undefined> {
  const sock = ctx.paths.socket;
  const probe = await probeSocket(sock, ctx.uid);
  if (probe.usable) {
    const owner = socketOwner(sock, ctx.uid, undefined, ctx.report);
    return { sock, pid: owner.kind === 'local' ? owner.pid : undefined, identities: probe.identities, source: 'adopted' };
  }
  if (probe.why === 'missing') return undefined;
  if (probe.why === 'silent' && probe.kind === 'refused') {
    ctx.report.debug(`removing dead socket ${sock}`);
    unlinkSync(sock);
    return undefined;
  }
  if (probe.why === 'silent') {
    // Something is alive there (a busy agent, say, with a --confirm dialog open): never orphan it.
    throw new AgentkeepError('NO_AGENT', `an agent at ${sock} accepts connections but does not answer (${probe.detail})`,
      'wait and try again; if it stays stuck, stop it with: agentkeep --stop mine');
  }
  throw new AgentkeepError('UNSAFE_PATH', `refusing to start an agent at ${sock}: ${probe.detail}`,
    `remove it yourself if it is safe to: rm '${sock}'`);
}

/** Starts ssh-agent at the stable socket and waits until it answers. */
async function startAtStableSocket(ctx: Context, opts: EnsureOptions): Promise<Agent> {
  const sock = ctx.paths.socket;
  let pid: number;
  try {
    ({ pid } = await startSshAgent(sock, ctx.env, opts.agentLifetimeSec));
  } catch (error) {
    // Another process bound the stable path first (possible only with --nolock): use its agent.
    const raced = lstatSync(sock, { throwIfNoEntry: false }) ? await adoptOrClearStableSocket(ctx) : undefined;
    if (raced) return raced;
    throw error;
  }
  const probe = await probeSocket(sock, ctx.uid);
  if (!probe.usable) throw new AgentkeepError('AGENT_START', `ssh-agent started (pid ${pid}) but does not answer: ${probe.detail}`);
  return { sock, pid, identities: probe.identities, source: 'started' };
}

/** Step 3, under the lock: look again, adopt the agent at the stable socket, or start one. */
async function startUnderLock(ctx: Context, opts: EnsureOptions, assertHeld: () => void): Promise<Agent> {
  const again = await agentFromPidfile(ctx, true);
  if (again.agent) return again.agent;
  if (ctx.paths.socketNote) ctx.report.debug(ctx.paths.socketNote);
  const socketDir = dirname(ctx.paths.socket);
  const record = ctx.paths.shortSocketRecord;
  if (record?.fresh) writeFileAtomic(record.file, `${record.dir}\n`, ctx.uid);
  if (socketDir !== ctx.paths.keydir) ensureKeydir(socketDir, ctx.uid);
  let agent = await adoptOrClearStableSocket(ctx);
  if (agent) {
    ctx.report.info(`Adopted ssh-agent already running at ${agent.sock}${agent.pid ? `: ${agent.pid}` : ''}`);
  } else {
    assertHeld();
    ctx.report.info('Starting ssh-agent...');
    agent = await startAtStableSocket(ctx, opts);
  }
  assertHeld();
  try {
    writeEnvFiles(ctx.paths, { sock: agent.sock, pid: agent.pid }, ctx.uid);
  } catch (error) {
    // An agent nobody can find again (the env files were not written: a full disk, say) is only a
    // loaded gun left lying around: stop the one we just started.
    if (agent.source === 'started' && agent.pid !== undefined) stopStartedAgent(agent.pid);
    throw error;
  }
  return agent;
}

/** SIGTERM to an ssh-agent this very call started (by PID, our own child), so it removes its socket. */
function stopStartedAgent(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch { /* already gone */ }
}

/** Finds the agent or starts it (SPEC §3); many concurrent callers end with exactly one agent. */
export async function ensureAgent(ctx: Context, opts: EnsureOptions): Promise<Agent> {
  const found = await findAgent(ctx, opts);
  if (found.agent) return found.agent;
  ensureKeydir(ctx.paths.keydir, ctx.uid);
  if (!opts.lock) return startUnderLock(ctx, opts, () => {});
  const outcome = await acquireLock(ctx.paths.lock, {
    waitMs: opts.lockWaitMs,
    purpose: 'starting the agent',
    onWait: () => ctx.report.debug('another agentkeep is starting the agent; waiting'),
    whileWaiting: async () => (await agentFromPidfile(ctx, false)).agent,
  });
  if (!outcome.acquired) return outcome.result;
  try {
    return await startUnderLock(ctx, opts, outcome.assertHeld);
  } finally {
    await outcome.release();
  }
}
