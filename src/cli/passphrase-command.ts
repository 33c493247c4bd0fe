// `agentkeep passphrase set|forget|status`: key passphrases in the OS keyring, stored under the
// key's SHA256 fingerprint, verified in-process before they are stored.
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { assertOwnHome } from '../home-check.js';
import { join } from 'node:path';
import { AgentkeepError, EXIT } from '../errors.js';
import { publicKeyOf } from '../keys/fingerprint.js';
import { keyPath } from '../keys/resolve.js';
import { reportError, type Io } from './run-cli.js';
import { readSettings } from '../settings.js';

const USAGE = `usage: agentkeep passphrase set KEY       store KEY's passphrase in the keyring (typed without echo,
                                         or the first line of stdin when stdin is not a terminal)
       agentkeep passphrase forget KEY...  remove stored passphrases (KEY may be a SHA256: fingerprint)
       agentkeep passphrase status [KEY...] is the keyring reachable, and which keys have one stored
`;

/** Where the passphrase comes from; replaceable so that tests can drive the command in-process. */
export interface SecretInput {
  stdinIsTTY: boolean;
  fromTty: (prompt: string) => Promise<string>;
  fromStdin: () => Promise<string>;
}

async function defaultInput(): Promise<SecretInput> {
  const { readHiddenFromTty, readLineFromStdin } = await import('../keyring/read-secret.js');
  return { stdinIsTTY: Boolean(process.stdin.isTTY), fromTty: readHiddenFromTty, fromStdin: () => readLineFromStdin() };
}

function homeOf(io: Io): string {
  const home = io.env.HOME || homedir();
  assertOwnHome(home, process.getuid?.() ?? 0);
  return home;
}

/** A key argument as a path and its fingerprint; a bare `SHA256:` fingerprint has no path. */
async function resolveKey(arg: string, io: Io): Promise<{ label: string; path?: string; fingerprint: string }> {
  if (arg.startsWith('SHA256:')) return { label: arg, fingerprint: arg };
  const path = keyPath(arg, homeOf(io));
  const { keyringAccount } = await import('../keys/keyring-account.js');
  return { label: path, path, fingerprint: keyringAccount(path) };
}

/** Fingerprints of the key files in ~/.ssh, to name the owners of stored entries. */
function sshKeysByFingerprint(home: string): Map<string, string> {
  const out = new Map<string, string>();
  const dir = join(home, '.ssh');
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    if (!name.endsWith('.pub')) continue;
    try {
      const path = join(dir, name.slice(0, -4));
      const pub = publicKeyOf(path);
      if (pub && !out.has(pub.fingerprint)) out.set(pub.fingerprint, path);
    } catch { /* unreadable: not ours to judge here */ }
  }
  return out;
}

async function setCommand(args: string[], io: Io, input: SecretInput): Promise<number> {
  if (args.length !== 1) throw new AgentkeepError('USAGE', `passphrase set takes exactly one KEY, got ${args.length}`, 'for example: agentkeep passphrase set id_ed25519');
  const key = await resolveKey(args[0]!, io);
  if (!key.path) throw new AgentkeepError('USAGE', 'passphrase set needs a key file, not a fingerprint', 'for example: agentkeep passphrase set id_ed25519');
  const { verifyPassphrase } = await import('../keys/verify-passphrase.js');
  const store = await import('../keyring/store.js');
  // On a terminal a locked desktop keyring may show an unlock dialog: give the human time.
  const settings = readSettings(io.env);
  const opts = { env: io.env, settings, timeoutMs: input.stdinIsTTY && settings.keyringTimeoutMs === undefined ? 60_000 : undefined };
  const encrypted = await verifyPassphrase(key.path, undefined);
  if (encrypted.status === 'unencrypted') {
    throw new AgentkeepError('KEY_FILE', `${key.path} has no passphrase; there is nothing to store`, `add one with: ssh-keygen -p -f ${key.path}`);
  }
  if (encrypted.status === 'unsupported') {
    throw new AgentkeepError('KEY_FILE', `cannot read ${key.path} to check a passphrase (${encrypted.detail})`,
      'supported: OpenSSH-format ed25519, RSA and ECDSA keys, and PEM/PKCS#8 RSA and ECDSA keys');
  }
  // Ask the keyring before asking the user, so nobody types a passphrase that cannot be kept.
  const reach = await store.keyringReachable(opts);
  if (!reach.ok) throw new AgentkeepError('KEYRING', reach.unavailable.message, reach.unavailable.hint);
  const passphrase = input.stdinIsTTY ? await input.fromTty(`Passphrase for ${key.path}: `) : await input.fromStdin();
  if (passphrase === '') throw new AgentkeepError('NO_PROMPT', 'no passphrase given; nothing was stored');
  const check = await verifyPassphrase(key.path, passphrase);
  if (check.status !== 'ok') {
    throw new AgentkeepError('KEY_FILE', `that passphrase does not decrypt ${key.path}; nothing was stored`, 'try again; ssh-keygen -y -f KEY tests a passphrase by hand');
  }
  await store.storePassphrase(key.fingerprint, passphrase, opts);
  io.stderr(` * Stored the passphrase of ${key.path} (${key.fingerprint}) in the keyring\n`);
  return EXIT.ok;
}

async function forgetCommand(args: string[], io: Io): Promise<number> {
  if (args.length === 0) throw new AgentkeepError('USAGE', 'passphrase forget needs at least one KEY', 'for example: agentkeep passphrase forget id_ed25519');
  const keys = [];
  for (const arg of args) keys.push(await resolveKey(arg, io));
  const { forgetPassphrase } = await import('../keyring/store.js');
  for (const key of keys) {
    const removed = await forgetPassphrase(key.fingerprint, { env: io.env, settings: readSettings(io.env) });
    io.stderr(removed ? ` * Forgot the passphrase of ${key.label} (${key.fingerprint})\n` : ` * No passphrase was stored for ${key.label} (${key.fingerprint})\n`);
  }
  return EXIT.ok;
}

async function statusCommand(args: string[], io: Io): Promise<number> {
  const store = await import('../keyring/store.js');
  const opts = { env: io.env, settings: readSettings(io.env) };
  if (args.length === 0) {
    const list = await store.listStored(opts);
    if (!list.ok) throw new AgentkeepError('KEYRING', list.unavailable.message, list.unavailable.hint);
    const owners = sshKeysByFingerprint(homeOf(io));
    io.stdout(`keyring: reachable (service "${store.KEYRING_SERVICE}")\n`);
    for (const fp of list.value.filter((a) => a.startsWith('SHA256:'))) {
      io.stdout(`${fp} stored  ${owners.get(fp) ?? '(no matching key in ~/.ssh)'}\n`);
    }
    return EXIT.ok;
  }
  const keys = [];
  for (const arg of args) keys.push(await resolveKey(arg, io));
  const found = await store.lookupPassphrases(keys.map((k) => k.fingerprint), opts);
  if (!found.ok) throw new AgentkeepError('KEYRING', found.unavailable.message, found.unavailable.hint);
  io.stdout(`keyring: reachable (service "${store.KEYRING_SERVICE}")\n`);
  let missing = 0;
  for (const key of keys) {
    const stored = found.value.get(key.fingerprint) !== undefined;
    if (!stored) missing++;
    io.stdout(`${key.fingerprint} ${stored ? 'stored' : 'not stored'}  ${key.label}\n`);
  }
  return missing === 0 ? EXIT.ok : EXIT.failure;
}

/** Runs `agentkeep passphrase ...`: 0 done, 1 failed (wrong passphrase, keyring unreachable, key not stored), 64 usage. */
export async function passphraseCommand(argv: string[], io: Io, input?: SecretInput): Promise<number> {
  const [verb, ...args] = argv;
  if (verb === undefined || verb === '-h' || verb === '--help' || verb === 'help') {
    (verb === undefined ? io.stderr : io.stdout)(USAGE);
    return verb === undefined ? EXIT.usage : EXIT.ok;
  }
  try {
    switch (verb) {
      case 'set': return await setCommand(args, io, input ?? await defaultInput());
      case 'forget': return await forgetCommand(args, io);
      case 'status': return await statusCommand(args, io);
      default:
        throw new AgentkeepError('USAGE', `Expected set, forget or status after passphrase, got ${JSON.stringify(verb)}`, 'see agentkeep passphrase --help');
    }
  } catch (error) {
    return reportError('agentkeep', error, io);
  }
}
