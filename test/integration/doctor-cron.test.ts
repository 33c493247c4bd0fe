// `agentkeep doctor` after a failed night, as the issue asks: a sandbox user whose crontab has
// two agentrun entries (one command on the crontab's PATH, one not; one --require key loaded
// later, one never), run once by a real `cron -f` after the agent was killed (a simulated
// reboot). doctor, as the user in a cron-like environment and as root with --user, names each
// entry, its last run from the --log, and the exact fix — and never changes the agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENTKEEP, AGENTRUN, HOST, Sandbox, alive, run, waitFor, type RunResult } from '../helpers/sandbox.js';
import { startOwnCron, stopOwnCron, takeCronSlot } from '../helpers/cron.js';
import { CAN_CREATE_USERS, agentkeepAs, createUser, keygenAs, removeUser, requireUsers, runAs, type SandboxUser } from '../helpers/users.js';
import type { DoctorReport } from '../../src/doctor/inspect.js';

requireUsers('doctor cron tests');

let sb: Sandbox;
let user: SandboxUser;
let cronPid: number | undefined;
let releaseCronSlot: (() => Promise<void>) | undefined;
let bin: string;
let localSbin: string;
let crontabPath: string;
/** What the user's login shell would have on PATH: the crontab's, plus where nightly-dump lives. */
let loginPath: string;

/** doctor as the user, in a cron-like environment (no agent variables). */
function doctorAsUser(args: string[]): Promise<RunResult> {
  return agentkeepAs(user, ['doctor', ...args], { env: { HOME: user.home, LOGNAME: user.name, USER: user.name, SHELL: '/bin/sh', PATH: loginPath, LANG: 'C' } });
}

/** doctor as root. */
function doctorAsRoot(args: string[]): Promise<RunResult> {
  return run(process.execPath, [AGENTKEEP, 'doctor', ...args], { env: { ...sb.env, PATH: loginPath } });
}

/** The user's agent as the env file names it, and its identities (ssh-add -l as the user), or undefined. */
async function identities(): Promise<string | undefined> {
  const envFile = join(user.home, '.keychain', `${HOST}-sh`);
  const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(readFileSync(envFile, 'utf8'))?.[1];
  const r = await runAs(user, 'ssh-add', ['-l'], { env: { SSH_AUTH_SOCK: sock!, PATH: '/usr/bin:/bin' } });
  return r.code === 2 ? undefined : r.stdout;
}

/** Runs `probe` and asserts that the agent's identities (or its absence) and the set of agents did not change. */
async function unchanged<T>(probe: () => Promise<T>): Promise<T> {
  const before = await identities();
  const agents = sb.sandboxAgents().sort();
  const result = await probe();
  expect(await identities()).toBe(before);
  expect(sb.sandboxAgents().sort()).toEqual(agents);
  return result;
}

function agentPid(): number {
  return Number(/SSH_AGENT_PID=(\d+)/.exec(readFileSync(join(user.home, '.keychain', `${HOST}-sh`), 'utf8'))![1]);
}

const json = (r: RunResult) => JSON.parse(r.stdout) as DoctorReport;

beforeAll(async () => {
  sb = new Sandbox('ak-doccron-');
  chmodSync(sb.dir, 0o711);
  if (!CAN_CREATE_USERS) return;
  user = createUser(sb, 'doc');
  keygenAs(user, 'backup_ed25519');
  keygenAs(user, 'other_ed25519');
  bin = join(sb.dir, 'bin');
  localSbin = join(sb.dir, 'local-sbin');
  for (const dir of [bin, localSbin]) mkdirSync(dir, { mode: 0o755 });
  symlinkSync(AGENTRUN, join(bin, 'agentrun'));
  writeFileSync(join(localSbin, 'nightly-dump'), '#!/bin/sh\necho dumped\n', { mode: 0o755 });
  const nodeDir = dirname(process.execPath);
  const cronPathLine = ['/usr/bin', '/bin'].includes(nodeDir) ? `${bin}:/usr/bin:/bin` : `${bin}:/usr/bin:/bin:${nodeDir}`;
  loginPath = `${localSbin}:${cronPathLine}`;

  // The owner logged in once: agentkeep started the agent and loaded backup_ed25519.
  const login = await agentkeepAs(user, ['--quiet', 'backup_ed25519'], { env: { PATH: cronPathLine } });
  expect(login.code, login.stderr).toBe(0);
  sb.track(agentPid());

  crontabPath = join(sb.dir, 'crontab');
  writeFileSync(crontabPath, [
    '# the backups',
    `PATH=${cronPathLine}`,
    'MAILTO=""',
    `* * * * * agentrun --require backup_ed25519 --log "$HOME/backup.log" sh -c 'date > "$HOME/backup.ran"'`,
    '* * * * * agentrun --require other_ed25519 --lock dump --log "$HOME/dump.log" nightly-dump',
    '',
  ].join('\n'));
  chmodSync(crontabPath, 0o644);
  chownSync(crontabPath, user.uid, user.gid);
  // Any running cron would run the entries too: install them once this file holds the cron slot.
  releaseCronSlot = await takeCronSlot(sb);
  const installed = spawnSync('crontab', ['-u', user.name, crontabPath], { encoding: 'utf8' });
  expect(installed.status, installed.stderr).toBe(0);
}, 360_000);

afterAll(async () => {
  await stopOwnCron(cronPid);
  removeUser(user);
  await releaseCronSlot?.();
  sb?.cleanup();
});

describe.skipIf(!CAN_CREATE_USERS)('agentkeep doctor with a real crontab and cron daemon', () => {
  it('when the agent is up with one key then doctor reads the crontab: the first entry will run, the second lacks its key and its command', async () => {
    const r = await unchanged(() => doctorAsUser(['--json']));
    expect(r.code, r.stderr).toBe(1);
    const report = json(r);
    expect(report.crontab).toMatchObject({ source: 'crontab -l', present: true, entries: 2 });
    expect(report.jobs.map((j) => [j.line, j.schedule, j.status])).toEqual([[4, '* * * * *', 0], [5, '* * * * *', 75]]);
    expect(report.jobs[0]).toMatchObject({ path: loginPath.slice(localSbin.length + 1), pathSource: 'crontab', agentrun: join(bin, 'agentrun'), program: { name: 'sh', path: '/usr/bin/sh' }, issues: [] });
    expect(report.jobs[1]!.issues.map((i) => [i.code, i.status])).toEqual([['JOB_KEY_NOT_LOADED', 75], ['JOB_COMMAND_NOT_FOUND', 127]]);
    expect(report.jobs[1]!.required).toEqual([expect.objectContaining({ key: 'other_ed25519', loaded: false })]);
    expect(report.jobs[1]!.lock).toMatchObject({ name: 'dump', held: false });
  });

  it('when cron has run both entries once after the agent was killed then each log records exit 75 and nothing ran', async () => {
    const pid = agentPid();
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !alive(pid))).toBe(true);
    cronPid = await startOwnCron(sb);
    // The one minute-boundary wait of this file: cron runs `* * * * *` entries at :00.
    const ended = (log: string) => existsSync(log) && / (end|not started): /.test(readFileSync(log, 'utf8'));
    const logs = [join(user.home, 'backup.log'), join(user.home, 'dump.log')];
    expect(await waitFor(() => logs.every(ended), 135_000), 'cron did not run both entries within 135 s').toBe(true);
    await stopOwnCron(cronPid);
    cronPid = undefined;
    for (const log of logs) expect(readFileSync(log, 'utf8')).toMatch(/ not started: .*no ssh-agent is answering at .*\(exit status 75\)/);
    expect(existsSync(join(user.home, 'backup.ran'))).toBe(false);
  }, 270_000);

  it('when doctor runs after that night then it names each entry, the last run\'s exit 75 and why, and the exact fix', async () => {
    const r = await unchanged(() => doctorAsUser([]));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`line 4: * * * * *  agentrun --require backup_ed25519 --log "$HOME/backup.log" sh -c 'date > "$HOME/backup.ran"'`);
    expect(r.stdout).toContain('line 5: * * * * *  agentrun --require other_ed25519 --lock dump --log "$HOME/dump.log" nightly-dump');
    expect(r.stdout).toMatch(/last run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d: exit 75 \(no agent: rebooted at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, nobody logged in since\)/);
    expect(r.stdout).toContain(`tonight: will fail with 75 — fix: log in as ${user.name} and run: agentkeep backup_ed25519\n`);
    expect(r.stdout).toContain(`tonight: will fail with 75 — fix: log in as ${user.name} and run: agentkeep other_ed25519\n`);
    expect(r.stdout).toContain(`then: would fail with 127 — fix: nightly-dump is ${join(localSbin, 'nightly-dump')}; put its directory on the crontab's PATH line: PATH=${localSbin}:`);
    expect(r.stdout).toMatch(/^last boot {8}\d{4}-/m);
    expect(r.stdout).toMatch(/^agent started {4}\d{4}-.* \(its socket's mtime\)$/m);

    const j = await unchanged(() => doctorAsUser(['--json']));
    expect(j.code).toBe(1);
    const report = json(j);
    expect(report.jobs.map((job) => [job.line, job.status, job.lastRun?.status, job.issues.map((i) => i.code)])).toEqual([
      [4, 75, 75, ['AGENT_NOT_ANSWERING']],
      [5, 75, 75, ['AGENT_NOT_ANSWERING', 'JOB_COMMAND_NOT_FOUND']],
    ]);
    expect(report.jobs[0]!.lastRun!.why).toMatch(/^no agent: rebooted at .*, nobody logged in since$/);
    expect(report.jobs[0]!.issues[0]!.fix).toBe(`log in as ${user.name} and run: agentkeep backup_ed25519`);
    expect(report.jobs[1]!.issues[0]!.fix).toBe(`log in as ${user.name} and run: agentkeep other_ed25519`);
    expect(report.jobs[1]!.log).toMatchObject({ path: join(user.home, 'dump.log'), exists: true, lastEnd: { kind: 'not started', status: 75 } });
    expect(report.problems.map((p) => [p.code, p.job])).toEqual(expect.arrayContaining([
      ['AGENT_NOT_ANSWERING', undefined], ['JOB_COMMAND_NOT_FOUND', 5], ['JOB_LAST_RUN_FAILED', 4], ['JOB_LAST_RUN_FAILED', 5],
    ]));
    // Without --require, the general fix names the keys the entries need, not a placeholder.
    expect(report.problems.find((p) => p.code === 'AGENT_NOT_ANSWERING')!.fix).toBe(`log in as ${user.name} and run: agentkeep backup_ed25519 other_ed25519`);
    expect(report.agent).toMatchObject({ answering: false, startedFrom: 'socket' });
    expect(report.boot).not.toBeNull();
  });

  it('when root asks with --user NAME then the verdicts are the same, worded for root, and no file of the user is UNSAFE', async () => {
    const mine = json(await doctorAsUser(['--json']));
    const r = await unchanged(() => doctorAsRoot(['--user', user.name, '--json']));
    expect(r.code, r.stderr).toBe(1);
    const report = json(r);
    expect(report.user).toEqual({ name: user.name, home: user.home, inspectedBy: 'root' });
    expect(report.uid).toBe(user.uid);
    expect(report.crontab.source).toBe(`crontab -u ${user.name} -l`);
    const verdicts = (x: DoctorReport) => x.jobs.map((job) => [job.line, job.status, job.lastRun?.status, job.issues.map((i) => i.code)]);
    expect(verdicts(report)).toEqual(verdicts(mine));
    expect(report.problems.map((p) => p.code).sort()).toEqual(mine.problems.map((p) => p.code).sort());
    expect(report.problems.map((p) => p.code)).not.toContain('UNSAFE_PATH');
    expect(report.jobs[0]!.issues[0]!.fix).toBe(`log in as ${user.name} and run: agentkeep backup_ed25519 (from root: sudo -iu ${user.name} agentkeep backup_ed25519)`);

    const text = await unchanged(() => doctorAsRoot(['--user', user.name]));
    expect(text.code).toBe(1);
    expect(text.stdout).not.toContain('UNSAFE');
    expect(text.stdout).toContain(`tonight: will fail with 75 — fix: log in as ${user.name} and run: agentkeep backup_ed25519 (from root: sudo -iu ${user.name} agentkeep backup_ed25519)`);
  });

  it('when root runs doctor on the user\'s directory without --user then it says whose files they are and how to ask, never to remove or chown them', async () => {
    const r = await unchanged(() => doctorAsRoot(['--dir', user.home]));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`fix: these files belong to ${user.name}; run: agentkeep doctor --user ${user.name}`);
    expect(r.stdout).not.toMatch(/rm -f|chown|UNSAFE/);
  });

  it('when a user who is not root asks about another user then exit 64 and it says --user needs root', async () => {
    const r = await doctorAsUser(['--user', 'root']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--user root needs root');
  });

  it('when the owner has logged in again with one key then the first entry will run and the second lacks its key, then its command', async () => {
    const login = await agentkeepAs(user, ['--quiet', 'backup_ed25519'], { env: { PATH: loginPath } });
    expect(login.code, login.stderr).toBe(0);
    sb.track(agentPid());
    const r = await unchanged(() => doctorAsUser([]));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/last run .*: exit 75 \(no agent: rebooted at .*, the agent was started later, at .*\)\n {2}tonight: will run\n/);
    expect(r.stdout).toContain(`tonight: will fail with 75 — fix: log in as ${user.name} and run: agentkeep other_ed25519\n`);
    const report = json(await unchanged(() => doctorAsUser(['--json'])));
    expect(report.jobs.map((job) => [job.status, job.issues.map((i) => i.code)])).toEqual([[0, []], [75, ['JOB_KEY_NOT_LOADED', 'JOB_COMMAND_NOT_FOUND']]]);
    expect(report.jobs[0]!.required).toEqual([expect.objectContaining({ key: 'backup_ed25519', loaded: true })]);
    expect(report.agent.startedFrom).toBe('process');
    const asRoot = json(await unchanged(() => doctorAsRoot(['--user', user.name, '--json'])));
    expect(asRoot.jobs.map((job) => [job.status, job.issues.map((i) => i.code)])).toEqual([[0, []], [75, ['JOB_KEY_NOT_LOADED', 'JOB_COMMAND_NOT_FOUND']]]);
  });

  it('when the crontab\'s PATH finds every command and every key is loaded then doctor exits 0', async () => {
    const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(readFileSync(join(user.home, '.keychain', `${HOST}-sh`), 'utf8'))![1]!;
    const added = await runAs(user, 'ssh-add', [join(user.home, '.ssh', 'other_ed25519')], { env: { SSH_AUTH_SOCK: sock, PATH: '/usr/bin:/bin' } });
    expect(added.code, added.stderr).toBe(0);
    const fixed = join(sb.dir, 'crontab.fixed');
    writeFileSync(fixed, readFileSync(crontabPath, 'utf8').replace(/^PATH=/m, `PATH=${localSbin}:`));
    chmodSync(fixed, 0o644);
    const r = await unchanged(() => doctorAsUser(['--crontab', fixed]));
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.match(/tonight: will run/g)).toHaveLength(2);
    expect(r.stdout).toContain('healthy: every agentrun entry would run now.');
  });
});
