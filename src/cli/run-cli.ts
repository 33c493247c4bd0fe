// The one seam where errors become messages and exit statuses, shared by both bins.
import { AgentkeepError, asAgentkeepError, EXIT } from '../errors.js';

/** The process-facing side of a CLI run, replaceable in tests. */
export interface Io {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stderrIsTTY: boolean;
}

/** The real process's Io. */
export function processIo(): Io {
  return {
    argv: process.argv.slice(2),
    env: process.env,
    stdout: (text) => { process.stdout.write(text); },
    stderr: (text) => { process.stderr.write(text); },
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}

/** What a commander exception means: help or version was shown (exit 0), or a usage error it already printed (64). */
export function commanderOutcome(error: unknown): 'shown' | 'usage' | undefined {
  // By code, not instanceof, so that agentrun (which does not use commander) never loads it.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('commander.')) return undefined;
  return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 'shown' : 'usage';
}

/** Prints `NAME: message` and `hint: fix` for an error and returns its exit status. */
export function reportError(name: string, error: unknown, io: Io, debug = false): number {
  // commander already printed its message (usage errors) or the help/version text.
  const outcome = commanderOutcome(error);
  if (outcome !== undefined) return outcome === 'shown' ? EXIT.ok : EXIT.usage;
  const err = asAgentkeepError(error);
  io.stderr(`${name}: ${err.message}\n`);
  if (err.hint) io.stderr(`hint: ${err.hint}\n`);
  if (debug && !(error instanceof AgentkeepError) && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return err.exitCode;
}

/** Runs a CLI main function as the process (named `name` in ps), setting the exit status once at the end. */
export function runAsProcess(main: (io: Io) => Promise<number>, name?: string): void {
  if (name !== undefined) process.title = name;
  // A closed stdout (`agentkeep --query | head -0`) must not become a crash.
  process.stdout.on('error', () => {});
  // Nor a stderr that went away (a closed cron mail pipe): the job and its status come first.
  process.stderr.on('error', () => {});
  main(processIo()).then((code) => { process.exitCode = code; }, (error: unknown) => {
    // Only a bug gets here (each main reports its own errors): the one seam still decides the words and the status.
    process.exitCode = reportError(name ?? 'agentkeep', error, processIo(), process.argv.includes('--debug'));
  });
}
