// Makes sure the real programs the test suite drives are installed. As root with apt-get it
// installs what is missing; elsewhere it names exactly what is missing. With CI=true a
// missing program is a failure, never a skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Packages installed without their recommendations (cron's would pull in a mail server). */
const NO_RECOMMENDS = new Set(['cron']);

/** command → Debian package that provides it. */
export const REQUIRED = {
  'ssh-agent': 'openssh-client', 'ssh-add': 'openssh-client', 'ssh-keygen': 'openssh-client', ssh: 'openssh-client',
  sshd: 'openssh-server', scp: 'openssh-client',
  rsync: 'rsync', rrsync: 'rsync',
  dash: 'dash', bash: 'bash', tcsh: 'tcsh', fish: 'fish', zsh: 'zsh',
  posh: 'posh', 'bsd-csh': 'csh', mksh: 'mksh', ksh: 'ksh', yash: 'yash', busybox: 'busybox',
  shellcheck: 'shellcheck',
  'gnome-keyring-daemon': 'gnome-keyring', 'dbus-run-session': 'dbus-daemon', 'secret-tool': 'libsecret-tools',
  tmux: 'tmux', keychain: 'keychain', hyperfine: 'hyperfine',
  setpriv: 'util-linux', flock: 'util-linux', su: 'util-linux', runuser: 'util-linux', stty: 'coreutils', dd: 'coreutils', script: 'bsdutils', git: 'git',
  // A real cron daemon for the crontab tests (started by the test itself, stopped by PID).
  cron: 'cron', crontab: 'cron', useradd: 'passwd', timeout: 'coreutils', stat: 'coreutils', truncate: 'coreutils', mktemp: 'coreutils', printenv: 'coreutils', ps: 'procps', time: 'time',
  // The check that the ps backend reads no other process's /proc entries (test/integration/proc-strace.test.ts).
  strace: 'strace',
};

const SEARCH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function found(cmd) {
  return SEARCH.some((dir) => {
    try { accessSync(join(dir, cmd), constants.X_OK); return true; } catch { return false; }
  });
}

function missing() {
  return Object.entries(REQUIRED).filter(([cmd]) => !found(cmd));
}

let absent = missing();
const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (absent.length > 0 && canApt) {
  const pkgs = [...new Set(absent.map(([, pkg]) => pkg))];
  console.log(`prereqs: installing ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const plain = pkgs.filter((p) => !NO_RECOMMENDS.has(p));
  const bare = pkgs.filter((p) => NO_RECOMMENDS.has(p));
  if (plain.length > 0) execFileSync('apt-get', ['install', '-y', '-qq', ...plain], { stdio: ['ignore', 'inherit', 'inherit'], env });
  if (bare.length > 0) execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...bare], { stdio: ['ignore', 'inherit', 'inherit'], env });
  absent = missing();
}
if (absent.length > 0) {
  const pkgs = [...new Set(absent.map(([, pkg]) => pkg))];
  console.error(`prereqs: missing programs: ${absent.map(([cmd]) => cmd).join(', ')}`);
  console.error(`prereqs: install them (Debian/Ubuntu): apt-get install --no-install-recommends ${pkgs.join(' ')}`);
  process.exit(1);
}
