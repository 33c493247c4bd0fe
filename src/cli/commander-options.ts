// commander, driven by the option declarations (src/options/spec.ts): the agentkeep bin's one
// grammar (its outcomes are read in run-cli.ts, which agentrun shares without loading commander).
import { Command, Option } from 'commander';
import { flagsOf, type OptionSpec } from '../options/spec.js';
import type { Io } from './run-cli.js';

/** The commander Option for a declaration: same flags, help, value check and repetition. */
function commanderOption(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.help);
  const parse = spec.value;
  const name = flagsOf(spec).long;
  if (parse) {
    if (spec.repeat) option.argParser((raw: string, previous: unknown[] | undefined) => [...(previous ?? []), parse(raw, name)]);
    else option.argParser((raw: string) => parse(raw, name));
  }
  if (spec.hidden) option.hideHelp();
  return option;
}

/** A commander program for `name` with these declarations, its output and errors routed through `io`. */
export function commanderProgram(name: string, specs: readonly OptionSpec[], io: Io, opts: { helpToStderr?: boolean } = {}): Command {
  const program = new Command(name).exitOverride().showSuggestionAfterError(true).configureOutput({
    // Under --eval, stdout is evaluated by a shell: help and version text must never reach it.
    writeOut: opts.helpToStderr ? io.stderr : io.stdout,
    writeErr: io.stderr,
    outputError: (text, write) => write(`${name}: ${text.replace(/^error: /, '')}hint: see ${name} --help\n`),
  });
  for (const spec of specs) {
    const flags = flagsOf(spec);
    if (flags.long === '--help') program.helpOption(spec.flags, spec.help);
    else if (flags.long === '--version') continue; // added with the version text by the caller
    else program.addOption(commanderOption(spec));
  }
  return program;
}
