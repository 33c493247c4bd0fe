// The terminal side of the Reporter: keychain-style ` * ` lines on stderr, coloured only on a TTY.
import type { Reporter } from '../context.js';

/** What the terminal reporter shows and where it writes. */
export interface ReporterOptions {
  quiet: boolean;
  debug: boolean;
  color: boolean;
  write: (text: string) => void;
}

/** Whether to colour stderr: a TTY, and neither --nocolor nor NO_COLOR. */
export function wantColor(isTTY: boolean | undefined, noColorFlag: boolean, noColorSetting: boolean): boolean {
  return Boolean(isTTY) && !noColorFlag && !noColorSetting;
}

/** A Reporter that prints ` * message` (info), ` * Warning: ...` and ` * debug: ...`. */
export function terminalReporter(opts: ReporterOptions): Reporter {
  const paint = (code: string, text: string) => (opts.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    info(message) {
      if (!opts.quiet) opts.write(` ${paint('32;1', '*')} ${message}\n`);
    },
    warn(message) {
      opts.write(` ${paint('33;1', '*')} Warning: ${message}\n`);
    },
    debug(message) {
      if (opts.debug) opts.write(` ${paint('36', '*')} debug: ${message}\n`);
    },
  };
}
