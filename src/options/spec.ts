// One declaration per option (its spelling, value type, help, older spellings), and the small
// parser and help renderer that agentrun uses. agentkeep's commander program is built from the
// same declarations (src/cli/commander-options.ts), so an option's rules live in one place.
import { badValue, type ValueParser } from './values.js';

/** One option, declared once: commander's flag syntax, its help line and how its value is read. */
export interface OptionSpec {
  /** As commander writes them: `-q, --quiet`, `--lock-wait <duration>`, `--lock [name]` (value optional). */
  flags: string;
  help: string;
  /** How the value is read and checked; absent for a flag without a value. */
  value?: ValueParser<unknown>;
  /** Given more than once, the values are collected in order. */
  repeat?: boolean;
  /** Older spellings still accepted (`--lockwait`), never shown in help. */
  aliases?: string[];
  /** Accepted but left out of help. */
  hidden?: boolean;
  /** Ends option parsing where it stands (help, version). */
  endsParsing?: boolean;
}

/** The parts of `flags`: the spellings, the result key, and the value's placeholder. */
export interface Flags {
  short?: string;
  long: string;
  /** The key in the parsed values, camelCased as commander does: `--lock-wait` → `lockWait`. */
  key: string;
  valueName?: string;
  valueOptional: boolean;
}

const parsedFlags = new WeakMap<OptionSpec, Flags>();

/** Splits a spec's `flags` into its parts (once per spec: every start reads each table). */
export function flagsOf(spec: OptionSpec): Flags {
  const known = parsedFlags.get(spec);
  if (known !== undefined) return known;
  const flags = parseFlags(spec);
  parsedFlags.set(spec, flags);
  return flags;
}

function parseFlags(spec: OptionSpec): Flags {
  // `-q, --quiet`, `--lock-wait <duration>`, `-c, --confhost [host]`: split by hand, no regex to compile at every start.
  const parts = spec.flags.split(' ');
  const short = parts[0]!.endsWith(',') ? parts.shift()!.slice(0, -1) : undefined;
  const [long = '', value, ...rest] = parts;
  const bracket = value?.[0];
  const closes = bracket === '<' ? '>' : bracket === '[' ? ']' : undefined;
  const wellFormed = long.startsWith('--') && long.length > 2 && rest.length === 0
    && (short === undefined || (short.length === 2 && short[0] === '-'))
    && (value === undefined || (closes !== undefined && value.endsWith(closes) && value.length > 2));
  if (!wellFormed) throw new Error(`option flags not understood: ${spec.flags}`);
  const key = long.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  return { ...(short ? { short } : {}), long, key, ...(value ? { valueName: value.slice(1, -1) } : {}), valueOptional: bracket === '[' };
}

/** Replaces each older spelling by the current one (`--lockwait=5` → `--lock-wait=5`), up to `--`. */
export function rewriteAliases(argv: string[], specs: readonly OptionSpec[]): string[] {
  const current = new Map<string, string>();
  for (const spec of specs) for (const alias of spec.aliases ?? []) current.set(alias, flagsOf(spec).long);
  if (current.size === 0) return argv;
  const end = argv.indexOf('--');
  return argv.map((word, i) => {
    if (end >= 0 && i >= end) return word;
    const eq = word.indexOf('=');
    const name = eq > 0 ? word.slice(0, eq) : word;
    const to = current.get(name);
    return to === undefined ? word : to + (eq > 0 ? word.slice(eq) : '');
  });
}

/** What `parseOptions` found. */
export interface ParsedOptions {
  /** By key; a repeated option's values as an array; a flag as true. */
  values: Record<string, unknown>;
  /** The words after the options: from the first that is not an option, or after `--`. */
  operands: string[];
  /** The option whose optional value was taken from the next word (`--lock NAME`), for hints. */
  valueFromNextWord?: { option: string; word: string };
  /** The option that ended parsing early (`--help`), if any. */
  endedBy?: string;
}

/**
 * POSIX-style parsing that stops at the first word that is not an option (or after `--`): what
 * follows is a command and its own words, never ours. `--name=value` and `--name value` both work.
 */
export function parseOptions(argv: string[], specs: readonly OptionSpec[], usageHint: string): ParsedOptions {
  const byName = new Map<string, { spec: OptionSpec; flags: Flags }>();
  for (const spec of specs) {
    const flags = flagsOf(spec);
    byName.set(flags.long, { spec, flags });
    if (flags.short) byName.set(flags.short, { spec, flags });
    // Older spellings are looked up here, never rewritten: the command's own words stay as given.
    for (const alias of spec.aliases ?? []) byName.set(alias, { spec, flags });
  }
  const words = argv;
  const out: ParsedOptions = { values: {}, operands: [] };
  let i = 0;
  for (; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') { i++; break; }
    if (!word.startsWith('-') || word === '-') break;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq > 0 ? word.slice(0, eq) : word;
    const found = byName.get(name);
    if (!found) {
      // `--lock rsync -a`: the optional value swallowed the command's name, and its options look like ours.
      const after = out.valueFromNextWord && words[i - 1] === out.valueFromNextWord.word ? out.valueFromNextWord : undefined;
      if (after === undefined) throw badValue(`unknown option ${JSON.stringify(word)}`, usageHint);
      const what = `${after.option} ${byName.get(after.option)!.flags.valueName}`;
      throw badValue(`unknown option ${JSON.stringify(word)}; "${after.word}" was taken as the ${what}: without one write ${after.option} -- ${after.word} ...`,
        `write ${after.option}=${byName.get(after.option)!.flags.valueName!.toUpperCase()} COMMAND..., or ${after.option} -- COMMAND...`);
    }
    const { spec, flags } = found;
    let raw: string | undefined = eq > 0 ? word.slice(eq + 1) : undefined;
    if (flags.valueName === undefined) {
      if (raw !== undefined) throw badValue(`${name} takes no value, got ${JSON.stringify(word)}`, usageHint);
    } else if (raw === undefined) {
      const next = words[i + 1];
      if (flags.valueOptional) {
        // As commander does: an optional value is the next word unless that looks like an option.
        if (next !== undefined && !next.startsWith('-')) { raw = next; i++; out.valueFromNextWord = { option: name, word: next }; }
      } else {
        if (next === undefined) throw badValue(`${name} needs a value`, usageHint);
        raw = next;
        i++;
      }
    }
    const value = raw === undefined ? true : spec.value ? spec.value(raw, name) : raw;
    if (spec.repeat) out.values[flags.key] = [...((out.values[flags.key] as unknown[] | undefined) ?? []), value];
    else out.values[flags.key] = value;
    if (spec.endsParsing) { out.endedBy = flags.long; return out; }
  }
  out.operands = words.slice(i);
  return out;
}

/** The option lines of a help text: spellings and placeholder on the left, help wrapped on the right. */
export function renderOptionHelp(specs: readonly OptionSpec[], width = 92): string {
  const shown = specs.filter((spec) => !spec.hidden).map((spec) => {
    const f = flagsOf(spec);
    const value = f.valueName === undefined ? '' : f.valueOptional ? `[=${f.valueName.toUpperCase()}]` : ` ${f.valueName.toUpperCase()}`;
    return { left: `${f.short ? `${f.short}, ` : ''}${f.long}${value}`, help: spec.help };
  });
  const column = Math.min(24, Math.max(...shown.map((s) => s.left.length)) + 2);
  const lines: string[] = [];
  for (const { left, help } of shown) {
    const pad = left.length + 2 > column ? '\n' + ' '.repeat(column + 2) : ' '.repeat(column - left.length);
    lines.push(`  ${left}${pad}${wrap(help, width - column - 2).join(`\n${' '.repeat(column + 2)}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) { lines.push(line); line = word; } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}
