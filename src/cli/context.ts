// The Context both bins build from the command line's location options and the environment.
import { userInfo } from 'node:os';
import { userContext, type Context, type ContextOptions, type Reporter } from '../context.js';
import { assertUtf8 } from '../utf8-check.js';
import { procBackend } from '../proc/backend.js';
import type { Io } from './run-cli.js';

/** Builds the Context: our uid, HOME (else the password database's; refused if not ours), the resolved paths, `report`. */
export function contextFor(opts: ContextOptions, io: Io, report: Reporter): Context {
  const uid = process.getuid?.() ?? 0;
  // A mistyped AGENTKEEP_PROC_BACKEND is a usage error here, at once, not deep inside a timer.
  procBackend(io.env);
  assertUtf8(io.env.HOME, 'HOME');
  const home = io.env.HOME && io.env.HOME !== '' ? io.env.HOME : userInfo().homedir;
  return userContext({ uid, home }, opts, io.env, report);
}
