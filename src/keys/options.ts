// What the key side of a login was asked to do; the CLI's options extend this.

/** The key options of SPEC §4 and §5, independent of how they were parsed. */
export interface KeyOptions {
  keys: string[];
  clear: boolean;
  noask: boolean;
  ignoreMissing: boolean;
  /** How long loaded keys live, in seconds (ssh-add -t); from --timeout. */
  keyLifetimeSec?: number;
  confirm: boolean;
  nogui: boolean;
  keyring: boolean;
  extended: boolean;
  confallhosts: boolean;
  quiet: boolean;
  nolock: boolean;
  /** --lock-wait in milliseconds; undefined means the default for the phase. */
  lockWaitMs?: number;
  /** Options a "run: agentkeep KEY" advice must repeat to reach the same agent (--dir, --host, ...). */
  retryArgs?: string[];
}
