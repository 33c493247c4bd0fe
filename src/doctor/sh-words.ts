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

/** Splits `text` into its simple commands; `vars` answers `$NAME` (undefined expands to ""). */
export function splitCommands(text: string, vars: (name: string) => string | undefined): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: Array<{ value: string; raw: string }> = [];
  let dynamic = false;
  let i = 0;

  const finish = () => {
    let n = 0;
    while (n < words.length && ASSIGNMENT.test(words[n]!.raw)) n++;
    const assignments = words.slice(0, n).map(({ value }) => ({ name: value.slice(0, value.indexOf('=')), value: value.slice(value.indexOf('=') + 1) }));
    if (words.length > 0) commands.push({ assignments, words: words.slice(n).map((w) => w.value), dynamic });
    words = [];
    dynamic = false;
  };

  /** `$...` at i (i points at `$`): the expansion and the index after it. */
  const dollar = (): { value: string; next: number } => {
    const rest = text.slice(i + 1);
    const plain = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (plain) return { value: vars(plain[1]!) ?? '', next: i + 1 + plain[1]!.length };
    const braced = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(rest);
    if (braced) return { value: vars(braced[1]!) ?? '', next: i + 1 + braced[0].length };
    if (/^[({]/.test(rest)) {
      // $(...), $((...)), ${VAR:-x}: keep the text up to the matching close as written.
      const open = rest[0]!;
      const close = open === '(' ? ')' : '}';
      let depth = 0;
      let j = 0;
      for (; j < rest.length; j++) {
        if (rest[j] === open) depth++;
        else if (rest[j] === close && --depth === 0) break;
      }
      dynamic = true;
      return { value: `$${rest.slice(0, j + 1)}`, next: i + 2 + j };
    }
    return { value: '$', next: i + 1 };
  };

  /** Reads one word starting at i; returns undefined at an operator or the end. */
  const word = (): { value: string; raw: string } | undefined => {
    const start = i;
    let value = '';
    let any = false;
    while (i < text.length) {
      const c = text[i]!;
      if (/[ \t\n;&|<>()]/.test(c)) break;
      any = true;
      if (c === '\\') {
        if (text[i + 1] !== '\n') value += text[i + 1] ?? '';
        i += 2;
      } else if (c === "'") {
        const end = text.indexOf("'", i + 1);
        const stop = end < 0 ? text.length : end;
        value += text.slice(i + 1, stop);
        i = stop + 1;
      } else if (c === '"') {
        i++;
        while (i < text.length && text[i] !== '"') {
          const d = text[i]!;
          if (d === '\\' && /[$`"\\\n]/.test(text[i + 1] ?? '')) {
            if (text[i + 1] !== '\n') value += text[i + 1];
            i += 2;
          } else if (d === '$') {
            const x = dollar();
            value += x.value;
            i = x.next;
          } else {
            if (d === '`') dynamic = true;
            value += d;
            i++;
          }
        }
        i++;
      } else if (c === '$') {
        const x = dollar();
        value += x.value;
        i = x.next;
      } else if (c === '~' && i === start && /^~(?:\/|$|[ \t;&|<>])/.test(text.slice(i))) {
        value += vars('HOME') ?? '~';
        i++;
      } else {
        if (c === '`') dynamic = true;
        value += c;
        i++;
      }
    }
    return any ? { value, raw: text.slice(start, i) } : undefined;
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') { i++; continue; }
    if (c === '#') break;
    if (c === '\n' || c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
      finish();
      i++;
      continue;
    }
    if (c === '<' || c === '>') {
      // A redirection: the operator, then its target word (`>&2` and `2>&1` have a descriptor instead).
      i++;
      if (text[i] === '>' || text[i] === '&' || text[i] === '|') i++;
      while (text[i] === ' ' || text[i] === '\t') i++;
      word();
      continue;
    }
    const w = word();
    if (!w) { i++; continue; }
    // `2>file`: digits right before < or > are the redirection's descriptor, not a word.
    if (/^\d+$/.test(w.raw) && (text[i] === '<' || text[i] === '>')) continue;
    words.push(w);
  }
  finish();
  return commands;
}
