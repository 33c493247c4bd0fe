// `agentkeep authorize KEY (--rsync-ro DIR | --rsync-wo DIR | --command CMD) [--from LIST]
// [--rrsync PATH] [--comment TEXT] [--append FILE]`: the restricted authorized_keys line for a
// backup key on stdout (or added to FILE), the client command and crontab entry on stderr.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { AgentkeepError, EXIT, isErrno } from '../errors.js';
import { publicKeyOf } from '../keys/fingerprint.js';
import { keyPath } from '../keys/resolve.js';
import {
  assertConfiningDir, assertFromList, assertSafeValue, assertShellQuotable, authorizedKeysLine, clientHints,
  unsafeValueReason, type AuthorizeMode,
} from '../authorize/line.js';
import { reportError, type Io } from './run-cli.js';
import { readBoundedText } from '../read-file.js';
import { commanderProgram } from './commander-options.js';
import { rewriteAliases, type OptionSpec } from '../options/spec.js';
import { HELP } from '../options/common.js';
import { text } from '../options/values.js';

const DESCRIPTION = `Prints one authorized_keys line for KEY (a name in ~/.ssh, a path, or KEY.pub) that lets the key do one thing only: always "restrict" (no pty, no port, agent or X11 forwarding) and a forced command. On stderr: the command to run it with, and the crontab entry.`;

const EXIT_TEXT = `
Exit status: 0 done (also when --append finds the key already there), 1 the key cannot be read,
64 usage error (no mode or two, a relative DIR, a value with a double quote, backslash, newline or NUL),
75 another --append held FILE's lock too long, 78 --append refused FILE (a symlink, someone else's,
or writable by others).`;

/** authorize's options, in the order --help shows them. */
const AUTHORIZE_OPTIONS: readonly OptionSpec[] = [
  { flags: '--rsync-ro <dir>', value: text, repeat: true, help: 'rrsync read-only, confined to DIR (the client pulls USER@HOST:/, paths relative to DIR)' },
  { flags: '--rsync-wo <dir>', value: text, repeat: true, help: 'rrsync write-only, confined to DIR (backups pushed to USER@HOST:/)' },
  { flags: '--command <cmd>', value: text, repeat: true, help: 'this fixed command, whatever the client asks ($SSH_ORIGINAL_COMMAND holds the request)' },
  { flags: '--from <list>', value: text, help: 'only from these addresses or host patterns (comma-separated, sshd\'s from=)' },
  { flags: '--rrsync <path>', value: text, help: 'rrsync\'s path on the machine that holds the line (default: rrsync, found on its PATH)' },
  { flags: '--comment <text>', value: text, help: 'the line\'s comment (default: the comment of KEY.pub)' },
  { flags: '--append <file>', value: text,
    help: 'add the line to FILE (an authorized_keys of yours on this machine) instead of printing it; atomic, mode 0600, never through a symlink, never a second line for the same key' },
  HELP,
];

interface AuthorizeArgs {
  key?: string;
  modes: AuthorizeMode[];
  from?: string;
  rrsync?: string;
  comment?: string;
  append?: string;
}

const USAGE_FIX = 'for example: agentkeep authorize backup_ed25519 --rsync-ro /srv --from 192.0.2.10';

function parseAuthorizeArgs(argv: string[], io: Io): AuthorizeArgs {
  const program = commanderProgram('agentkeep authorize', AUTHORIZE_OPTIONS, io)
    .usage('KEY (--rsync-ro DIR | --rsync-wo DIR | --command CMD) [--from LIST]\n                          [--rrsync PATH] [--comment TEXT] [--append FILE]')
    .description(DESCRIPTION)
    .argument('[key]', 'the key: a name in ~/.ssh, a path, or KEY.pub')
    .addHelpText('after', EXIT_TEXT)
    .allowExcessArguments(true);
  program.parse(rewriteAliases(argv, AUTHORIZE_OPTIONS), { from: 'user' });
  const o = program.opts<{ rsyncRo?: string[]; rsyncWo?: string[]; command?: string[]; from?: string; rrsync?: string; comment?: string; append?: string }>();
  if (program.args.length > 1) throw new AgentkeepError('USAGE', `one KEY only, got ${program.args.map((a) => JSON.stringify(a)).join(' and ')}`, USAGE_FIX);
  const modes: AuthorizeMode[] = [
    ...(o.rsyncRo ?? []).map((dir) => ({ kind: 'rsync-ro' as const, dir, rrsync: 'rrsync' })),
    ...(o.rsyncWo ?? []).map((dir) => ({ kind: 'rsync-wo' as const, dir, rrsync: 'rrsync' })),
    ...(o.command ?? []).map((command) => ({ kind: 'command' as const, command })),
  ];
  const { rsyncRo: _ro, rsyncWo: _wo, command: _c, ...rest } = o;
  return { ...rest, modes, ...(program.args[0] === undefined ? {} : { key: program.args[0] }) };
}

/** The one mode, checked, with --rrsync applied; every value that enters the line is checked here. */
function checkedMode(args: AuthorizeArgs): AuthorizeMode {
  if (args.modes.length !== 1) {
    throw new AgentkeepError('USAGE', args.modes.length === 0
      ? 'no mode given: say what the key may do with --rsync-ro DIR, --rsync-wo DIR or --command CMD'
      : `${args.modes.length} modes given; a line allows exactly one of --rsync-ro, --rsync-wo and --command`,
    'one key per purpose: run agentkeep authorize once for each key');
  }
  const mode = args.modes[0]!;
  if (args.from !== undefined) assertFromList(args.from);
  if (args.comment !== undefined) assertSafeValue('--comment', args.comment, 'write a comment without quotes, backslashes or line breaks');
  if (mode.kind === 'command') {
    if (args.rrsync !== undefined) throw new AgentkeepError('USAGE', '--rrsync applies to --rsync-ro and --rsync-wo only', 'drop --rrsync, or name rrsync inside --command');
    assertSafeValue('--command', mode.command, 'put the command in a script and pass its path: --command /usr/local/bin/dbdump.sh');
    return mode;
  }
  const option = `--${mode.kind}`;
  assertConfiningDir(option, mode.dir);
  if (args.rrsync !== undefined) {
    assertSafeValue('--rrsync', args.rrsync, 'give the path of rrsync on the machine that holds the line, e.g. --rrsync /usr/bin/rrsync');
    assertShellQuotable('--rrsync', args.rrsync);
    return { ...mode, rrsync: args.rrsync };
  }
  return mode;
}

/** A key argument's public blob, the comment of its .pub, and how a crontab on the backup host names it. */
function loadKey(arg: string, io: Io): { blob: Buffer; comment?: string; fingerprint: string; requireArg: string } {
  const home = io.env.HOME || homedir();
  const named = keyPath(arg, home);
  const isPub = named.endsWith('.pub');
  const path = isPub ? named.slice(0, -4) : named;
  if (isPub && !existsSync(named)) throw new AgentkeepError('KEY_FILE', `no key file at ${named}`, USAGE_FIX);
  let key;
  try {
    key = publicKeyOf(path);
  } catch (error) {
    if (!isErrno(error)) throw error;
    throw new AgentkeepError('KEY_FILE', `cannot read the key ${arg} (${error.path ?? path}): ${error.code}`,
      `make ${path}.pub readable, or copy the public key here and name the .pub file`);
  }
  if (!key) {
    if (!existsSync(path) && !existsSync(`${path}.pub`)) throw new AgentkeepError('KEY_FILE', `no key file at ${path}`, `fix the name, or create the key: ssh-keygen -t ed25519 -f ${path}`);
    throw new AgentkeepError('KEY_FILE', `cannot learn the public key of ${arg}: neither ${path}.pub nor an OpenSSH private key ${path} is readable`,
      `recreate the public key: ssh-keygen -y -f ${path} > ${path}.pub`);
  }
  const comment = key.source === 'pub' ? pubComment(`${path}.pub`) : undefined;
  // A bare name resolves in ~/.ssh on the backup host too; a path only where the private key is.
  const bare = !arg.includes('/') && !arg.startsWith('~');
  const requireArg = bare ? arg.replace(/\.pub$/, '') : existsSync(path) ? resolve(path) : key.fingerprint;
  return { blob: key.blob, fingerprint: key.fingerprint, requireArg, ...(comment === undefined ? {} : { comment }) };
}

/** The comment of a `type base64 comment` line, when it is safe to carry into the new line. */
function pubComment(pubPath: string): string | undefined {
  let text;
  try { text = readBoundedText(pubPath); } catch { return undefined; }
  const line = text.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  const comment = /^\S+\s+\S+\s+(.+)$/.exec(line.trim())?.[1]?.trim();
  return comment && !unsafeValueReason(comment) ? comment : undefined;
}

/** Runs `agentkeep authorize`: 0 done, 1 key unreadable, 64 usage, 75 lock wait, 78 --append refused. */
export async function authorizeCommand(argv: string[], io: Io): Promise<number> {
  try {
    const args = parseAuthorizeArgs(argv, io);
    const mode = checkedMode(args);
    if (args.key === undefined) throw new AgentkeepError('USAGE', 'no KEY given: name the key whose line to write', USAGE_FIX);
    if (args.append !== undefined && args.append === '') throw new AgentkeepError('USAGE', '--append needs a file name', 'for example: --append ~/.ssh/authorized_keys');
    const key = loadKey(args.key, io);
    const comment = args.comment ?? key.comment;
    const line = authorizedKeysLine({ mode, from: args.from, blob: key.blob, comment });
    const hints = clientHints(mode, key.requireArg);
    if (args.append === undefined) {
      io.stdout(`${line}\n`);
    } else {
      const { appendAuthorizedKey } = await import('../authorize/append.js');
      const file = resolve(args.append);
      const result = await appendAuthorizedKey(file, line, key.blob, process.getuid?.() ?? 0);
      io.stderr(result.added
        ? ` * Added a restricted line for ${key.fingerprint} to ${file}\n`
        : ` * ${file} already has a line for ${key.fingerprint} (line ${result.line}); nothing added. To change it, edit or remove that line first\n`);
    }
    // Comment lines: harmless even when stderr ends up in an authorized_keys file or a crontab.
    io.stderr(`# use it with: ${hints.command}\n# crontab entry: ${hints.crontab}\n# ${hints.note}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportError('agentkeep authorize', error, io);
  }
}
