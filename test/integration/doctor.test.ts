// `agentkeep doctor --json` under a cron-like environment: each failure state agentrun refuses
// is reported with its stable code and fix, the healthy state exits 0, and nothing is changed.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENTKEEP, AGENTRUN, HOST, PROC_BACKENDS, Sandbox, alive, backendEnv, run, waitFor } from '../helpers/sandbox.js';
import { cronAgentrun, cronEnv, setupAgent, spawnAgentrun, sshAdd, sshAddWipe } from '../helpers/agentrun.js';
import type { DoctorReport } from '../../src/doctor/inspect.js';

const codes = (r: DoctorReport) => r.problems.map((p) => p.code);

describe('agentkeep doctor', () => {
  let sb: Sandbox;
  afterEach(() => sb?.cleanup());

  /** A logged-in sandbox plus a bin dir holding `agentrun`, so cron's PATH can find it. */
  function loggedIn(): { sock: string; pid: number; cronPath: string } {
    sb = new Sandbox('ak-doctor-');
    const key = sb.keygen('backup_ed25519');
    sb.keygen('other_ed25519');
    const agent = setupAgent(sb);
    sshAdd(sb, agent.sock, key);
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(AGENTRUN, join(bin, 'agentrun'));
    return { ...agent, cronPath: `${bin}:/usr/bin:/bin:${dirname(process.execPath)}` };
  }

  async function doctor(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; report: DoctorReport; stderr: string }> {
    const before = sb.sandboxAgents().length;
    const files = readdirSync(sb.keydir, { recursive: true }).sort();
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--json', ...args], { env: cronEnv(sb, env) });
    expect(sb.sandboxAgents().length).toBe(before);
    expect(readdirSync(sb.keydir, { recursive: true }).sort()).toEqual(files);
    return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport, stderr: r.stderr };
  }


  it.each(PROC_BACKENDS)('when everything a cron job needs is in place (%s backend) then it reports healthy, the agent alive, and exits 0', async (backend) => {
    const { sock, pid, cronPath } = loggedIn();
    const { code, report } = await doctor(['--cron-path', cronPath, '--require', 'backup_ed25519'], backendEnv(backend));
    expect(code).toBe(0);
    expect(report).toMatchObject({
      version: 1, healthy: true, agentrunStatus: 0, problems: [],
      host: { name: HOST, source: 'uname' },
      keydir: { path: sb.keydir, exists: true, type: 'dir', mode: '0700', ok: true },
      agent: { socket: sock, pid, pidAlive: true, answering: true },
      required: [{ key: 'backup_ed25519', loaded: true }],
      cron: { path: cronPath, agentrun: join(sb.dir, 'bin/agentrun') },
    });
    expect(report.envFiles[0]).toMatchObject({ flavour: 'sh', path: sb.file('sh'), ok: true, mode: '0600' });
    expect(report.agent.identities).toEqual([expect.objectContaining({ comment: 'backup_ed25519', type: 'ED25519', bits: 256 })]);
  });

  it('when the keys were wiped then NO_IDENTITIES, agentrun would exit 75', async () => {
    const { sock, cronPath } = loggedIn();
    sshAddWipe(sb, sock);
    const { code, report } = await doctor(['--cron-path', cronPath]);
    expect(code).toBe(1);
    expect(codes(report)).toEqual(['NO_IDENTITIES']);
    expect(report.agentrunStatus).toBe(75);
    expect(report.problems[0]!.fix).toBe('log in as root and run: agentkeep KEY (the key your cron jobs use; agentrun --require KEY checks for it)');
  });

  it.each(PROC_BACKENDS)('when the agent is gone (after a reboot; %s backend) then AGENT_NOT_ANSWERING with the socket and a dead pid', async (backend) => {
    const { pid, sock, cronPath } = loggedIn();
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !alive(pid))).toBe(true);
    const { code, report } = await doctor(['--cron-path', cronPath, '--require', 'backup_ed25519'], backendEnv(backend));
    expect(code).toBe(1);
    expect(codes(report)).toEqual(['AGENT_NOT_ANSWERING']);
    expect(report.agent).toMatchObject({ socket: sock, pid, pidAlive: false, answering: false });
    expect(report.problems[0]!.fix).toBe('log in as root and run: agentkeep backup_ed25519');
    expect(report.agentrunStatus).toBe(75);
  });

  it('when the env file is missing then ENV_FILE_MISSING, and other hosts\' files are named', async () => {
    const { cronPath } = loggedIn();
    renameSync(sb.file('sh'), join(sb.keydir, 'backup1-sh'));
    const { code, report } = await doctor(['--cron-path', cronPath]);
    expect(code).toBe(1);
    expect(codes(report)).toEqual(['ENV_FILE_MISSING']);
    expect(report.otherHostEnvFiles).toEqual(['backup1-sh']);
    expect(report.problems[0]!.fix).toContain('--host backup1');
  });

  it('when a required key is not loaded then KEY_NOT_LOADED names it', async () => {
    const { cronPath } = loggedIn();
    const { code, report } = await doctor(['--cron-path', cronPath, '--require', 'backup_ed25519', '--require', 'other_ed25519']);
    expect(code).toBe(1);
    expect(codes(report)).toEqual(['KEY_NOT_LOADED']);
    expect(report.required.map((r) => [r.key, r.loaded])).toEqual([['backup_ed25519', true], ['other_ed25519', false]]);
    expect(report.problems[0]!.fix).toBe('log in as root and run: agentkeep other_ed25519');
  });

  it('when the env file is world-writable then UNSAFE_PATH, agentrun would exit 78', async () => {
    const { cronPath } = loggedIn();
    chmodSync(sb.file('sh'), 0o666);
    const { report } = await doctor(['--cron-path', cronPath]);
    expect(codes(report)).toEqual(['UNSAFE_PATH']);
    expect(report.agentrunStatus).toBe(78);
    expect(report.problems[0]!.fix).toBe(`run: chmod 600 '${sb.file('sh')}'`);
  });

  it.each([
    ['a symbolic link to the real socket', (sock: string) => { renameSync(sock, join(sb.dir, 'moved.sock')); symlinkSync(join(sb.dir, 'moved.sock'), sock); }],
    ['owned by another user', (sock: string) => { chownSync(sock, 1, 1); }],
  ])('when the socket in the env file is %s then agentrunStatus is what a real agentrun exits with (75)', async (_what, spoil) => {
    const { sock, cronPath } = loggedIn();
    spoil(sock);
    const { code, report } = await doctor(['--cron-path', cronPath]);
    expect(code).toBe(1);
    expect(codes(report)).toEqual(['AGENT_NOT_ANSWERING']);
    const real = await cronAgentrun(sb, ['true']);
    expect(real.code, real.stderr).toBe(75);
    expect(report.agentrunStatus).toBe(real.code);
  });

  it('when a --require key file does not exist then agentrunStatus is 1, as a real agentrun exits', async () => {
    const { cronPath } = loggedIn();
    const { code, report } = await doctor(['--cron-path', cronPath, '--require', 'no_such_key']);
    expect(code).toBe(1);
    expect(codes(report)).toEqual(['KEY_FILE']);
    const real = await cronAgentrun(sb, ['--require', 'no_such_key', 'true']);
    expect(real.code, real.stderr).toBe(1);
    expect(report.agentrunStatus).toBe(real.code);
  });

  it('when doctor runs in a shell whose SSH_AUTH_SOCK names a live agent but the env file names none then agentrunStatus is still 75', async () => {
    const { sock, cronPath } = loggedIn();
    renameSync(sb.file('sh'), join(sb.dir, 'old-sh'));
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--json', '--cron-path', cronPath], { env: { ...cronEnv(sb), SSH_AUTH_SOCK: sock } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(codes(report)).toEqual(['ENV_FILE_MISSING']);
    expect(report.agentrunStatus).toBe(75);
    expect((await cronAgentrun(sb, ['true'])).code).toBe(75);
  });

  it('when the key directory does not exist then KEYDIR_MISSING', async () => {
    sb = new Sandbox('ak-doctor-');
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--json'], { env: cronEnv(sb) });
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(r.code).toBe(1);
    expect(codes(report)).toContain('KEYDIR_MISSING');
  });

  it('when no --cron-path is given then doctor judges cron\'s default PATH /usr/bin:/bin', async () => {
    loggedIn();
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--json'], { env: cronEnv(sb) });
    expect((JSON.parse(r.stdout) as DoctorReport).cron.path).toBe('/usr/bin:/bin');
  });

  it('when agentrun is not on cron\'s PATH then AGENTRUN_NOT_ON_CRON_PATH says which PATH line to add', async () => {
    loggedIn();
    // A cron PATH that has node and surely no agentrun, whatever is installed on this machine.
    const nodeOnly = join(sb.dir, 'node-only');
    mkdirSync(nodeOnly);
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--json', '--cron-path', nodeOnly],
      { env: { ...cronEnv(sb), PATH: `${join(sb.dir, 'bin')}:/usr/bin:/bin` } });
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.cron.path).toBe(nodeOnly);
    expect(codes(report)).toContain('AGENTRUN_NOT_ON_CRON_PATH');
    const problem = report.problems.find((p) => p.code === 'AGENTRUN_NOT_ON_CRON_PATH')!;
    expect(problem.fix).toContain(`PATH=${join(sb.dir, 'bin')}:${nodeOnly}`);
  });

  it('when run without --json then it prints the problems with their fixes', async () => {
    const { pid, cronPath } = loggedIn();
    process.kill(pid, 'SIGKILL');
    expect(await waitFor(() => !alive(pid))).toBe(true);
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--cron-path', cronPath], { env: cronEnv(sb) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 problem (agentrun would exit 75 without running the job):');
    expect(r.stdout).toContain('fix: log in as root and run: agentkeep KEY');
  });

  it('when given an unknown argument then exit 64', async () => {
    sb = new Sandbox('ak-doctor-');
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--frob'], { env: cronEnv(sb) });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("agentkeep doctor: unknown option '--frob'");
  });
});

describe('agentkeep doctor --crontab', () => {
  let sb: Sandbox;
  afterEach(() => sb?.cleanup());

  it('when an entry\'s --lock is held by a running job then it would exit 75 with LOCK_HELD, the entry with every key would run, and a bad option is 64 after 127', async () => {
    sb = new Sandbox('ak-doctor-');
    const key = sb.keygen('backup_ed25519');
    const agent = setupAgent(sb);
    sshAdd(sb, agent.sock, key);
    const { child, done } = spawnAgentrun(sb, ['--lock', 'nightly', 'sleep', '300']);
    expect(await waitFor(() => existsSync(join(sb.keydir, 'run-locks', 'nightly.lock')))).toBe(true);
    const crontab = join(sb.dir, 'crontab');
    const bin = join(sb.dir, 'bin');
    mkdirSync(bin);
    symlinkSync(AGENTRUN, join(bin, 'agentrun'));
    writeFileSync(crontab, [
      `@daily PATH=${bin}:/usr/bin:/bin:${dirname(process.execPath)} agentrun --lock nightly true`,
      `@hourly ${join(bin, 'agentrun')} --require backup_ed25519 cat%input for the job`,
      '@weekly agentrun --frob true',
      '',
    ].join('\n'));
    // cron's PATH for entries that set none: node and the jobs' tools, but never an agentrun, whatever
    // is installed globally (/usr/bin may hold one after the README's install).
    const tools = join(sb.dir, 'tools');
    mkdirSync(tools);
    for (const [name, target] of [['node', process.execPath], ['cat', '/bin/cat'], ['true', '/bin/true']] as const) symlinkSync(target, join(tools, name));
    const r = await run(process.execPath, [AGENTKEEP, 'doctor', '--json', '--crontab', crontab, '--cron-path', tools], { env: cronEnv(sb) });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.crontab).toMatchObject({ source: crontab, present: true, entries: 3 });
    expect(report.jobs.map((j) => [j.line, j.schedule, j.status, j.issues.map((i) => i.code)])).toEqual([
      [1, '@daily', 75, ['LOCK_HELD']],
      [2, '@hourly', 0, []],
      // cron's sh would not even find agentrun on the default PATH (127); then agentrun would refuse --frob (64).
      [3, '@weekly', 127, ['AGENTRUN_NOT_ON_CRON_PATH', 'JOB_USAGE']],
    ]);
    expect(report.jobs[0]).toMatchObject({ pathSource: 'entry', lock: { name: 'nightly', held: true } });
    expect(report.jobs[1]).toMatchObject({ command: `${join(bin, 'agentrun')} --require backup_ed25519 cat`, agentrun: join(bin, 'agentrun'), pathSource: 'default' });
    expect(codes(report)).toEqual(['LOCK_HELD', 'AGENTRUN_NOT_ON_CRON_PATH', 'JOB_USAGE']);
    child.kill('SIGTERM');
    await done;
  });
});
