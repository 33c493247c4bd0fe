// `agentkeep doctor [--json] [--dir D] [--absolute] [--host H] [--require KEY]... [--cron-path P]`:
// what a cron job of this user would find, each problem with its fix. Exit 0 healthy, 1 not.
import { userInfo } from 'node:os';
import { AgentkeepError, EXIT } from '../errors.js';
import { silentReporter } from '../context.js';
import { CRON_DEFAULT_PATH, inspect } from '../doctor/inspect.js';
import { renderReport } from '../doctor/render.js';
import { reportError, type Io } from './run-cli.js';
import { contextFor } from './context.js';

const HELP = `Usage: agentkeep doctor [--json] [--dir DIR] [--absolute] [--host NAME] [--require KEY]... [--cron-path PATH]

Shows what a cron job of yours would find: the key directory and env files (owner, mode,
links), the agent they name and its keys, whether agentrun and node are on cron's PATH,
and each problem with its fix. Nothing is started or written. Exit 0 when healthy, 1 if not.

  --json            print the report as JSON (shape version 1, see README)
  --dir, --absolute, --host   as for agentkeep and agentrun
  --require KEY     also check that KEY (name, path or SHA256:...) is loaded (repeatable)
  --cron-path PATH  the PATH your crontab sets (default ${CRON_DEFAULT_PATH}, cron's own)
`;

interface DoctorArgs { json: boolean; dir?: string; absolute: boolean; host?: string; require: string[]; cronPath: string; help: boolean }

function parseDoctorArgs(argv: string[]): DoctorArgs {
  const args: DoctorArgs = { json: false, absolute: false, require: [], cronPath: CRON_DEFAULT_PATH, help: false };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = word.indexOf('=');
    const name = word.startsWith('--') && eq > 0 ? word.slice(0, eq) : word;
    const value = () => {
      const v = eq > 0 && word.startsWith('--') ? word.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new AgentkeepError('USAGE', `${name} needs a value`, 'see: agentkeep doctor --help');
      return v;
    };
    switch (name) {
      case '--json': args.json = true; break;
      case '--absolute': args.absolute = true; break;
      case '-h': case '--help': args.help = true; break;
      case '--dir': args.dir = value(); break;
      case '--host': args.host = value(); break;
      case '--require': args.require.push(value()); break;
      case '--cron-path': args.cronPath = value(); break;
      default: throw new AgentkeepError('USAGE', `unknown doctor argument ${JSON.stringify(word)}`, 'see: agentkeep doctor --help');
    }
  }
  return args;
}

/** Runs `agentkeep doctor`. */
export async function doctorCommand(argv: string[], io: Io): Promise<number> {
  try {
    const args = parseDoctorArgs(argv);
    if (args.help) { io.stdout(HELP); return EXIT.ok; }
    const ctx = contextFor(args, io, silentReporter);
    const report = await inspect({
      ctx, user: io.env.LOGNAME ?? io.env.USER ?? userInfo().username,
      dir: args.dir, absolute: args.absolute, host: args.host,
      require: args.require, cronPath: args.cronPath, userPath: io.env.PATH ?? '',
    });
    io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    return report.healthy ? EXIT.ok : EXIT.failure;
  } catch (error) {
    return reportError('agentkeep doctor', error, io);
  }
}
