// Decides whether a socket path leads to a usable agent: a real socket (not a link), owned by
// us, that answers an identities request in time. The answer decides, never `kill -0`.
import { lstatSync } from 'node:fs';
import { isErrno } from '../errors.js';
import { AgentRequestError, requestIdentities, type AgentErrorKind, type Identity } from './protocol.js';

/** A usable agent's identities, or why the socket is not usable (`kind`: how a request failed). */
export type ProbeResult =
  | { usable: true; identities: Identity[] }
  | { usable: false; why: 'missing' | 'not-socket' | 'symlink' | 'foreign'; detail: string }
  | { usable: false; why: 'silent'; kind: AgentErrorKind; detail: string };

/** Checks the socket file, then asks the agent for its identities within `timeoutMs`. */
export async function probeSocket(sock: string, uid: number, timeoutMs?: number): Promise<ProbeResult> {
  let st;
  try {
    st = lstatSync(sock);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return { usable: false, why: 'missing', detail: `${sock} does not exist` };
    return { usable: false, why: 'missing', detail: `cannot inspect ${sock}: ${(error as Error).message}` };
  }
  if (st.isSymbolicLink()) return { usable: false, why: 'symlink', detail: `${sock} is a symbolic link` };
  if (!st.isSocket()) return { usable: false, why: 'not-socket', detail: `${sock} is not a socket` };
  if (st.uid !== uid) return { usable: false, why: 'foreign', detail: `${sock} is owned by uid ${st.uid}, not by you (uid ${uid})` };
  try {
    return { usable: true, identities: await requestIdentities(sock, timeoutMs) };
  } catch (error) {
    if (error instanceof AgentRequestError) return { usable: false, why: 'silent', kind: error.kind, detail: error.message };
    throw error;
  }
}
