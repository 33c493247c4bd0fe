// `agentkeep hook SHELL [options] [keys...]`: prints the line for the login file, naming the
// installed hook (src/shells/flavours.ts) by its absolute path; `agentkeep hook cron`: the crontab's PATH= line.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentkeepError, EXIT } from '../errors.js';
import { flavourList, SHELL_FLAVOUR_NAMES, SHELL_FLAVOURS, shellFlavourNamed, type ShellFlavourName } from '../shells/flavours.js';
import { cronLines, cronPath } from '../cron-path.js';
import { reportError, type Io } from './run-cli.js';

const USAGE = `usage: agentkeep hook ${SHELL_FLAVOUR_NAMES.join('|')} [agentkeep options] [keys...]\n       agentkeep hook cron\n`;

/** The installed shell/ directory: next to dist/ in a package, next to src/ in a checkout. */
export function shellDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (const candidate of [join(from, '..', 'shell'), join(from, '..', '..', 'shell')]) {
    if (existsSync(join(candidate, SHELL_FLAVOURS.sh.hookFile))) return realpathSync(candidate);
  }
  throw new AgentkeepError('IO', `cannot find the shell hooks (shell/${SHELL_FLAVOURS.sh.hookFile}) near ${from}`,
    'reinstall agentkeep: npm install -g agentkeep');
}

/** The login-file line that sources the hook for `shell` and passes `args` to agentkeep. */
export function hookLine(shell: ShellFlavourName, dir: string, args: string[]): string {
  const flavour = SHELL_FLAVOURS[shell];
  return flavour.hookLine(join(dir, flavour.hookFile), args.length > 0 ? args : ['--quiet']);
}

/** The flavour `agentkeep hook WORD` asks for: its name, or the name of one of its shells. */
function parseShell(word: string | undefined): ShellFlavourName {
  const flavour = word === undefined ? undefined : shellFlavourNamed(word);
  if (flavour !== undefined) return flavour;
  const shells = SHELL_FLAVOUR_NAMES.flatMap((name) => SHELL_FLAVOURS[name].shells);
  throw new AgentkeepError('USAGE', word === undefined ? `agentkeep hook needs a shell: ${flavourList('or')}`
    : `Expected the shell to be one of ${SHELL_FLAVOUR_NAMES.join(', ')} (or ${shells.join(', ')}) or cron, got ${JSON.stringify(word)}`,
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
    if (io.stderrIsTTY) io.stderr(`# add this line to ${SHELL_FLAVOURS[shell].loginFiles}:\n`);
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
