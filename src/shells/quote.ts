// One word quoted for each syntax the env files and hook lines are written in, and read back:
// a quoted word is data to the shell that reads it, never code.

/** Characters no syntax treats specially: a word of only these is written bare. */
const BARE = /^[A-Za-z0-9_./:@%+,=-]+$/;

/** POSIX sh single quotes: nothing inside is special; a quote is closed, escaped, reopened. */
export function quoteSh(value: string): string {
  return BARE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** csh single quotes: like sh, but history substitution still sees "!" unless escaped. */
export function quoteCsh(value: string): string {
  return BARE.test(value) ? value : `'${value.replaceAll("'", `'\\''`).replaceAll('!', '\\!')}'`;
}

/** fish single quotes: only backslash and the quote itself are escapes. */
export function quoteFish(value: string): string {
  return BARE.test(value) ? value : `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** systemd EnvironmentFile= quoting: double quotes, escaping what systemd would interpret. */
export function quoteEnvfile(value: string): string {
  return BARE.test(value) ? value : `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** Decodes one value written by quoteSh: bare characters and '...' runs joined by \'. */
export function unquoteSh(text: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return undefined;
      out += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\' && text[i + 1] === "'") {
      out += "'";
      i += 2;
    } else if (/[A-Za-z0-9_./:@%+,=-]/.test(c)) {
      out += c;
      i += 1;
    } else {
      return undefined;
    }
  }
  return out;
}

/** Decodes one value written by quoteCsh: as quoteSh's, with every "!" inside quotes escaped. */
export function unquoteCsh(text: string): string | undefined {
  const sh = unquoteSh(text);
  if (sh === undefined) return undefined;
  // Only quoteCsh's escapes: each "!" is preceded by a backslash that is dropped.
  let out = '';
  for (let i = 0; i < sh.length; i++) {
    if (sh[i] === '\\' && sh[i + 1] === '!') continue;
    if (sh[i] === '!' && sh[i - 1] !== '\\') return undefined;
    out += sh[i];
  }
  return out;
}

/** Decodes one value written by quoteFish. */
export function unquoteFish(text: string): string | undefined {
  return unquoteRun(text, "'");
}

/** Decodes one value written by quoteEnvfile. */
export function unquoteEnvfile(text: string): string | undefined {
  return unquoteRun(text, '"');
}

/** A bare word, or one run between `quote`s in which a backslash escapes the next character. */
function unquoteRun(text: string, quote: "'" | '"'): string | undefined {
  if (BARE.test(text)) return text;
  if (text.length < 2 || text[0] !== quote || text.at(-1) !== quote) return undefined;
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i]!;
    if (c === quote) return undefined;
    if (c === '\\') {
      // The escaped character must not be the closing quote.
      if (i + 1 === text.length - 1) return undefined;
      out += text[i + 1]!;
      i += 1;
    } else {
      out += c;
    }
  }
  return out;
}
