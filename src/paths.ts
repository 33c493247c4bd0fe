// Where agentkeep keeps its files: the key directory, the env files, the lock and the socket.
import { lstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentkeepError } from './errors.js';
import { nodeCrypto } from './lazy-crypto.js';
import { isPrivateDir, readOwnFileText } from './path-safety.js';
import { ENV_FLAVOURS, type EnvFlavour } from './shells/flavours.js';

/** Longest Unix socket path that binds on every platform (sun_path is 104 on BSD/macOS). */
export const MAX_SOCKET_PATH = 103;

/** Every file path that one (key directory, host) pair uses; `paths.sh` etc. are the env files. */
export interface Paths extends Record<EnvFlavour, string> {
  keydir: string;
  host: string;
  lock: string;
  /** The stable agent socket; `socketNote` says why it is not inside the key directory. */
  socket: string;
  socketNote: string | undefined;
  /** For a short socket: the key-directory file that names its directory, to write when `fresh`. */
  shortSocketRecord?: { file: string; dir: string; fresh: boolean } | undefined;
}

/** The inputs to every path: HOME, uid, and the --dir/--absolute/--host/--ssh-agent-socket options. */
export interface PathOptions {
  home: string;
  uid: number;
  dir?: string | undefined;
  absolute?: boolean | undefined;
  host?: string | undefined;
  socket?: string | undefined;
}

/**
 * The host name used in file names: `--host`, else the kernel node name (`uname -n`).
 * Login shells and cron see the same node name whatever $HOSTNAME says, so the rule is simply:
 * never the environment, never a DNS lookup.
 */
export function resolveHost(explicit?: string): string {
  const host = explicit ?? hostname();
  if (host === '' || host === '.' || host === '..' || /[/\x00-\x1f\x7f]/.test(host)) {
    throw new AgentkeepError('USAGE', `invalid host name ${JSON.stringify(host)}`,
      'pass a plain name with --host, without "/" or control characters (newline, carriage return, tab)');
  }
  return host;
}

/**
 * The key directory: `~/.keychain`, `D/.keychain` with --dir D, or D itself with --absolute or
 * when D contains "/." (keychain's `*\/.*` rule: `--dir ~/.cache` means ~/.cache). A relative D
 * is taken from the current directory, as keychain does.
 */
export function resolveKeydir(opts: PathOptions): string {
  if (opts.absolute && !opts.dir) {
    throw new AgentkeepError('USAGE', '--absolute needs --dir', 'write: --dir /path/to/keydir --absolute');
  }
  if (opts.dir === '') throw new AgentkeepError('USAGE', '--dir needs a directory, got ""', 'write: --dir ~/.cache or --dir /path/to/dir');
  if (opts.dir === undefined && !opts.home.startsWith('/')) {
    throw new AgentkeepError('USAGE', `the key directory must be an absolute path, got ${JSON.stringify(opts.home)}`,
      'set HOME to your home directory, or pass --dir');
  }
  if (opts.dir === undefined) return join(opts.home, '.keychain');
  const base = resolve(opts.dir);
  return opts.absolute || opts.dir.includes('/.') ? base : join(base, '.keychain');
}

/** Computes every path from the options; pure apart from reading the host name. */
export function resolvePaths(opts: PathOptions): Paths {
  const keydir = resolveKeydir(opts);
  const host = resolveHost(opts.host);
  if (opts.socket !== undefined && (!opts.socket.startsWith('/') || Buffer.byteLength(opts.socket) > MAX_SOCKET_PATH)) {
    throw new AgentkeepError('USAGE', `--ssh-agent-socket must be an absolute path of at most ${MAX_SOCKET_PATH} bytes, got ${JSON.stringify(opts.socket)}`,
      'pass a short absolute path, e.g. --ssh-agent-socket "$XDG_RUNTIME_DIR/agent.sock"');
  }
  const file = (suffix: string) => join(keydir, `${host}-${suffix}`);
  let socket = opts.socket ?? file('agent.sock');
  let socketNote: string | undefined;
  let shortSocketRecord: Paths['shortSocketRecord'];
  if (opts.socket === undefined && Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    const digest = nodeCrypto().createHash('sha256').update(`${keydir}\0${host}`).digest('hex').slice(0, 16);
    socketNote = `${socket} is longer than ${MAX_SOCKET_PATH} bytes; using a short socket path instead`;
    shortSocketRecord = shortSocketDir(keydir, opts.uid);
    socket = join(shortSocketRecord.dir, `${digest}.sock`);
  }
  return {
    keydir, host,
    ...Object.fromEntries(ENV_FLAVOURS.map((flavour) => [flavour, file(flavour)])) as Record<EnvFlavour, string>,
    lock: file('lock'),
    socket, socketNote, shortSocketRecord,
  };
}

/** The file in the key directory that names the short socket directory. */
export const SHORT_SOCKET_RECORD = 'short-socket-dir';

/** The recorded name, if the record is a safe file of ours (read as the env files are) naming a directory of the expected shape. */
function recordedShortDir(file: string, uid: number): string | undefined {
  let text: string | undefined;
  try {
    text = readOwnFileText(file, uid, 64 * 1024)?.trim();
  } catch {
    return undefined; // an unsafe record is ignored: a new name is chosen and recorded in its place
  }
  return text !== undefined && new RegExp(`^/tmp/agentkeep-${uid}-[0-9a-f]{16}$`).test(text) ? text : undefined;
}

/** True unless `dir` exists as something other than our own 0700 directory. */
function usableShortDir(dir: string, uid: number): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  return st === undefined || isPrivateDir(st, uid);
}

/**
 * The private directory for sockets whose stable path would be too long:
 * `/tmp/agentkeep-UID-RANDOM`. The random part is recorded in the key directory (only we can
 * read it), so every later call finds the same directory while nobody else can predict its
 * name and take it first. A recorded directory that someone else has taken gets a new name.
 */
export function shortSocketDir(keydir: string, uid: number): { file: string; dir: string; fresh: boolean } {
  const file = join(keydir, SHORT_SOCKET_RECORD);
  const recorded = recordedShortDir(file, uid);
  if (recorded !== undefined && usableShortDir(recorded, uid)) return { file, dir: recorded, fresh: false };
  return { file, dir: `/tmp/agentkeep-${uid}-${nodeCrypto().randomBytes(8).toString('hex')}`, fresh: true };
}
