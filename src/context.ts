// The context every operation receives instead of reading globals: who, where, and how to report.
import { assertOwnHome } from './home-check.js';
import { resolvePaths, type Paths } from './paths.js';
import { readSettings, type Settings } from './settings.js';

/** Where modules send progress notes; only the CLI decides what reaches the terminal. */
export interface Reporter {
  /** Normal progress (` * Found existing ssh-agent: 1234`); hidden by --quiet. */
  info(message: string): void;
  /** Something the user should fix or know even with --quiet. */
  warn(message: string): void;
  /** Detail shown only with --debug. */
  debug(message: string): void;
}

/** Everything an operation needs to know about its caller. */
export interface Context {
  uid: number;
  home: string;
  /** The environment children inherit (passed on, never read for meaning). */
  env: NodeJS.ProcessEnv;
  /** What the environment says, parsed once (src/settings.ts). */
  settings: Settings;
  paths: Paths;
  report: Reporter;
}

/** A reporter that drops everything; for library callers and tests. */
export const silentReporter: Reporter = { info() {}, warn() {}, debug() {} };

/** Where the key directory and socket are, as the user wrote it (--dir, --absolute, --host, socket). */
export interface ContextOptions {
  dir?: string | undefined;
  absolute?: boolean | undefined;
  host?: string | undefined;
  socket?: string | undefined;
}

/** The Context of the user with this uid and HOME (refused, exit 78, if HOME is not theirs and no --dir says where to look). */
export function userContext(user: { uid: number; home: string }, opts: ContextOptions, env: NodeJS.ProcessEnv, report: Reporter): Context {
  // The key directory and key names resolve under HOME unless --dir says where to look.
  if (opts.dir === undefined) assertOwnHome(user.home, user.uid);
  const paths = resolvePaths({ home: user.home, uid: user.uid, dir: opts.dir, absolute: opts.absolute, host: opts.host, socket: opts.socket });
  return { uid: user.uid, home: user.home, env, settings: readSettings(env), paths, report };
}

/** The same Context with another environment for children (keychain's --env PATH), its Settings read again. */
export function withEnv(ctx: Context, env: NodeJS.ProcessEnv): Context {
  return { ...ctx, env, settings: readSettings(env) };
}
