// Runs keyring operations in a short-lived child Node process that we can kill by PID.
// Measured with @napi-rs/keyring 2.1: against a D-Bus socket that accepts but never answers,
// `getPassword()` blocks the calling thread itself (timers stop, AbortSignal never fires), and a
// blocked worker thread keeps the process from exiting. Only a separate process can be bounded.
import { createRequire } from 'node:module';
import { runChild } from '../child/run.js';

/** One operation on the entry (SERVICE, account). */
export type KeyringOp =
  | { op: 'get'; account: string }
  | { op: 'set'; account: string; secret: string }
  | { op: 'delete'; account: string }
  | { op: 'list' };

/** What one operation gave: a value (string, null, boolean, or account list) or the store's error text. */
export type KeyringResult = { ok: true; value: string | null | boolean | string[] } | { ok: false; message: string };

/** The child either answered every operation, or it could not be run / timed out. */
export type ChildOutcome = { kind: 'done'; results: KeyringResult[] } | { kind: 'timeout' } | { kind: 'failed'; message: string };

// CommonJS run with `node -e`; argv[1] is the absolute path of @napi-rs/keyring's entry.
// The request (with any secret) arrives on stdin and the answer leaves on stdout: pipes only,
// never argv or the environment. The Linux store is pinned to the Secret Service, because the
// default silently falls back to the kernel keyring, which forgets everything at reboot.
const CHILD_SOURCE = String.raw`
const { AsyncEntry, findCredentialsAsync } = require(process.argv[1]);
const opts = { linux: { store: 'secret-service' } };
let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const req = JSON.parse(input);
  input = '';
  const signal = AbortSignal.timeout(req.timeoutMs);
  const out = [];
  for (const op of req.ops) {
    try {
      let value;
      if (op.op === 'list') {
        value = (await findCredentialsAsync(req.service, null, signal)).map((c) => c.account);
      } else {
        const entry = new AsyncEntry(req.service, op.account, opts);
        if (op.op === 'get') value = await entry.getPassword(signal);
        else if (op.op === 'set') { await entry.setPassword(op.secret, signal); value = true; }
        else value = await entry.deleteCredential(signal);
      }
      out.push({ ok: true, value });
    } catch (error) {
      // The innermost cause is the precise one; the outer errors repeat it with prefixes.
      let e = error;
      while (e && e.cause && e.cause.message) e = e.cause;
      out.push({ ok: false, message: (e && e.message) || String(error) });
    }
  }
  process.stdout.write(JSON.stringify(out));
});
`;

/** The absolute path of the keyring binding, resolved from this module (bundle chunk or source). */
function bindingPath(): string {
  return createRequire(import.meta.url).resolve('@napi-rs/keyring');
}

/** Runs `ops` for `service` in one child process, SIGKILLed by PID when `timeoutMs` passes. */
export async function runKeyringChild(service: string, ops: KeyringOp[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ChildOutcome> {
  let binding: string;
  try {
    binding = bindingPath();
  } catch (error) {
    return { kind: 'failed', message: `cannot load @napi-rs/keyring (${error instanceof Error ? error.message : String(error)})` };
  }
  const childEnv = { ...env };
  // A NODE_OPTIONS --require could write to stdout or read our stdin.
  delete childEnv.NODE_OPTIONS;
  const r = await runChild(process.execPath, ['-e', CHILD_SOURCE, binding], {
    env: childEnv, input: JSON.stringify({ service, ops, timeoutMs }), timeoutMs, killSignal: 'SIGKILL',
  });
  if (r.error && r.error.code !== 'ENOBUFS') return { kind: 'failed', message: `cannot run ${process.execPath}: ${r.error.reason}` };
  if (r.timedOut) return { kind: 'timeout' };
  try {
    const results = JSON.parse(r.stdout) as KeyringResult[];
    if (r.code === 0 && Array.isArray(results) && results.length === ops.length) return { kind: 'done', results };
  } catch { /* fall through */ }
  const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
  const detail = r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? r.stderr.trim().split('\n')[0] ?? '';
  return { kind: 'failed', message: `keyring helper failed (${why})${detail ? `: ${detail}` : ''}` };
}
