// A tiny ssh-agent protocol client over node:net (draft-miller-ssh-agent), with one deadline
// covering connect and reply, so that a socket that accepts and never answers cannot hang us.
import { createConnection } from 'node:net';
import { nodeCrypto } from '../lazy-crypto.js';
import { SshWireError, WireReader, WireWriter } from '../ssh-wire.js';

const SSH_AGENT_FAILURE = 5;
const SSH_AGENT_SUCCESS = 6;
const SSH2_AGENTC_REQUEST_IDENTITIES = 11;
const SSH2_AGENT_IDENTITIES_ANSWER = 12;
const SSH2_AGENTC_REMOVE_IDENTITY = 18;
const SSH2_AGENTC_REMOVE_ALL_IDENTITIES = 19;
const MAX_REPLY = 256 * 1024;

/** Default deadline for one request; a healthy agent answers in well under a millisecond. */
export const AGENT_TIMEOUT_MS = 2000;

/** One identity the agent holds; the fingerprint is computed on first use. */
export interface Identity {
  readonly blob: Buffer;
  readonly comment: string;
  readonly fingerprint: string;
}

/** An Identity whose fingerprint is hashed only when something asks for it. */
export function identityOf(blob: Buffer, comment: string): Identity {
  let fingerprint: string | undefined;
  return { blob, comment, get fingerprint() { return fingerprint ??= fingerprintOf(blob); } };
}

/** How a request failed: no socket, refused (dead), denied, no answer in time, closed, bad reply, agent said no. */
export type AgentErrorKind = 'missing' | 'refused' | 'denied' | 'timeout' | 'closed' | 'protocol' | 'failure' | 'other';

/** A failed request, with a kind the callers can branch on. */
export class AgentRequestError extends Error {
  constructor(readonly kind: AgentErrorKind, message: string) {
    super(message);
    this.name = 'AgentRequestError';
  }
}

/** SHA256 fingerprint of a public key blob, in OpenSSH's `SHA256:...` form. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${nodeCrypto().createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

const KIND_BY_ERRNO: Record<string, AgentErrorKind> = {
  ENOENT: 'missing', ENOTDIR: 'missing', ECONNREFUSED: 'refused', EACCES: 'denied', EPERM: 'denied',
  ENOTSOCK: 'refused', EPIPE: 'closed', ECONNRESET: 'closed',
};

/** Sends one message and returns the reply's type and payload. */
export function request(sock: string, message: Buffer, timeoutMs = AGENT_TIMEOUT_MS): Promise<{ type: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const conn = createConnection({ path: sock });
    const finish = (error: AgentRequestError | undefined, reply?: { type: number; body: Buffer }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      if (error) reject(error); else resolve(reply!);
    };
    const timer = setTimeout(() => finish(new AgentRequestError('timeout', `no answer from ${sock} within ${timeoutMs} ms`)), timeoutMs);
    conn.on('connect', () => conn.write(message));
    conn.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      const reply = new WireReader(Buffer.concat(chunks));
      const len = reply.uint32();
      if (len < 1 || len > MAX_REPLY) return finish(new AgentRequestError('protocol', `${sock} sent a reply of impossible length ${len}`));
      if (reply.remaining >= len) finish(undefined, { type: reply.byte(), body: reply.bytes(len - 1) });
    });
    conn.on('error', (error: NodeJS.ErrnoException) => {
      const kind = KIND_BY_ERRNO[error.code ?? ''] ?? 'other';
      finish(new AgentRequestError(kind, `cannot talk to ${sock}: ${error.code ?? error.message}`));
    });
    conn.on('close', () => finish(new AgentRequestError('closed', `${sock} closed the connection without answering`)));
  });
}

/** Parses an SSH2_AGENT_IDENTITIES_ANSWER body. */
export function parseIdentities(body: Buffer): Identity[] {
  const ids: Identity[] = [];
  const reader = new WireReader(body);
  try {
    const count = reader.uint32();
    for (let i = 0; i < count; i++) {
      const blob = Buffer.from(reader.string()); // a copy, so the identity does not pin the whole reply
      ids.push(identityOf(blob, reader.stringUtf8()));
    }
  } catch (error) {
    if (error instanceof SshWireError) throw new AgentRequestError('protocol', `truncated identities answer: ${error.message}`);
    throw error;
  }
  return ids;
}

/** Asks the agent for its identities (message 11); the liveness test for every socket. */
export async function requestIdentities(sock: string, timeoutMs = AGENT_TIMEOUT_MS): Promise<Identity[]> {
  const reply = await request(sock, new WireWriter().byte(SSH2_AGENTC_REQUEST_IDENTITIES).frame(), timeoutMs);
  if (reply.type !== SSH2_AGENT_IDENTITIES_ANSWER) {
    throw new AgentRequestError('protocol', `${sock} answered message type ${reply.type} to an identities request`);
  }
  return parseIdentities(reply.body);
}

async function expectSuccess(sock: string, message: Buffer, what: string, timeoutMs: number): Promise<void> {
  const reply = await request(sock, message, timeoutMs);
  if (reply.type === SSH_AGENT_SUCCESS) return;
  if (reply.type === SSH_AGENT_FAILURE) throw new AgentRequestError('failure', `the agent at ${sock} refused to ${what}`);
  throw new AgentRequestError('protocol', `${sock} answered message type ${reply.type} when asked to ${what}`);
}

/** Removes every identity from the agent (message 19). */
export function removeAllIdentities(sock: string, timeoutMs = AGENT_TIMEOUT_MS): Promise<void> {
  return expectSuccess(sock, new WireWriter().byte(SSH2_AGENTC_REMOVE_ALL_IDENTITIES).frame(), 'remove all identities', timeoutMs);
}

/** Removes one identity, given its public key blob (message 18). */
export function removeIdentity(sock: string, blob: Buffer, timeoutMs = AGENT_TIMEOUT_MS): Promise<void> {
  return expectSuccess(sock, new WireWriter().byte(SSH2_AGENTC_REMOVE_IDENTITY).string(blob).frame(), 'remove an identity', timeoutMs);
}
