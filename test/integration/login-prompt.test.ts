// Logins with `--clear` on the login line, through the real hooks, a real ssh-agent and ssh-add,
// and a real pseudo-terminal (tmux) or none at all (runuser -l, su -): a login that cannot ask
// for a passphrase leaves the agent alone, a terminal gets 3 tries, Ctrl-C ends only the
// prompt, and a failed load still leaves the shell with the agent.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTKEEP, HOST, Sandbox, parseShEval, run, waitFor } from '../helpers/sandbox.js';
import { keygenFingerprint, loadedFingerprints, makeAskpass } from '../helpers/askpass.js';
import { agentkeepAs, createUser, keygenAs, removeUser, requireUsers, CAN_CREATE_USERS, type SandboxUser } from '../helpers/users.js';
import { Tmux } from '../helpers/tmux.js';
import type { ShellFlavourName } from '../../src/shells/flavours.js';

const PASS = 'the right one 42';
const WRONG = ['wrong-one-a1', 'wrong-two-b2', 'wrong-three-c3'];
const DONE = 'AK_PROFILE_DONE';

let sb: Sandbox;
let tmux: Tmux | undefined;
let user: SandboxUser | undefined;
afterEach(() => {
  tmux?.kill();
  tmux = undefined;
  removeUser(user);
  user = undefined;
  sb?.cleanup();
});

type LoginShell = 'bash' | 'tcsh' | 'fish';

/** The line `agentkeep hook SHELL --quiet --clear k` prints, exactly as a user would paste it. */
function hookLine(shell: ShellFlavourName): string {
  const r = spawnSync(process.execPath, [AGENTKEEP, 'hook', shell, '--quiet', '--clear', 'k'], { env: sb.env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** ~/bin/agentkeep, which the login file puts first on the PATH that /etc/profile reset. */
function writeWrapper(home: string): string {
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'agentkeep'), `#!/bin/sh\nexec '${process.execPath}' '${AGENTKEEP}' "$@"\n`, { mode: 0o755 });
  return bin;
}

/** The login file of `shell` in `home`: PATH, the hook line, then the hook's status, SSH_AUTH_SOCK and a marker. */
function writeLoginFile(shell: LoginShell, home: string): string {
  writeWrapper(home);
  switch (shell) {
    case 'bash': {
      const file = join(home, '.bash_profile');
      writeFileSync(file, [
        'PATH=$HOME/bin:$PATH', hookLine('sh'),
        'echo "AK_STATUS=$? AK_SOCK=${SSH_AUTH_SOCK-unset}"', `echo ${DONE}`, '',
      ].join('\n'));
      return file;
    }
    case 'tcsh': {
      const file = join(home, '.login');
      writeFileSync(file, [
        'set path = ( $HOME/bin $path )', hookLine('csh'), 'set ak_status = $status',
        'if ( $?SSH_AUTH_SOCK ) then', '  echo "AK_STATUS=$ak_status AK_SOCK=$SSH_AUTH_SOCK"', 'else', '  echo "AK_STATUS=$ak_status AK_SOCK=unset"', 'endif',
        `echo ${DONE}`, '',
      ].join('\n'));
      return file;
    }
    case 'fish': {
      mkdirSync(join(home, '.config', 'fish'), { recursive: true });
      const file = join(home, '.config', 'fish', 'config.fish');
      writeFileSync(file, [
        'if status is-login', '  set -gx PATH $HOME/bin $PATH', `  ${hookLine('fish')}`,
        '  set -l ak_status $status', '  set -q SSH_AUTH_SOCK; or set -l SSH_AUTH_SOCK unset',
        '  echo "AK_STATUS=$ak_status AK_SOCK=$SSH_AUTH_SOCK"', `  echo ${DONE}`, 'end', '',
      ].join('\n'));
      return file;
    }
  }
}

/** Starts the agent with `k` (passphrase PASS) loaded, as a login earlier today would have. */
async function agentWithKey(): Promise<{ sock: string; fp: string }> {
  const key = sb.keygen('k', { passphrase: PASS });
  const askpass = makeAskpass(sb, PASS);
  const r = await sb.agentkeep(['--eval', '--quiet', 'k'], { env: { SSH_ASKPASS: askpass.program } });
  expect(r.code, r.stderr).toBe(0);
  const sock = parseShEval(r.stdout).SSH_AUTH_SOCK!;
  const fp = keygenFingerprint(`${key}.pub`);
  expect(loadedFingerprints(sock)).toEqual([fp]);
  return { sock, fp };
}

/** A login shell of `shell` on a fresh terminal, with a clean environment and the sandbox HOME. */
function startLogin(name: string, shell: LoginShell): void {
  tmux ??= new Tmux(sb);
  const argv = { bash: ['bash', '--login'], tcsh: ['tcsh', '-l'], fish: ['fish', '-l'] }[shell];
  tmux.start(name, ['env', '-i', `HOME=${sb.home}`, 'PATH=/usr/bin:/bin', 'TERM=xterm', 'USER=root', 'LOGNAME=root', 'LANG=C',
    `SHELL=/usr/bin/${shell}`, ...argv], sb.dir);
}

async function waitScreen(name: string, what: string | RegExp, ms = 20_000): Promise<string> {
  const seen = () => {
    const text = tmux!.screen(name);
    return typeof what === 'string' ? text.includes(what) : what.test(text);
  };
  expect(await waitFor(seen, ms), `${name} never showed ${String(what)}:\n${tmux!.screen(name)}`).toBe(true);
  return tmux!.screen(name);
}

/** Types a command: with echo on, the screen shows the command line and then its output. */
async function expectEchoes(name: string): Promise<void> {
  tmux!.type(name, 'echo AK_ECHO_OK');
  const both = () => /echo AK_ECHO_OK\n(?:.*\n)*?AK_ECHO_OK\n/.test(tmux!.screen(name));
  expect(await waitFor(both, 15_000), tmux!.screen(name)).toBe(true);
}

/** The PID of this sandbox's terminal reader that ssh-add started (shell/agentkeep-askpass-tty). */
function readerPid(): number {
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (!cmdline.includes('agentkeep-askpass-tty') || !cmdline.includes(sb.dir)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (readFileSync(`/proc/${ppid}/comm`, 'utf8').trim() === 'ssh-add') return Number(name);
    } catch { /* exited meanwhile */ }
  }
  return 0;
}

/** With AK_SAVE_SCREENS=FILE, the screens are appended there for the record. */
function saveScreen(title: string, text: string): void {
  const file = process.env.AK_SAVE_SCREENS;
  if (file) appendFileSync(file, `===== ${title} =====\n${text}\n`);
}

describe('a login that cannot ask for a passphrase', () => {
  requireUsers('runuser -l / su - logins');
  it.skipIf(!CAN_CREATE_USERS)('when runuser -l USER -c and su - USER -c run the --clear login line with no terminal then the key stays loaded and the shell gets SSH_AUTH_SOCK', async () => {
    sb = new Sandbox('ak-login-');
    user = createUser(sb, 'login', { shell: '/bin/bash' });
    keygenAs(user, 'k', PASS);
    // The user's own askpass, for loading the key once beforehand (a login at a desktop).
    const askpass = join(user.home, 'askpass');
    writeFileSync(join(user.home, '.pass'), PASS, { mode: 0o600 });
    writeFileSync(askpass, `#!/bin/sh\ncat "$HOME/.pass"\n`, { mode: 0o700 });
    for (const path of [join(user.home, '.pass'), askpass]) chownSync(path, user.uid, user.gid);
    const loaded = await agentkeepAs(user, ['--eval', '--quiet', 'k'], { env: { SSH_ASKPASS: askpass } });
    expect(loaded.code, loaded.stderr).toBe(0);
    const sock = parseShEval(loaded.stdout).SSH_AUTH_SOCK!;
    const fp = keygenFingerprint(join(user.home, '.ssh', 'k.pub'));
    expect(loadedFingerprints(sock)).toEqual([fp]);
    const profile = writeLoginFile('bash', user.home);
    for (const path of [profile, join(user.home, 'bin'), join(user.home, 'bin', 'agentkeep')]) chownSync(path, user.uid, user.gid);

    const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
    for (const [cmd, args] of [['runuser', ['-l', user.name, '-c', 'echo AK_CMD_RAN']], ['su', ['-', user.name, '-c', 'echo AK_CMD_RAN']]] as const) {
      const r = await run(cmd, [...args], { env, timeoutMs: 30_000 });
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(0);
      expect(r.stdout, cmd).toBe(`AK_STATUS=0 AK_SOCK=${sock}\n${DONE}\nAK_CMD_RAN\n`);
      expect(r.stderr, cmd).toContain('Warning: not clearing the ssh-agent (--clear): there is no terminal');
      expect(loadedFingerprints(sock), cmd).toEqual([fp]);
    }
  });
});

describe('the README install line\'s first run, typed by root at a terminal', () => {
  requireUsers('su -P as root at a terminal');
  it.skipIf(!CAN_CREATE_USERS)('when root runs su -P - USER -c \'agentkeep KEY\' then the passphrase is asked on a terminal and the key is loaded; a plain su - USER -c says how to get one', async () => {
    sb = new Sandbox('ak-login-');
    user = createUser(sb, 'first', { shell: '/bin/bash' });
    keygenAs(user, 'id_ed25519', PASS);
    const bin = writeWrapper(user.home);
    // Stands in for the global install's bin directory being on the user's PATH.
    writeFileSync(join(user.home, '.profile'), `PATH="${bin}:$PATH"\n`);
    for (const path of [bin, join(bin, 'agentkeep'), join(user.home, '.profile')]) chownSync(path, user.uid, user.gid);
    tmux = new Tmux(sb);
    const root = ['env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'LANG=C', 'sh', '-c'];

    tmux.start('plain', [...root, `su - ${user.name} -c 'agentkeep id_ed25519'; echo "AK_EXIT=$?"; sleep 120`], sb.dir);
    const refused = await waitScreen('plain', /AK_EXIT=\d+/);
    expect(refused).toContain('stdin is a terminal but this process has none to ask on (su -c and runuser -c start a session without one: use su -P, sudo -iu, or log in)');
    expect(refused).toContain('AK_EXIT=1');

    tmux.start('pty', [...root, `su -P - ${user.name} -c 'agentkeep id_ed25519'; echo "AK_EXIT=$?"; sleep 120`], sb.dir);
    await waitScreen('pty', 'Enter passphrase for');
    tmux.type('pty', PASS);
    const text = await waitScreen('pty', /AK_EXIT=\d+/);
    saveScreen('su -P - USER -c \'agentkeep id_ed25519\' as root', text);
    expect(text).toContain('AK_EXIT=0');
    expect(text).not.toContain(PASS);
    const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(readFileSync(join(user.home, '.keychain', `${HOST}-sh`), 'utf8'))![1]!;
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(join(user.home, '.ssh', 'id_ed25519.pub'))]);
  });
});

describe('a login at a terminal with --clear', () => {
  for (const shell of ['bash', 'tcsh', 'fish'] as const) {
    it(`when ${shell} logs in and three wrong passphrases are typed then the prompt stops, the profile goes on with the agent, and the key is gone`, async () => {
      sb = new Sandbox('ak-login-');
      const { sock } = await agentWithKey();
      writeLoginFile(shell, sb.home);
      startLogin('t', shell);
      await waitScreen('t', 'Enter passphrase for');
      for (const [i, wrong] of WRONG.entries()) {
        tmux!.type('t', wrong);
        if (i < 2) await waitScreen('t', new RegExp(`(Bad passphrase, try again for[^\\n]*\\n[^]*){${i + 1}}`));
      }
      const text = await waitScreen('t', DONE);
      saveScreen(`${shell}: three wrong passphrases`, text);
      expect(text.match(/Enter passphrase for/g)).toHaveLength(1);
      expect(text.match(/Bad passphrase, try again for/g)).toHaveLength(2);
      expect(text).toContain(`agentkeep: keys not loaded: ${join(sb.home, '.ssh', 'k')} (3 wrong passphrases); --clear emptied the agent, so cron jobs have none of these keys until you run: agentkeep k`);
      expect(text).toContain(`AK_STATUS=1 AK_SOCK=${sock}\n`);
      for (const wrong of WRONG) expect(text).not.toContain(wrong);
      expect(loadedFingerprints(sock)).toEqual([]);
    });

    it(`when ${shell} logs in and Ctrl-C is pressed at the prompt then the profile goes on with the agent and the terminal echoes again`, async () => {
      sb = new Sandbox('ak-login-');
      const { sock } = await agentWithKey();
      writeLoginFile(shell, sb.home);
      startLogin('t', shell);
      await waitScreen('t', 'Enter passphrase for');
      tmux!.type('t', 'half-typed', false);
      tmux!.key('t', 'C-c');
      const text = await waitScreen('t', DONE);
      saveScreen(`${shell}: Ctrl-C at the prompt`, text);
      expect(text).toContain(`agentkeep: keys not loaded: ${join(sb.home, '.ssh', 'k')} (cancelled with Ctrl-C); --clear emptied the agent, so cron jobs have none of these keys until you run: agentkeep k`);
      expect(text).toContain(`AK_STATUS=1 AK_SOCK=${sock}\n`);
      expect(text).not.toContain('half-typed');
      expect(loadedFingerprints(sock)).toEqual([]);
      // The shell is usable, and what is typed shows again: echo was restored.
      await expectEchoes('t');
    });
  }

  it('when SIGINT reaches agentkeep alone during the prompt then the prompt ends, the terminal echoes again and the profile goes on', async () => {
    sb = new Sandbox('ak-login-');
    const { sock } = await agentWithKey();
    writeLoginFile('bash', sb.home);
    startLogin('t', 'bash');
    await waitScreen('t', 'Enter passphrase for');
    // The prompting agentkeep left its PID and terminal next to the lock.
    const [pidLine, place] = readFileSync(join(sb.keydir, `${HOST}-lock.prompt`), 'utf8').split('\n');
    expect(place).toBe(tmux!.tty('t'));
    process.kill(Number(pidLine), 'SIGINT');
    const text = await waitScreen('t', DONE);
    expect(text).toContain('(cancelled with Ctrl-C)');
    expect(text).toContain(`AK_STATUS=1 AK_SOCK=${sock}\n`);
    expect(text).not.toContain('Terminated');
    await expectEchoes('t');
  });

  it('when the terminal reader is killed with echo off then agentkeep puts the terminal settings back and the profile goes on', async () => {
    sb = new Sandbox('ak-login-');
    const { sock } = await agentWithKey();
    writeLoginFile('bash', sb.home);
    startLogin('t', 'bash');
    await waitScreen('t', 'Enter passphrase for');
    const reader = readerPid();
    expect(reader).toBeGreaterThan(0);
    process.kill(reader, 'SIGKILL');
    const text = await waitScreen('t', DONE);
    expect(text).toContain(`AK_STATUS=1 AK_SOCK=${sock}\n`);
    expect(text).toContain('keys not loaded');
    await expectEchoes('t');
  });

  it('when bash logs in and the right passphrase is typed then the key is loaded and the passphrase never appears on the screen', async () => {
    sb = new Sandbox('ak-login-');
    const { sock, fp } = await agentWithKey();
    writeLoginFile('bash', sb.home);
    startLogin('t', 'bash');
    await waitScreen('t', 'Enter passphrase for');
    tmux!.type('t', PASS);
    const text = await waitScreen('t', DONE);
    expect(text).toContain(`AK_STATUS=0 AK_SOCK=${sock}\n`);
    expect(text).not.toContain(PASS);
    expect(text).not.toContain('keys not loaded');
    expect(loadedFingerprints(sock)).toEqual([fp]);
  });

  for (const how of ['killed', 'closed'] as const) {
    it(`when two terminals log in at once and the prompting one is ${how} then the other names its tty and PID, then takes over and prompts`, async () => {
      sb = new Sandbox('ak-login-');
      const { sock, fp } = await agentWithKey();
      writeLoginFile('bash', sb.home);
      startLogin('a', 'bash');
      await waitScreen('a', 'Enter passphrase for');
      startLogin('b', 'bash');
      const waiting = await waitScreen('b', /waiting for the passphrase prompt on (\S+) \(agentkeep PID (\d+)\)/);
      const [, tty, pidText] = /waiting for the passphrase prompt on (\S+) \(agentkeep PID (\d+)\)/.exec(waiting)!;
      expect(tty).toBe(tmux!.tty('a'));
      const pid = Number(pidText);
      // agentkeep names itself in ps (process.title).
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/[\0 ]+$/, '')).toBe('agentkeep');
      expect(waiting).not.toContain('Enter passphrase');
      // Killed: its lock goes stale after 4 s. Closed: SIGHUP, and the lock is released at once.
      if (how === 'killed') process.kill(pid, 'SIGKILL');
      else tmux!.close('a');
      // The bound only catches a hang.
      const took = await waitScreen('b', 'Enter passphrase for', 15_000);
      expect(took).toContain(`the passphrase prompt on ${tty} (agentkeep PID ${pid}) was abandoned; asking here`);
      tmux!.type('b', PASS);
      const done = await waitScreen('b', DONE);
      expect(done).toContain(`AK_STATUS=0 AK_SOCK=${sock}\n`);
      expect(done).not.toContain(PASS);
      expect(loadedFingerprints(sock)).toEqual([fp]);
      if (how === 'killed') {
        // The abandoned terminal got its prompt ended and its settings back.
        await waitScreen('a', DONE);
        await expectEchoes('a');
      }
    });
  }
});
