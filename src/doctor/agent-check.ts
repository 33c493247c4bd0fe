// The agent a user's env file names, judged as a cron job would meet it: whether the file can be
// read and parsed, whether the agent answers and with which keys, and when it started. Read-only.
import { lstatSync } from 'node:fs';
import { AgentkeepError } from '../errors.js';
import type { Context } from '../context.js';
import { readEnvFileText } from '../envfile/store.js';
import { parseShEnv } from '../envfile/parse.js';
import type { AgentEnv } from '../envfile/render.js';
import { probeSocket } from '../agent/probe.js';
import { findAgentBoundTo, isLiveSshAgent } from '../agent/agent-process.js';
import { describeBlob } from '../agent/keyblob.js';
import type { Problem } from './problems.js';
import { processStartTime } from './times.js';

/** The agent the env file names, as found; `agentkeep doctor --json` prints it as `agent`. */
export interface AgentReport {
  socket: string | null;
  pid: number | null;
  pidAlive: boolean | null;
  answering: boolean;
  detail: string | null;
  identities: Array<{ fingerprint: string; comment: string; type: string; bits: number }>;
  /** When the agent started (ISO): its process's start, else its socket's mtime; null when unknown. */
  started: string | null;
  startedFrom: 'process' | 'socket' | null;
}

/** The agent before the env file is read: nothing known, not answering. */
export function unknownAgent(): AgentReport {
  return { socket: null, pid: null, pidAlive: null, answering: false, detail: null, identities: [], started: null, startedFrom: null };
}

/** Reads the env file at `envPath` and records in `agent` what the agent it names answers; returns the problems met. */
export async function judgeAgent(agent: AgentReport, envPath: string, uid: number, login: string): Promise<Problem[]> {
  const read = readAgentEnv(envPath, uid, login);
  if (read.problem) return [read.problem];
  if (!read.env) return [];
  return probeAgent(agent, read.env, envPath, uid, login);
}

/** The socket and pid the env file names, or the problem that stops doctor reading them; neither when the file is gone. */
function readAgentEnv(envPath: string, uid: number, login: string): { env?: AgentEnv; problem?: Problem } {
  let text: string | undefined;
  try {
    text = readEnvFileText(envPath, uid);
  } catch (error) {
    if (!(error instanceof AgentkeepError)) throw error;
    return { problem: { code: 'UNSAFE_PATH', message: error.message, fix: error.hint ?? '' } };
  }
  if (text === undefined) return {};
  const parsed = parseShEnv(text);
  if (!parsed.ok) {
    return { problem: { code: 'ENV_FILE_INVALID', message: `${envPath} is not a valid env file (${parsed.reason})`, fix: `remove it and let agentkeep rewrite it: rm '${envPath}'; then ${login}` } };
  }
  return { env: parsed.env };
}

/** Asks the agent at the env file's socket for its keys, recording them in `agent`; returns the problems met. */
async function probeAgent(agent: AgentReport, env: AgentEnv, envPath: string, uid: number, login: string): Promise<Problem[]> {
  const { sock, pid } = env;
  agent.socket = sock;
  agent.pid = pid ?? null;
  agent.pidAlive = pid === undefined ? null : isLiveSshAgent(pid, uid);
  const probe = await probeSocket(sock, uid);
  agent.answering = probe.usable;
  if (!probe.usable) {
    agent.detail = probe.detail;
    return [{ code: 'AGENT_NOT_ANSWERING', message: `no ssh-agent is answering at ${sock} (from ${envPath}): ${probe.detail}`, fix: login }];
  }
  agent.identities = probe.identities.map((id) => {
    const { bits, label } = describeBlob(id.blob);
    return { fingerprint: id.fingerprint, comment: id.comment, type: label, bits };
  });
  if (probe.identities.length > 0) return [];
  return [{ code: 'NO_IDENTITIES', message: `the ssh-agent at ${sock} answers but holds no keys (after a reboot, or cleared at login)`, fix: login }];
}

/** Records when the agent started: its live process's start time, else the socket file's mtime (set when an agent bound it). */
export function agentStart(agent: AgentReport, ctx: Context, boot: Date | null): void {
  const socket = agent.socket ?? ctx.paths.socket;
  const pid = agent.pidAlive && agent.pid !== null ? agent.pid : findAgentBoundTo(socket, ctx.uid);
  const started = pid === undefined ? null : processStartTime(pid, boot);
  if (started !== null) {
    agent.started = started.toISOString();
    agent.startedFrom = 'process';
    return;
  }
  const st = lstatSync(socket, { throwIfNoEntry: false });
  if (st?.isSocket()) {
    agent.started = st.mtime.toISOString();
    agent.startedFrom = 'socket';
  }
}
