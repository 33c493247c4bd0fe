// The restricted authorized_keys line for one backup pattern, and the client commands that go
// with it. Every value is checked before it enters the line, so none can end an option early.
import { AgentkeepError } from '../errors.js';
import { quoteSh } from '../shells/quote.js';
import { SshWireError, WireReader } from '../ssh-wire.js';

/** What the key may do on the machine whose authorized_keys holds the line. */
export type AuthorizeMode =
  | { kind: 'rsync-ro'; dir: string; rrsync: string }
  | { kind: 'rsync-wo'; dir: string; rrsync: string }
  | { kind: 'command'; command: string };

/** Everything one line is made of. */
export interface AuthorizeSpec {
  mode: AuthorizeMode;
  /** sshd's from= pattern list, e.g. `192.0.2.10,10.0.0.0/8`. */
  from?: string | undefined;
  /** The key blob (type name first, as in the agent protocol). */
  blob: Buffer;
  comment?: string | undefined;
}

/** The characters that would end or corrupt a quoted authorized_keys option, with why. */
export function unsafeValueReason(value: string): string | undefined {
  if (value.includes('"')) return 'a double quote, which would end the quoted option early';
  if (value.includes('\\')) return 'a backslash, which sshd reads as an escape inside the quoted option';
  if (value.includes('\n') || value.includes('\r')) return 'a line break, which would split the authorized_keys line';
  if (value.includes('\0')) return 'a NUL byte, which no authorized_keys line can carry';
  if (/[\x01-\x1f\x7f]/.test(value)) return 'a control character';
  return undefined;
}

/** Refuses (64) a value that cannot go into the line as it is. */
export function assertSafeValue(option: string, value: string, fix: string): void {
  if (value === '') throw new AgentkeepError('USAGE', `${option} needs a value, got an empty string`, fix);
  const why = unsafeValueReason(value);
  if (why) throw new AgentkeepError('USAGE', `${option} ${JSON.stringify(value)} holds ${why}`, fix);
}

/** Refuses (64) a from= list that is not plain comma-separated host/address patterns. */
export function assertFromList(list: string): void {
  const fix = 'write the addresses or host patterns separated by commas only, e.g. --from 192.0.2.10,10.1.0.0/16';
  assertSafeValue('--from', list, fix);
  if (/\s/.test(list)) throw new AgentkeepError('USAGE', `--from ${JSON.stringify(list)} holds a space; sshd reads the list as comma-separated patterns`, fix);
  if (list.includes("'")) throw new AgentkeepError('USAGE', `--from ${JSON.stringify(list)} holds a quote`, fix);
  const bad = /[^A-Za-z0-9.:*?!/_,-]/.exec(list);
  if (bad) throw new AgentkeepError('USAGE', `--from ${JSON.stringify(list)} holds ${JSON.stringify(bad[0])}, which is not part of a host or address pattern`, fix);
  if (list.split(',').some((p) => p === '' || p === '!')) {
    throw new AgentkeepError('USAGE', `--from ${JSON.stringify(list)} has an empty pattern`, fix);
  }
}

/** Refuses (64) a confining directory that is relative or cannot be quoted for the login shell. */
export function assertConfiningDir(option: string, dir: string): void {
  const fix = `give the absolute directory the key is confined to, e.g. ${option} /srv/backup`;
  assertSafeValue(option, dir, fix);
  if (!dir.startsWith('/')) throw new AgentkeepError('USAGE', `${option} needs an absolute directory, got ${JSON.stringify(dir)}`, fix);
  assertShellQuotable(option, dir);
}

/** Refuses a word that the login shell could only receive through a backslash or double quote. */
export function assertShellQuotable(option: string, value: string): void {
  // sshd runs the forced command with the account's shell; single quotes work in sh, csh and fish,
  // but a single quote inside them needs \' or "'", both of which the option string cannot hold.
  if (value.includes("'")) {
    throw new AgentkeepError('USAGE', `${option} ${JSON.stringify(value)} holds a single quote, which cannot be quoted for the login shell inside command="..."`,
      'rename the directory or use a symbolic link to it whose name has no quote');
  }
}

/** The forced command sshd runs instead of whatever the client asks for. */
export function forcedCommand(mode: AuthorizeMode): string {
  switch (mode.kind) {
    case 'rsync-ro': return `${quoteSh(mode.rrsync)} -ro ${quoteSh(mode.dir)}`;
    case 'rsync-wo': return `${quoteSh(mode.rrsync)} -wo ${quoteSh(mode.dir)}`;
    case 'command': return mode.command;
  }
}

/** The key as it appears in authorized_keys: `type base64`. */
export function publicKeyText(blob: Buffer): string {
  let type: string;
  try {
    type = new WireReader(blob).stringLatin1();
  } catch (error) {
    if (!(error instanceof SshWireError)) throw error;
    throw new AgentkeepError('KEY_FILE', `expected a public key blob that starts with its type name, got one that does not (${error.message})`,
      'check the key with ssh-keygen -l -f KEY, and rewrite KEY.pub with ssh-keygen -y -f KEY > KEY.pub');
  }
  return `${type} ${blob.toString('base64')}`;
}

/** The whole line: `restrict[,from="LIST"],command="..." type base64 [comment]`. */
export function authorizedKeysLine(spec: AuthorizeSpec): string {
  const command = forcedCommand(spec.mode);
  // Checked again here, so that no caller can build a line that escapes its quotes.
  for (const value of [command, spec.from ?? 'x', spec.comment ?? 'x']) {
    const why = unsafeValueReason(value);
    if (why) throw new AgentkeepError('USAGE', `refusing to build an authorized_keys line from a value that holds ${why}`);
  }
  const options = ['restrict'];
  if (spec.from !== undefined) options.push(`from="${spec.from}"`);
  options.push(`command="${command}"`);
  const comment = spec.comment ? ` ${spec.comment}` : '';
  return `${options.join(',')} ${publicKeyText(spec.blob)}${comment}`;
}

/** What the backup host runs with the key, and the crontab entry that runs it through agentrun. */
export interface ClientHints {
  /** The command as typed on the backup host. */
  command: string;
  /** The same command as a crontab entry. */
  crontab: string;
  /** One sentence on what the key can do. */
  note: string;
}

/** The client side of each mode; USER, HOST, DEST and SRC are for the reader to fill in. */
export function clientHints(mode: AuthorizeMode, requireArg: string): ClientHints {
  let command: string;
  let note: string;
  switch (mode.kind) {
    case 'rsync-ro':
      command = 'rsync -a -e ssh USER@HOST:/ DEST/';
      note = `paths are relative to ${mode.dir}; the key can only read there`;
      break;
    case 'rsync-wo':
      command = 'rsync -a -e ssh SRC/ USER@HOST:/';
      note = `paths are relative to ${mode.dir}; the key can only write there`;
      break;
    case 'command':
      command = 'ssh USER@HOST > dump.sql';
      note = `whatever command line the client sends, ${mode.command} runs instead ($SSH_ORIGINAL_COMMAND holds the request)`;
      break;
  }
  return { command, crontab: `15 2 * * * agentrun --require ${quoteSh(requireArg)} ${command}`, note };
}
