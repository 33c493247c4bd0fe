// A child that could not be started, in words: ENOENT is "not found", EACCES "permission denied".

/** Why a child never ran: the errno code, the reason in words, and a sentence naming the command. */
export interface SpawnFailure {
  code: string;
  reason: string;
  message: string;
}

/** The failure of `command` to start, from the error spawn() gave or threw. */
export function spawnFailure(command: string, error: unknown): SpawnFailure {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
  const reason = code === 'ENOENT' ? 'not found'
    : code === 'EACCES' ? 'permission denied (not executable, or a directory)'
      : error instanceof Error ? error.message : String(error);
  return { code, reason, message: `cannot run ${command}: ${reason}` };
}
