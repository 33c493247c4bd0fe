// The shell flavours, one entry each: the shells that use it, how it quotes a word, the lines
// of its env file, its login hook in shell/ and the line that sources it. Every list of
// flavours (the env files written, `--eval`'s choice, `agentkeep hook`, doctor) comes from here.
import { quoteCsh, quoteEnvfile, quoteFish, quoteSh, unquoteCsh, unquoteEnvfile, unquoteFish, unquoteSh } from './quote.js';

/** How one env file (KEYDIR/HOST-<flavour name>) writes a variable, and how its lines read back. */
export interface EnvFormat {
  quote(value: string): string;
  /** The value `quote` was given, or undefined for text it cannot have written. */
  unquote(text: string): string | undefined;
  /** One variable's line, without the newline; `quoted` comes from `quote`. */
  line(name: string, quoted: string): string;
  /** Matches one whole line: group 1 is the variable's name, group 2 its quoted value. */
  pattern: RegExp;
}

/** A login shell's flavour: its env file, and what `--eval` and `agentkeep hook` need. */
export interface ShellFlavour extends EnvFormat {
  /** The shells that use it besides the flavour's own name (`agentkeep hook NAME`, $SHELL's basename). */
  shells: readonly string[];
  /** Its hook in the shell/ directory. */
  hookFile: string;
  /** Where the hook line goes, for the hint on a terminal. */
  loginFiles: string;
  /** The login-file line that sources `hook` (an absolute path) and passes `words` to agentkeep. */
  hookLine(hook: string, words: readonly string[]): string;
}

const NAME = '([A-Za-z_][A-Za-z0-9_]*)';

/** The login shells' flavours (keychain's sh, csh and fish), in the order they are listed. */
export const SHELL_FLAVOURS = {
  sh: {
    shells: ['bash', 'zsh', 'dash', 'ksh', 'mksh', 'posh', 'yash'],
    quote: quoteSh,
    unquote: unquoteSh,
    line: (name, quoted) => `${name}=${quoted}; export ${name};`,
    pattern: new RegExp(`^${NAME}=(.*); export \\1;$`),
    hookFile: 'agentkeep.sh',
    loginFiles: '~/.profile, ~/.bash_profile or ~/.zprofile',
    hookLine: (hook, words) => `. ${quoteSh(hook)} && agentkeep_login ${words.map(quoteSh).join(' ')}`,
  },
  csh: {
    shells: ['tcsh', 'bsd-csh'],
    quote: quoteCsh,
    unquote: unquoteCsh,
    line: (name, quoted) => `setenv ${name} ${quoted};`,
    pattern: new RegExp(`^setenv ${NAME} (.*);$`),
    hookFile: 'agentkeep.csh',
    loginFiles: '~/.login',
    // BSD csh cannot pass arguments to `source`: they go in a list the hook reads (and unsets).
    hookLine: (hook, words) => `set agentkeep_args = ( ${words.map(quoteCsh).join(' ')} ); source ${quoteCsh(hook)}`,
  },
  fish: {
    shells: [],
    quote: quoteFish,
    unquote: unquoteFish,
    line: (name, quoted) => `set -e ${name}; set -gx ${name} ${quoted};`,
    pattern: new RegExp(`^set -e ${NAME}; set -gx \\1 (.*);$`),
    hookFile: 'agentkeep.fish',
    loginFiles: '~/.config/fish/config.fish (inside: if status is-login ... end)',
    hookLine: (hook, words) => `source ${quoteFish(hook)}; and agentkeep_login ${words.map(quoteFish).join(' ')}`,
  },
} satisfies Record<string, ShellFlavour>;

/** Every env file agentkeep writes: the shells' and systemd's EnvironmentFile=, in the order doctor lists them. */
export const ENV_FORMATS = {
  ...SHELL_FLAVOURS,
  envfile: {
    quote: quoteEnvfile,
    unquote: unquoteEnvfile,
    line: (name, quoted) => `${name}=${quoted}`,
    pattern: new RegExp(`^${NAME}=(.*)$`),
  },
} satisfies Record<string, EnvFormat>;

/** A login shell's flavour by name: sh, csh or fish. */
export type ShellFlavourName = keyof typeof SHELL_FLAVOURS;

/** An env file's flavour (and suffix: KEYDIR/HOST-<flavour>): a shell's, or systemd's `envfile`. */
export type EnvFlavour = keyof typeof ENV_FORMATS;

/** The shell flavours' names, in order. */
export const SHELL_FLAVOUR_NAMES = Object.keys(SHELL_FLAVOURS) as ShellFlavourName[];

/** The env files' flavours, in order. */
export const ENV_FLAVOURS = Object.keys(ENV_FORMATS) as EnvFlavour[];

/** The flavour a shell name selects (a flavour's own name or one of its shells), or undefined. */
export function shellFlavourNamed(name: string): ShellFlavourName | undefined {
  return SHELL_FLAVOUR_NAMES.find((flavour) => flavour === name || SHELL_FLAVOURS[flavour].shells.some((shell) => shell === name));
}

/** The flavour for `--eval`, from the basename of $SHELL: sh for a shell not listed. */
export function flavourForShell(shell: string | undefined): ShellFlavourName {
  return shellFlavourNamed((shell ?? '').split('/').pop() ?? '') ?? 'sh';
}

/** The flavours' names as prose: "sh, csh or fish". */
export function flavourList(conjunction: 'and' | 'or'): string {
  return `${SHELL_FLAVOUR_NAMES.slice(0, -1).join(', ')} ${conjunction} ${SHELL_FLAVOUR_NAMES.at(-1)!}`;
}
