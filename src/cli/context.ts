// The Context both bins build from the command line's location options and the environment.
import { userInfo } from 'node:os';
import type { Context, Reporter } from '../context.js';
import { assertOwnHome } from '../home-check.js';
import { resolvePaths } from '../paths.js';
import { assertUtf8 } from '../utf8-check.js';
import { procBackend } from '../proc/backend.js';
import type { Io } from './run-cli.js';

/** Where the key directory and socket are, as the user wrote it (--dir, --absolute, --host, socket). */
export interface ContextOptions {
  dir?: string | undefined;
  absolute?: boolean | undefined;
  host?: string | undefined;
  socket?: string | undefined;
}

/** Builds the Context: our uid, HOME (else the password database's; refused if not ours), the resolved paths, `report`. */
export function contextFor(opts: ContextOptions, io: Io, report: Reporter): Context {
  const uid = process.getuid?.() ?? 0;
  // A mistyped AGENTKEEP_PROC_BACKEND is a usage error here, at once, not deep inside a timer.
  procBackend(io.env);
  assertUtf8(io.env.HOME, 'HOME');
  const home = io.env.HOME && io.env.HOME !== '' ? io.env.HOME : userInfo().homedir;
  // The key directory and key names resolve under HOME unless --dir says where to look.
  if (opts.dir === undefined) assertOwnHome(home, uid);
  const paths = resolvePaths({ home, uid, dir: opts.dir, absolute: opts.absolute, host: opts.host, socket: opts.socket });
  return { uid, home, env: io.env, paths, report };
}
