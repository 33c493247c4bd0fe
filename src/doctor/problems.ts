// The problems doctor reports: a stable code (public API, listed in the README), what was found,
// and the fix.

/** Every problem code doctor can report. */
export type ProblemCode =
  | 'KEYDIR_MISSING' | 'UNSAFE_PATH' | 'ENV_FILE_MISSING' | 'ENV_FILE_INVALID' | 'AGENT_NOT_ANSWERING' | 'NO_IDENTITIES'
  | 'KEY_NOT_LOADED' | 'KEY_FILE' | 'AGENTRUN_NOT_ON_CRON_PATH' | 'NODE_NOT_ON_CRON_PATH'
  | 'OTHER_USERS_FILES' | 'JOB_USAGE' | 'JOB_COMMAND_NOT_FOUND' | 'JOB_KEY_NOT_LOADED' | 'JOB_LOG_NOT_WRITABLE'
  | 'JOB_LAST_RUN_FAILED' | 'LOCK_HELD';

/** A problem with a stable code, what was found, and the fix; `job` is the crontab line it concerns. */
export interface Problem {
  code: ProblemCode;
  message: string;
  fix: string;
  job?: number;
}

/** A reason a crontab entry would not run now, with the exit status agentrun (or cron's sh) would give. */
export interface JobIssue {
  code: ProblemCode;
  status: number;
  message: string;
  fix: string;
}
