// A small sh word splitter for crontab command lines, enough for doctor to find `agentrun` and
// its arguments: quotes, backslashes, `$VAR`/`${VAR}` and a leading `~` expand as sh would;
// redirections are dropped; `;`, `&&`, `||`, `|`, `&` separate simple commands. Anything it
// cannot know without running the shell (`$(...)`, backquotes, `${VAR:-x}`) is kept as written
// and the command is marked `dynamic`.

/** One simple command: its leading `NAME=value` assignments and its words, expanded. */
export interface SimpleCommand {
  assignments: Array<{ name: string; value: string }>;
  words: string[];
  /** True when a word holds a substitution doctor did not expand. */
  dynamic: boolean;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** A word as expanded (`value`) and as written (`raw`). */
interface Word { value: string; raw: string }

/** Where the splitter is in the text, and what the current command has shown so far. */
interface Scan {
  text: string;
  /** The index of the next character to read. */
  i: number;
  vars: (name: string) => string | undefined;
  /** The current command holds a substitution that was kept as written. */
  dynamic: boolean;
}

/** Splits `text` into its simple commands; `vars` answers `$NAME` (undefined expands to ""). */
export function splitCommands(text: string, vars: (name: string) => string | undefined): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  const scan: Scan = { text, i: 0, vars, dynamic: false };
  let words: Word[] = [];
  const finish = () => {
    const command = simpleCommand(words, scan.dynamic);
    if (command) commands.push(command);
    words = [];
    scan.dynamic = false;
  };

  while (scan.i < text.length) {
    const c = text[scan.i]!;
    if (c === ' ' || c === '\t') { scan.i++; continue; }
    if (c === '#') break;
    if (c === '\n' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
      finish();
      scan.i++;
      continue;
    }
    if (c === '<' || c === '>') {
      skipRedirection(scan);
      continue;
    }
    const w = word(scan);
    if (!w) { scan.i++; continue; }
    // `2>file`: digits right before < or > are the redirection's descriptor, not a word.
    if (/^\d+$/.test(w.raw) && (text[scan.i] === '<' || text[scan.i] === '>')) continue;
    words.push(w);
  }
  finish();
  return commands;
}

/** The command `words` make, its leading `NAME=value` words (as written) being assignments; undefined for no words. */
function simpleCommand(words: Word[], dynamic: boolean): SimpleCommand | undefined {
  if (words.length === 0) return undefined;
  let n = 0;
  while (n < words.length && ASSIGNMENT.test(words[n]!.raw)) n++;
  const assignments = words.slice(0, n).map(({ value }) => ({ name: value.slice(0, value.indexOf('=')), value: value.slice(value.indexOf('=') + 1) }));
  return { assignments, words: words.slice(n).map((w) => w.value), dynamic };
}

/** Moves past a redirection at `<` or `>`: the operator, then its target word (`>&2` and `2>&1` have a descriptor instead). */
function skipRedirection(scan: Scan): void {
  scan.i++;
  if (scan.text[scan.i] === '>' || scan.text[scan.i] === '&' || scan.text[scan.i] === '|') scan.i++;
  while (scan.text[scan.i] === ' ' || scan.text[scan.i] === '\t') scan.i++;
  word(scan);
}

/** Reads one word; undefined at an operator or the end. */
function word(scan: Scan): Word | undefined {
  const start = scan.i;
  let value = '';
  // Every piece moves past at least one character, so a word was read when the index moved.
  while (scan.i < scan.text.length && !/[ \t\n;&|<>()]/.test(scan.text[scan.i]!)) value += unquotedPiece(scan, start);
  return scan.i > start ? { value, raw: scan.text.slice(start, scan.i) } : undefined;
}

/** One piece of an unquoted word, expanded (an escape, a quoted string, `$...`, a leading `~`, or a character), moving past it. */
function unquotedPiece(scan: Scan, wordStart: number): string {
  const c = scan.text[scan.i]!;
  if (c === '\\') {
    const next = scan.text[scan.i + 1];
    scan.i += 2;
    return next === '\n' ? '' : next ?? '';
  }
  if (c === "'") return singleQuoted(scan);
  if (c === '"') return doubleQuoted(scan);
  if (c === '$') return dollar(scan);
  if (c === '~' && scan.i === wordStart && /^~(?:\/|$|[ \t;&|<>])/.test(scan.text.slice(scan.i))) {
    scan.i++;
    return scan.vars('HOME') ?? '~';
  }
  if (c === '`') scan.dynamic = true;
  scan.i++;
  return c;
}

/** `'...'`: the text as written, up to the closing quote (or the end). */
function singleQuoted(scan: Scan): string {
  const end = scan.text.indexOf("'", scan.i + 1);
  const stop = end < 0 ? scan.text.length : end;
  const value = scan.text.slice(scan.i + 1, stop);
  scan.i = stop + 1;
  return value;
}

/** `"..."`: a backslash escapes only $ ` " \ and newline, `$...` expands, and a backquote is kept as written. */
function doubleQuoted(scan: Scan): string {
  let value = '';
  scan.i++;
  while (scan.i < scan.text.length && scan.text[scan.i] !== '"') {
    const d = scan.text[scan.i]!;
    const next = scan.text[scan.i + 1];
    if (d === '\\' && /[$`"\\\n]/.test(next ?? '')) {
      if (next !== '\n') value += next;
      scan.i += 2;
    } else if (d === '$') {
      value += dollar(scan);
    } else {
      if (d === '`') scan.dynamic = true;
      value += d;
      scan.i++;
    }
  }
  scan.i++;
  return value;
}

/** `$...` at scan.i (pointing at `$`): its expansion, moving past it. */
function dollar(scan: Scan): string {
  const rest = scan.text.slice(scan.i + 1);
  const plain = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
  if (plain) {
    scan.i += 1 + plain[1]!.length;
    return scan.vars(plain[1]!) ?? '';
  }
  const braced = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest);
  if (braced) {
    scan.i += 1 + braced[0].length;
    return scan.vars(braced[1]!) ?? '';
  }
  if (/^[({]/.test(rest)) {
    // $(...), $((...)), ${VAR:-x}: keep the text up to the matching close as written.
    const close = matchingClose(rest);
    scan.dynamic = true;
    scan.i += 2 + close;
    return `$${rest.slice(0, close + 1)}`;
  }
  scan.i += 1;
  return '$';
}

/** The index of the bracket that closes `rest`'s opening `(` or `{`, or rest.length when none does. */
function matchingClose(rest: string): number {
  const open = rest[0]!;
  const close = open === '(' ? ')' : '}';
  let depth = 0;
  let j = 0;
  for (; j < rest.length; j++) {
    if (rest[j] === open) depth++;
    else if (rest[j] === close && --depth === 0) break;
  }
  return j;
}
