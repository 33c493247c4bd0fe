// The Context of the calling process: its uid, HOME and environment, with the location options.
import { userInfo } from 'node:os';
import { userContext, type Context, type ContextOptions, type Reporter } from '../context.js';
import { assertUtf8 } from '../utf8-check.js';
import { selectProcBackend } from '../proc/backend.js';
import type { Io } from './run-cli.js';

/** Builds the Context: our uid, HOME (else the password database's; refused if not ours), the resolved paths and Settings, `report`. */
export function contextFor(opts: ContextOptions, io: Io, report: Reporter): Context {
  const uid = process.getuid?.() ?? 0;
  assertUtf8(io.env.HOME, 'HOME');
  const home = io.env.HOME && io.env.HOME !== '' ? io.env.HOME : userInfo().homedir;
  // Settings are read here, once: a mistyped AGENTKEEP_PROC_BACKEND is a usage error at once, not deep inside a timer.
  const ctx = userContext({ uid, home }, opts, io.env, report);
  selectProcBackend(ctx.settings.procBackend);
  return ctx;
}
