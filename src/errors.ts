// One error type for the whole tool: a stable code, the message, the fix, and the exit status.

/** Exit statuses that are public API (SPEC §6); agentkeep uses the same numbers. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 64,
  tempfail: 75,
  unsafe: 78,
  timeout: 124,
  notExecutable: 126,
  notFound: 127,
  /** EX_SOFTWARE: a bug in agentkeep itself, not in what it was given. */
  software: 70,
} as const;

/** Every failure the tool itself can report, with the exit status it maps to. */
const CODES = {
  USAGE: EXIT.usage,
  UNSAFE_PATH: EXIT.unsafe,
  UNSAFE_HOME: EXIT.unsafe,
  NO_AGENT: EXIT.tempfail,
  NO_IDENTITIES: EXIT.tempfail,
  KEY_NOT_LOADED: EXIT.tempfail,
  LOCK_TIMEOUT: EXIT.tempfail,
  LOCK_HELD: EXIT.tempfail,
  LOCK_COMPROMISED: EXIT.tempfail,
  AGENT_START: EXIT.failure,
  KEY_FILE: EXIT.failure,
  KEY_ADD: EXIT.failure,
  NO_PROMPT: EXIT.failure,
  KEYRING: EXIT.failure,
  IO: EXIT.failure,
  NOT_INSTALLED: EXIT.failure,
  /** The agent answered a request with a failure, or did not answer it (locked, busy, gone): worth another try. */
  AGENT_REQUEST: EXIT.tempfail,
  /** An unexpected exception: a bug to report. */
  INTERNAL: EXIT.software,
} as const;

/** The stable code of every failure the tool reports. */
export type ErrorCode = keyof typeof CODES;

/** A failure with a stable code, a message naming what was found, and a hint naming the fix. */
export class AgentkeepError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'AgentkeepError';
    this.code = code;
    this.hint = hint;
    this.exitCode = CODES[code];
  }
}

/** True for Node system errors such as ENOENT, narrowing the unknown caught value. */
export function isErrno(error: unknown, code?: string): error is NodeJS.ErrnoException {
  return error instanceof Error && !(error instanceof AgentkeepError) && typeof (error as NodeJS.ErrnoException).code === 'string'
    && (code === undefined || (error as NodeJS.ErrnoException).code === code);
}

/** A file error in words ("it does not exist", "permission denied"), for messages that name the file. */
export function errnoText(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT': return 'it does not exist';
    case 'ENOTDIR': return 'a component of its path is not a directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a directory';
    case 'ELOOP': return 'it is a symbolic link';
    default: return error.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '');
  }
}

/**
 * Turns any thrown value into an AgentkeepError, so the CLI never prints a stack trace (unless
 * --debug): a file error keeps its code (exit 1), an agent's refusal or silence is worth another
 * try (75), and anything else is a bug in agentkeep (70) that asks to be reported.
 */
export function asAgentkeepError(error: unknown): AgentkeepError {
  if (error instanceof AgentkeepError) return error;
  if (isErrno(error)) {
    const where = error.path ? ` (${error.path})` : '';
    return new AgentkeepError('IO', `${error.code}: ${error.message.replace(/^\w+: /, '')}${where}`);
  }
  // By name: the agent protocol module imports this one, not the other way round.
  if (error instanceof Error && error.name === 'AgentRequestError') {
    return new AgentkeepError('AGENT_REQUEST', `the ssh-agent did not do what was asked: ${error.message}`,
      'if the agent is locked (ssh-add -x), unlock it with ssh-add -X; if it is busy (a --confirm dialog open), answer it and try again');
  }
  return new AgentkeepError('INTERNAL', `internal error: ${error instanceof Error ? error.message : String(error)}`,
    'this is a bug in agentkeep; please report it with the command line, agentkeep --version, and the output of the same command with --debug');
}
