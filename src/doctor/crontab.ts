// A user crontab as cron(8) reads it (Vixie cron, cronie): comments, `NAME=value` lines that set
// the environment of the entries below them, and entries (five time fields or an @keyword, then
// the command). In the command an unescaped `%` ends the command and starts its stdin.

/** One entry, with the crontab's variables in effect at its line. */
export interface CrontabEntry {
  /** 1-based line number in the crontab. */
  line: number;
  /** `15 2 * * *`, or `@daily` and the like. */
  schedule: string;
  /** The command cron hands to the shell: the text before the first unescaped `%`, `\%` read as `%`. */
  command: string;
  /** What follows that `%` (each further `%` a newline), or null. */
  stdin: string | null;
  /** Variables the crontab set above this line (PATH, SHELL, MAILTO, ...). */
  env: Record<string, string>;
  /** The line number of each variable's setting. */
  envLines: Record<string, number>;
}

const KEYWORDS = new Set(['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** `NAME = value`, the value optionally in matching single or double quotes (cron does no $ expansion). */
function envLine(line: string): { name: string; value: string } | undefined {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
  if (!m) return undefined;
  let value = m[2]!;
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
  return { name: m[1]!, value };
}

/** Splits cron's command field at the first unescaped `%`. */
export function splitPercent(field: string): { command: string; stdin: string | null } {
  let command = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (c === '\\' && field[i + 1] === '%') {
      command += '%';
      i++;
    } else if (c === '%') {
      return { command, stdin: field.slice(i + 1).replace(/(?<!\\)%/g, '\n').replace(/\\%/g, '%') };
    } else {
      command += c;
    }
  }
  return { command, stdin: null };
}

/** Parses a crontab's text; lines that are neither comments, settings nor entries are skipped. */
export function parseCrontab(text: string): CrontabEntry[] {
  const entries: CrontabEntry[] = [];
  const env: Record<string, string> = {};
  const envLines: Record<string, number> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(line)) return;
    const setting = envLine(line);
    if (setting) {
      env[setting.name] = setting.value;
      envLines[setting.name] = index + 1;
      return;
    }
    const keyword = /^\s*(@[a-z]+)\s+(.*)$/.exec(line);
    const fields = keyword ? undefined : /^\s*(\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(.*)$/.exec(line);
    if (keyword && !KEYWORDS.has(keyword[1]!)) return;
    const match = keyword ?? fields;
    if (!match) return;
    entries.push({ line: index + 1, schedule: match[1]!.replace(/\s+/g, ' '), ...splitPercent(match[2]!), env: { ...env }, envLines: { ...envLines } });
  });
  return entries;
}
