// `agentkeep hook sh|csh|fish [options] [keys...]`: prints the line for the login file, naming
// the installed hook by its absolute path; `agentkeep hook cron`: the crontab's PATH= line.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentkeepError, EXIT } from '../errors.js';
import { quoteCsh, quoteFish, quoteSh } from '../envfile/render.js';
import { cronLines, cronPath } from '../cron-path.js';
import { reportError, type Io } from './run-cli.js';

type HookShell = 'sh' | 'csh' | 'fish';

const USAGE = 'usage: agentkeep hook sh|csh|fish [agentkeep options] [keys...]\n       agentkeep hook cron\n';

/** Where each shell's login line goes, for the hint on a terminal. */
const LOGIN_FILES: Record<HookShell, string> = {
  sh: '~/.profile, ~/.bash_profile or ~/.zprofile',
  csh: '~/.login',
  fish: '~/.config/fish/config.fish (inside: if status is-login ... end)',
};

/** The installed shell/ directory: next to dist/ in a package, next to src/ in a checkout. */
export function shellDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (const candidate of [join(from, '..', 'shell'), join(from, '..', '..', 'shell')]) {
    if (existsSync(join(candidate, 'agentkeep.sh'))) return realpathSync(candidate);
  }
  throw new AgentkeepError('IO', `cannot find the shell hooks (shell/agentkeep.sh) near ${from}`,
    'reinstall agentkeep: npm install -g agentkeep');
}

/** The login-file line that sources the hook for `shell` and passes `args` to agentkeep. */
export function hookLine(shell: HookShell, dir: string, args: string[]): string {
  const words = args.length > 0 ? args : ['--quiet'];
  switch (shell) {
    case 'sh':
      return `. ${quoteSh(join(dir, 'agentkeep.sh'))} && agentkeep_login ${words.map(quoteSh).join(' ')}`;
    case 'csh':
      // BSD csh cannot pass arguments to `source`: they go in a list the hook reads (and unsets).
      return `set agentkeep_args = ( ${words.map(quoteCsh).join(' ')} ); source ${quoteCsh(join(dir, 'agentkeep.csh'))}`;
    case 'fish':
      return `source ${quoteFish(join(dir, 'agentkeep.fish'))}; and agentkeep_login ${words.map(quoteFish).join(' ')}`;
  }
}

function parseShell(word: string | undefined): HookShell {
  if (word === 'sh' || word === 'csh' || word === 'fish') return word;
  // The shell's own names map onto the three hooks.
  if (word === 'bash' || word === 'zsh' || word === 'dash' || word === 'ksh' || word === 'mksh' || word === 'posh' || word === 'yash') return 'sh';
  if (word === 'tcsh' || word === 'bsd-csh') return 'csh';
  throw new AgentkeepError('USAGE', word === undefined ? 'agentkeep hook needs a shell: sh, csh or fish'
    : `Expected the shell to be one of sh, csh, fish (or bash, zsh, dash, ksh, mksh, posh, yash, tcsh, bsd-csh) or cron, got ${JSON.stringify(word)}`,
  'for example: agentkeep hook sh --quiet id_ed25519 >> ~/.profile');
}

/** Runs `agentkeep hook`; stdout gets exactly the line, a terminal also gets where it goes. */
export async function hookCommand(argv: string[], io: Io): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  try {
    if (argv[0] === 'cron') return cronHook(argv.slice(1), io);
    const shell = parseShell(argv[0]);
    const line = hookLine(shell, shellDir(), argv.slice(1));
    if (io.stderrIsTTY) io.stderr(`# add this line to ${LOGIN_FILES[shell]}:\n`);
    io.stdout(`${line}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportError('agentkeep', error, io);
  }
}

/** `agentkeep hook cron`: stdout gets the crontab lines; stderr warns about a linked checkout. */
function cronHook(rest: string[], io: Io): number {
  if (rest.length > 0) {
    throw new AgentkeepError('USAGE', `agentkeep hook cron takes no arguments, got ${JSON.stringify(rest.join(' '))}`, 'run: agentkeep hook cron');
  }
  const found = cronPath(dirname(shellDir()), io.env.PATH ?? '');
  if (found.linkedCheckout) {
    io.stderr(`agentkeep: warning: ${found.packageDir} is a checkout linked by "npm install -g .": moving or rebuilding it breaks every cron job; install a copy: npm install -g "$(npm pack --silent)"\n`);
  }
  if (io.stderrIsTTY) io.stderr('# put these lines at the top of your crontab (crontab -e):\n');
  io.stdout(cronLines(found));
  return EXIT.ok;
}
