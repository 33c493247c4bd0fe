// keychain 2.8.5 login lines, run once with the real keychain and once with agentkeep named
// `keychain` on PATH, each in a fresh HOME of a sandbox user (keychain finds and stops agents
// by user with ps, so it never runs as root here). The outcome compared: whether the shell
// reaches an agent, which keys it holds, and which env files exist where scripts look.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AGENTKEEP, HOST, Sandbox, waitFor } from '../helpers/sandbox.js';
import { createUser, removeUser, requireUsers, runAs, CAN_CREATE_USERS, type SandboxUser } from '../helpers/users.js';
import { familyOf, SHELL_VARIABLE, SHELLS, type HookShell } from '../helpers/hook-shells.js';
import type { ShellFlavourName } from '../../src/shells/flavours.js';

type Tool = 'keychain' | 'agentkeep';

/** What a login line left behind. */
interface Outcome {
  /** `ssh-add -l` in the shell after the line: 0 keys, 1 no keys, 2 no agent. */
  list: number;
  /** Comments (= file names) of the keys the agent holds. */
  keys: string[];
  /** Which of HOST-sh, HOST-csh, HOST-fish exist in the key directory. */
  files: string[];
  /** Live ssh-agent processes of the user. */
  agents: number;
}

let sb: Sandbox;
let user: SandboxUser | undefined;
const keysDir = () => join(sb.dir, 'keys');

beforeAll(() => requireUsers('keychain comparison'));
afterEach(async () => {
  if (user) await killUserProcesses(user);
  removeUser(user);
  user = undefined;
  sb.cleanup();
});

function userPids(u: SandboxUser): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=', '-u', String(u.uid)], { encoding: 'utf8' });
  return (ps.stdout ?? '').split('\n').map(Number).filter((p) => p > 0);
}

/**
 * Ends every process of the sandbox user (all were started by this test) and waits until they
 * are gone: SIGTERM first so agents remove their sockets, SIGKILL for what is left.
 */
async function killUserProcesses(u: SandboxUser): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    for (const pid of userPids(u)) {
      try { process.kill(pid, signal); } catch { /* gone */ }
    }
    if (await waitFor(() => userPids(u).length === 0, 3000)) return;
  }
}

function userAgents(u: SandboxUser): number {
  const ps = spawnSync('ps', ['-o', 'comm=', '-u', String(u.uid)], { encoding: 'utf8' });
  return (ps.stdout ?? '').split('\n').filter((c) => c.trim() === 'ssh-agent').length;
}

/** A fresh HOME for one tool, owned by the user, with the keys, an ssh config and `keychain` on PATH. */
function freshHome(u: SandboxUser, tool: Tool): { home: string; bin: string } {
  const home = join(u.home, tool);
  mkdirSync(home, { mode: 0o700 });
  cpSync(keysDir(), join(home, '.ssh'), { recursive: true });
  mkdirSync(join(home, 'tmp'), { mode: 0o700 });
  const bin = join(home, 'bin');
  mkdirSync(bin);
  const target = tool === 'keychain' ? '/usr/bin/keychain' : `'${process.execPath}' '${AGENTKEEP}'`;
  writeFileSync(join(bin, 'keychain'), `#!/bin/sh\nexec ${target} "$@"\n`);
  chmodSync(join(bin, 'keychain'), 0o755);
  spawnSync('chown', ['-R', `${u.uid}:${u.gid}`, home]);
  chownSync(u.home, u.uid, u.gid);
  return { home, bin };
}

const PROBE: Record<ShellFlavourName, string> = {
  sh: 'ssh-add -l > "$HOME/list" 2>/dev/null; echo $? > "$HOME/list-status"',
  csh: 'ssh-add -l > ~/list; echo $status > ~/list-status',
  fish: 'ssh-add -l > ~/list 2>/dev/null; echo $status > ~/list-status',
};

/** Runs the login `lines` in `shell` with `tool` as keychain, then reads the outcome. */
async function login(u: SandboxUser, tool: Tool, shell: HookShell, lines: string, keydir = '.keychain', host = HOST): Promise<Outcome> {
  const { home, bin } = freshHome(u, tool);
  const family = familyOf(shell);
  const script = join(home, 'login');
  writeFileSync(script, `${lines}\n${PROBE[family]}\n`, { mode: 0o644 });
  const [cmd, ...pre] = SHELLS[shell];
  const SHELL = SHELL_VARIABLE[family];
  const env = { HOME: home, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOSTNAME: HOST, TMPDIR: join(home, 'tmp'), SHELL };
  const r = await runAs(u, cmd, [...pre, script], { env, cwd: home, timeoutMs: 30_000 });
  expect(r.signal, `${tool}: ${r.stderr}`).toBeNull();
  const status = existsSync(join(home, 'list-status')) ? Number(readFileSync(join(home, 'list-status'), 'utf8').trim()) : -1;
  const listed = existsSync(join(home, 'list')) ? readFileSync(join(home, 'list'), 'utf8') : '';
  const keys = status === 0 ? listed.split('\n').filter(Boolean).map((l) => l.split(' ')[2] ?? '').sort() : [];
  const dir = join(home, keydir);
  const files = ['sh', 'csh', 'fish'].filter((f) => existsSync(join(dir, `${host}-${f}`)));
  // A stopped agent may take a moment to exit after the line that stopped it.
  if (status === 2) await waitFor(() => userAgents(u) === 0, 3000);
  const outcome = { list: status, keys, files, agents: userAgents(u) };
  await killUserProcesses(u);
  return outcome;
}

/** Runs the same line with keychain 2.8.5 and with agentkeep; returns both outcomes. */
async function both(shell: HookShell, lines: string, keydir?: string, host?: string): Promise<Record<Tool, Outcome>> {
  user = createUser(sb, 'kc');
  const keychain = await login(user, 'keychain', shell, lines, keydir, host);
  const agentkeep = await login(user, 'agentkeep', shell, lines, keydir, host);
  return { keychain, agentkeep };
}

const LOADED = { list: 0, keys: ['id_rsa'], files: ['sh', 'csh', 'fish'], agents: 1 };

describe.runIf(CAN_CREATE_USERS)('keychain 2.8.5 login lines work unchanged with agentkeep', () => {
  function setup(): void {
    sb = new Sandbox('ak-kc-');
    mkdirSync(keysDir(), { mode: 0o700 });
    for (const name of ['id_rsa', 'hostkey']) {
      const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(keysDir(), name)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    writeFileSync(join(keysDir(), 'config'), 'Host myhost\n  HostName 127.0.0.1\n  IdentityFile ~/.ssh/hostkey\n', { mode: 0o600 });
    writeFileSync(join(keysDir(), 'kenv'), 'PATH="$HOME/bin:$PATH"; export PATH\n', { mode: 0o600 });
  }

  const NOTHING = { list: 2, keys: [], files: [], agents: 0 };
  const CASES: Array<{ line: string; shell: HookShell; expected: Outcome; keydir?: string; host?: string }> = [
    { line: 'eval "$(keychain --eval --quiet id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'eval `keychain --eval --quiet id_rsa`', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --agents ssh,gpg id_rsa 0xDEADBEEF)"', shell: 'bash', expected: LOADED },
    { line: 'keychain --clear id_rsa; . ~/.keychain/$HOSTNAME-sh', shell: 'dash', expected: LOADED },
    { line: 'keychain -q --nogui id_rsa; source ~/.keychain/$HOSTNAME-sh', shell: 'bash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --noask id_rsa)"', shell: 'dash', expected: { ...LOADED, list: 1, keys: [] } },
    { line: 'eval "$(keychain --eval --quiet --timeout 60 id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --confhost myhost)"', shell: 'dash', expected: { ...LOADED, keys: ['hostkey'] } },
    { line: 'eval "$(keychain --eval --quiet -c myhost id_rsa)"', shell: 'dash', expected: { ...LOADED, keys: ['hostkey', 'id_rsa'] } },
    { line: 'eval "$(keychain --eval --quiet --gpg2 id_rsa)"', shell: 'dash', expected: LOADED },
    // keychain's old "one agent per user" login line: stop the others, then go on as a login.
    { line: 'eval "$(keychain --eval --quiet --stop others id_rsa)"', shell: 'dash', expected: LOADED },
    // A config that ssh -G rejects: keychain reads the Host block itself; the login keeps its agent.
    { line: 'printf "  BogusOption yes\\n" >> ~/.ssh/config; eval "$(keychain --eval --quiet --confhost myhost id_rsa)"', shell: 'dash', expected: { ...LOADED, keys: ['hostkey', 'id_rsa'] } },
    // A relative --dir, taken from the working directory (HOME here), as keychain does (it creates only the last level).
    { line: 'mkdir kcrel; eval "$(keychain --eval --quiet --dir kcrel id_rsa)"', shell: 'dash', expected: LOADED, keydir: 'kcrel/.keychain' },
    { line: 'eval "$(keychain --eval --quiet --env ~/.ssh/kenv id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --dir ~/.cache id_rsa)"', shell: 'dash', expected: LOADED, keydir: '.cache' },
    { line: 'keychain --eval -Q id_rsa | source', shell: 'fish', expected: LOADED },
    { line: 'eval `keychain --eval id_rsa`', shell: 'tcsh', expected: LOADED },
    // A logout file: keychain's deprecated bare -k stops all of the user's agents and removes the env files.
    { line: 'eval "$(keychain --eval --quiet id_rsa)"\nkeychain -k', shell: 'dash', expected: { list: 2, keys: [], files: [], agents: 0 } },
    { line: 'eval "$(keychain --eval --quiet id_rsa)"\nkeychain --stop mine', shell: 'dash', expected: { list: 2, keys: [], files: [], agents: 0 } },
    // The rest of keychain's options, each on a login line.
    { line: 'eval "$(keychain --eval --quiet --absolute --dir ~/kc id_rsa)"', shell: 'dash', expected: LOADED, keydir: 'kc' },
    { line: 'keychain --quiet id_rsa; eval "$(keychain --query)"; export SSH_AUTH_SOCK', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --host otherhost id_rsa)"', shell: 'dash', expected: LOADED, host: 'otherhost' },
    { line: 'eval "$(keychain --eval --quiet --ignore-missing id_rsa nokey)"', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --inherit local-once id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --noinherit id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet id_rsa)"; keychain -l >/dev/null; keychain -L >/dev/null', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --lockwait 5 --nolock --nocolor id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --attempts 2 --confirm id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'eval "$(keychain --eval --quiet --systemd id_rsa)"', shell: 'dash', expected: LOADED },
    { line: 'keychain --help >/dev/null; keychain -V >/dev/null; keychain -h >/dev/null; keychain --version >/dev/null', shell: 'dash', expected: NOTHING },
  ];

  for (const c of CASES) {
    it(`when the line ${JSON.stringify(c.line)} runs in ${c.shell} then agentkeep ends as keychain does`, async () => {
      setup();
      let { keychain, agentkeep } = await both(c.shell, c.line, c.keydir, c.host);
      if (!isDeepStrictEqual(keychain, c.expected)) {
        // keychain 2.8.5 itself is not deterministic on a loaded machine (it judges its agent with
        // ps and may start a second one): one more try for the peer, never for agentkeep.
        rmSync(join(user!.home, 'keychain'), { recursive: true, force: true });
        keychain = await login(user!, 'keychain', c.shell, c.line, c.keydir, c.host);
      }
      expect(keychain, 'keychain 2.8.5').toEqual(c.expected);
      expect(agentkeep, 'agentkeep').toEqual(c.expected);
    });
  }
});
