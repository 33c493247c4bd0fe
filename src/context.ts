// The context every operation receives instead of reading globals: who, where, and how to report.
import type { Paths } from './paths.js';

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
  env: NodeJS.ProcessEnv;
  paths: Paths;
  report: Reporter;
}

/** A reporter that drops everything; for library callers and tests. */
export const silentReporter: Reporter = { info() {}, warn() {}, debug() {} };
