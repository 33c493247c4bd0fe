// `agentkeep doctor [--json] [--user NAME] [--crontab FILE] [--dir D] [--absolute] [--host H]
// [--require KEY]... [--cron-path P]`: what the cron jobs of a user would find, each crontab
// entry that runs agentrun judged as that run would go, each problem with its fix.
// Exit 0 when every job would run now and nothing else is wrong, 1 otherwise, 64 usage.
import { userInfo } from 'node:os';
import { AgentkeepError, EXIT } from '../errors.js';
import { silentReporter, userContext, type Context } from '../context.js';
import { CRON_DEFAULT_PATH, inspect } from '../doctor/inspect.js';
import { renderReport } from '../doctor/render.js';
import { accountGroups, lookupAccount, readCrontab } from '../doctor/user.js';
import type { Who } from '../doctor/access.js';
import { reportError, type Io } from './run-cli.js';
import { contextFor } from './caller-context.js';
import { commanderProgram } from './commander-options.js';
import { rewriteAliases, type OptionSpec } from '../options/spec.js';
import { ABSOLUTE, DIR, HELP, HOST, REQUIRE } from '../options/common.js';
import { text } from '../options/values.js';
import { readSettings } from '../settings.js';

const DESCRIPTION = `Answers "why did last night's job fail, and will tonight's run?": reads your crontab and, for each entry that runs agentrun, shows its PATH, whether agentrun, node and the job's command are found there, its --require keys, --lock and --log (the last run), and the exit status agentrun would give now, with the fix; also the key directory, env files, the agent and its keys, the last boot and when the agent started. Nothing is started, stopped or written.`;

/** doctor's options, in the order --help shows them. */
const DOCTOR_OPTIONS: readonly OptionSpec[] = [
  { flags: '--json', help: 'print the report as JSON (shape version 1, see README)' },
  { flags: '--user <name>', value: text,
    help: '(root) inspect NAME\'s setup as NAME would see it: their HOME, their files judged against their uid, their crontab (crontab -u NAME -l)' },
  { flags: '--crontab <file>', value: text, help: 'read the crontab from FILE instead of crontab -l (check one before installing it)' },
  DIR, ABSOLUTE, HOST,
  { ...REQUIRE, help: 'also check that KEY (name, path or SHA256:...) is loaded (repeatable)' },
  { flags: '--cron-path <path>', value: text, help: `the PATH cron uses where the crontab sets none (default ${CRON_DEFAULT_PATH})` },
  HELP,
];

interface DoctorArgs {
  json: boolean; user?: string; crontab?: string; dir?: string; absolute: boolean; host?: string;
  require: string[]; cronPath: string;
}

function parseDoctorArgs(argv: string[], io: Io): DoctorArgs {
  const program = commanderProgram('agentkeep doctor', DOCTOR_OPTIONS, io)
    .description(DESCRIPTION)
    .addHelpText('after', '\nExit status: 0 when every job would run now and nothing else is wrong, 1 if not, 64 usage.')
    .allowExcessArguments(false);
  program.parse(rewriteAliases(argv, DOCTOR_OPTIONS), { from: 'user' });
  const o = program.opts<Partial<DoctorArgs>>();
  return { ...o, json: o.json === true, absolute: o.absolute === true, require: o.require ?? [], cronPath: o.cronPath ?? CRON_DEFAULT_PATH };
}

/** Whose setup to inspect: ours, or with --user (root only) another user's, judged with their uid and groups. */
function target(args: DoctorArgs, io: Io): { ctx: Context; user: string; who: Who; asRoot: boolean } {
  const self = readSettings(io.env).user ?? userInfo().username;
  const uid = process.getuid?.() ?? 0;
  if (args.user === undefined || (args.user === self && uid !== 0)) {
    return { ctx: contextFor(args, io, silentReporter), user: self, who: undefined, asRoot: false };
  }
  if (uid !== 0) {
    throw new AgentkeepError('USAGE', `--user ${args.user} needs root: only root may read another user's crontab and judge their files`,
      `check your own setup with: agentkeep doctor; or ask root to run: sudo agentkeep doctor --user ${args.user}`);
  }
  const account = lookupAccount(args.user);
  // Cron gives the user's jobs a HOME from the password database and no agent variables.
  const env: NodeJS.ProcessEnv = { HOME: account.home, LOGNAME: account.name, USER: account.name, SHELL: '/bin/sh', PATH: args.cronPath };
  const ctx = userContext(account, args, env, silentReporter);
  return { ctx, user: account.name, who: account.uid === 0 ? undefined : { uid: account.uid, gids: accountGroups(account) }, asRoot: account.uid !== 0 };
}

/** Runs `agentkeep doctor`. */
export async function doctorCommand(argv: string[], io: Io): Promise<number> {
  try {
    const args = parseDoctorArgs(argv, io);
    const { ctx, user, who, asRoot } = target(args, io);
    const crontab = readCrontab({ file: args.crontab, otherUser: asRoot ? user : undefined });
    const report = await inspect({
      ctx, user, who, asRoot, crontab,
      dir: args.dir, absolute: args.absolute, host: args.host,
      require: args.require, cronPath: args.cronPath, userPath: io.env.PATH ?? '',
    });
    io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    return report.healthy ? EXIT.ok : EXIT.failure;
  } catch (error) {
    return reportError('agentkeep doctor', error, io);
  }
}
