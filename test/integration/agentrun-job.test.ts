// The job itself under agentrun: exit statuses, signals, --timeout on the whole process group,
// --lock, --log, --quiet, and words after COMMAND passed through untouched.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTRUN, Sandbox, alive, run, waitFor } from '../helpers/sandbox.js';
import { cronAgentrun, cronEnv, setupAgent, spawnAgentrun, sshAdd } from '../helpers/agentrun.js';

/** Reads a PID a job wrote, waiting until it is there. Not tracked for cleanup: once the job
 *  is gone its PID may be reused by someone else's process; the jobs here end by themselves. */
async function pidFrom(path: string): Promise<number> {
  expect(await waitFor(() => existsSync(path) && /^\d+\n/.test(readFileSync(path, 'utf8')), 10_000)).toBe(true);
  return Number(readFileSync(path, 'utf8').trim());
}

describe('agentrun running the job', () => {
  let sb: Sandbox;
  beforeEach(() => {
    sb = new Sandbox('ak-run-job-');
    const agent = setupAgent(sb);
    sshAdd(sb, agent.sock, sb.keygen('backup_ed25519'));
  });
  afterEach(() => sb.cleanup());

  it.each([0, 1, 3, 42, 255])('when the job exits %i then agentrun exits with the same status', async (status) => {
    const r = await cronAgentrun(sb, ['sh', '-c', `exit ${status}`]);
    expect(r.code).toBe(status);
    expect(r.stderr).toBe('');
  });

  it('when a plain job kills itself with a signal then agentrun (the job, exec\'d) dies of that signal, as cron sees it', async () => {
    const r = await cronAgentrun(sb, ['sh', '-c', 'kill -KILL $$']);
    expect(r).toMatchObject({ code: null, signal: 'SIGKILL' });
  });

  it('when a supervised job kills itself with a signal then agentrun exits 128+N', async () => {
    const r = await cronAgentrun(sb, ['--timeout', '1h', 'sh', '-c', 'kill -KILL $$']);
    expect(r.code).toBe(137);
  });

  it('when the command does not exist then exit 127 with a message naming it and PATH', async () => {
    const r = await cronAgentrun(sb, ['no-such-command-xyz', 'arg']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('agentrun: no-such-command-xyz: command not found on PATH=/usr/bin:/bin');
  });

  it('when the command is not executable then exit 126 with a message', async () => {
    const script = join(sb.dir, 'script.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const r = await cronAgentrun(sb, [script]);
    expect(r.code).toBe(126);
    expect(r.stderr).toContain(`agentrun: ${script}: cannot execute: permission denied`);
  });

  it('when words after COMMAND look like agentrun options then the job receives them unchanged', async () => {
    const words = ['--lock', '-q', '--quiet', '--timeout', '1', '--', '-h', '--require=x', '--log', '/nonexistent/x', '-V', ''];
    const r = await cronAgentrun(sb, ['sh', '-c', 'printf "%s\\0" "$@"', 'job', ...words]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(words);
  });

  it('when -- ends the options then a command that starts with "-" still runs as the command', async () => {
    const r = await cronAgentrun(sb, ['--', 'sh', '-c', 'echo "$@"', 'x', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('--quiet\n');
  });

  it('when an unknown option comes before COMMAND then exit 64 and nothing runs', async () => {
    const marker = join(sb.dir, 'ran');
    const r = await cronAgentrun(sb, ['--frobnicate', 'touch', marker]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown option "--frobnicate"');
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    [[], { code: null, signal: 'SIGTERM' }],
    [['--timeout', '1h'], { code: 143, signal: null }],
  ])('when agentrun %j gets SIGTERM then the job gets it, agentrun ends as %j, and nothing is left running', async (opts, end) => {
    const pidfile = join(sb.dir, 'job.pid');
    const { child, done } = spawnAgentrun(sb, [...opts, 'sh', '-c', 'echo $$ > "$1"; exec sleep 100', 'job', pidfile]);
    const jobPid = await pidFrom(pidfile);
    child.kill('SIGTERM');
    const r = await done;
    expect(r).toMatchObject(end);
    expect(await waitFor(() => !alive(jobPid))).toBe(true);
  });

  it('when the job traps the forwarded SIGTERM then agentrun exits with the job\'s own status', async () => {
    const pidfile = join(sb.dir, 'job.pid');
    const marker = join(sb.dir, 'got-term');
    const { child, done } = spawnAgentrun(sb, ['sh', '-c', 'trap \'echo TERM > "$2"; exit 3\' TERM; echo $$ > "$1"; while :; do sleep 0.1; done', 'job', pidfile, marker]);
    await pidFrom(pidfile);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(3);
    expect(readFileSync(marker, 'utf8')).toBe('TERM\n');
  });

  it.each([
    ...(['SIGINT', 'SIGHUP', 'SIGQUIT'] as const).map((signal) => [signal, []]),
    ...(['SIGINT', 'SIGHUP', 'SIGQUIT'] as const).map((signal) => [signal, ['--timeout', '1h']]),
  ] as [NodeJS.Signals, string[]][])('when agentrun gets %s (options %j) then the job gets it too', async (signal, opts) => {
    const pidfile = join(sb.dir, 'job.pid');
    const marker = join(sb.dir, 'got');
    const name = signal.slice(3);
    const { child, done } = spawnAgentrun(sb, [...opts, 'sh', '-c', `trap 'echo ${name} > "$2"; exit 7' ${name}; echo $$ > "$1"; while :; do sleep 0.1; done`, 'job', pidfile, marker]);
    await pidFrom(pidfile);
    child.kill(signal);
    const r = await done;
    expect(r.code).toBe(7);
    expect(readFileSync(marker, 'utf8')).toBe(`${name}\n`);
  });

  it('when --timeout expires then TERM then KILL reach the whole group, grandchildren included, and exit 124', async () => {
    const pidfile = join(sb.dir, 'job.pid');
    const gcfile = join(sb.dir, 'grandchild.pid');
    // The job ignores TERM (so KILL is needed); its grandchild does not.
    const r = await cronAgentrun(sb, ['--timeout', '1s', '--kill-after', '1s', 'sh', '-c',
      'trap "" TERM; sleep 100 & echo $! > "$2"; echo $$ > "$1"; while :; do sleep 0.1; done', 'job', pidfile, gcfile]);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('timed out after 1s and was stopped (exit status 124)');
    const jobPid = await pidFrom(pidfile);
    const gcPid = await pidFrom(gcfile);
    expect(await waitFor(() => !alive(jobPid) && !alive(gcPid))).toBe(true);
  });

  it('when the job finishes before --timeout then its own status is kept', async () => {
    const r = await cronAgentrun(sb, ['--timeout', '30s', 'sh', '-c', 'exit 5']);
    expect(r.code).toBe(5);
  });

  it('when agentrun is terminated during --timeout then the job\'s grandchildren go too', async () => {
    const gcfile = join(sb.dir, 'grandchild.pid');
    const { child, done } = spawnAgentrun(sb, ['--timeout', '1h', 'sh', '-c', 'sleep 100 & echo $! > "$1"; wait', 'job', gcfile]);
    const gcPid = await pidFrom(gcfile);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(143);
    expect(await waitFor(() => !alive(gcPid))).toBe(true);
  });

  it.each([
    [[], true],
    [['--timeout', '30s'], false],
  ])('when stdin is a terminal and the options are %j then the job shares agentrun\'s process group: %s, and can read the terminal', async (opts, same) => {
    const job = `sh -c 'echo "pgids $(ps -o pgid= -p $$) $(ps -o pgid= -p $PPID)"; read x; echo "got:$x"'`;
    const r = await run('script', ['-qec', `${AGENTRUN} ${opts.join(' ')} ${job}`, '/dev/null'], { env: cronEnv(sb), input: 'typed\n' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [, jobGroup, ourGroup] = /pgids\s+(\d+)\s+(\d+)/.exec(r.stdout)!;
    expect(jobGroup === ourGroup).toBe(same);
    expect(r.stdout).toContain('got:typed');
  });

  it('when the lock is held by a running job then a second run exits 75 at once naming the lock', async () => {
    const pidfile = join(sb.dir, 'job.pid');
    const first = spawnAgentrun(sb, ['--lock', 'nightly', 'sh', '-c', 'echo $$ > "$1"; sleep 30', 'job', pidfile]);
    await pidFrom(pidfile);
    const marker = join(sb.dir, 'second-ran');
    const second = await cronAgentrun(sb, ['--lock=nightly', 'touch', marker]);
    expect(second.code).toBe(75);
    expect(second.stderr).toContain('the lock "nightly" is held by an earlier run');
    expect(existsSync(marker)).toBe(false);
    const other = await cronAgentrun(sb, ['--lock=other', 'touch', marker]);
    expect(other.code).toBe(0);
    first.child.kill('SIGTERM');
    expect((await first.done).code).toBe(143);
    const third = await cronAgentrun(sb, ['--lock=nightly', 'true']);
    expect(third.code, third.stderr).toBe(0);
    expect(statSync(join(sb.keydir, 'run-locks')).mode & 0o777).toBe(0o700);
  });

  it('when --lock-wait is given then the second run waits for the first and then runs', async () => {
    const pidfile = join(sb.dir, 'job.pid');
    const first = spawnAgentrun(sb, ['--lock', '--', 'sh', '-c', 'echo $$ > "$1"; sleep 1.5', 'job', pidfile]);
    await pidFrom(pidfile);
    const marker = join(sb.dir, 'second-ran');
    // Same command, so the same default lock name; the marker is passed through the environment.
    const second = await cronAgentrun(sb, ['--lock', '--lock-wait', '30', '--', 'sh', '-c', 'echo $$ > "$1"; sleep 1.5; touch "$MARK"', 'job', pidfile], { env: { MARK: marker } });
    expect(second.code, second.stderr).toBe(0);
    expect((await first.done).code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it('when --log is given then start line, output and end line with status are appended', async () => {
    const log = join(sb.dir, 'backup.log');
    writeFileSync(log, 'earlier line\n', { mode: 0o600 });
    const r = await cronAgentrun(sb, ['--log', log, 'sh', '-c', 'echo out; echo err >&2; printf partial; exit 4']);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('out\npartial');
    expect(r.stderr).toBe('err\n');
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(lines[0]).toBe('earlier line');
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z agentrun\[\d+\] start: sh -c 'echo out; echo err >&2; printf partial; exit 4'$/);
    expect(lines.slice(2, 5).sort(), lines.join('\n')).toEqual(['err', 'out', 'partial'].sort());
    expect(lines[5]).toMatch(/^\S+Z agentrun\[\d+\] end: exit status 4 after \d+\.\d s$/);
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('when --log is given and preflight fails then the log records why nothing ran', async () => {
    const log = join(sb.dir, 'new.log');
    const r = await cronAgentrun(sb, ['--log', log, '--require', 'SHA256:nope', 'true']);
    expect(r.code).toBe(75);
    expect(readFileSync(log, 'utf8')).toMatch(/agentrun\[\d+\] not started: true: required key not loaded .* \(exit status 75\)\n$/);
    expect(statSync(log).mode & 0o777).toBe(0o600);
  });

  it('when --log names a symlink or a world-writable file then exit 78 and nothing runs', async () => {
    const real = join(sb.dir, 'real.log');
    writeFileSync(real, '');
    const link = join(sb.dir, 'link.log');
    symlinkSync(real, link);
    const marker = join(sb.dir, 'ran');
    const r1 = await cronAgentrun(sb, ['--log', link, 'touch', marker]);
    expect(r1.code).toBe(78);
    expect(r1.stderr).toContain('symbolic link');
    chmodSync(real, 0o666);
    const r2 = await cronAgentrun(sb, ['--log', real, 'touch', marker]);
    expect(r2.code).toBe(78);
    expect(existsSync(marker)).toBe(false);
  });

  it('when --quiet and the job succeeds then agentrun prints nothing', async () => {
    const r = await cronAgentrun(sb, ['--quiet', 'sh', '-c', 'echo lots of output; echo warnings >&2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('when --quiet and the job fails then its output is printed with a status line', async () => {
    const r = await cronAgentrun(sb, ['-q', 'sh', '-c', 'echo progress; echo broken >&2; exit 2']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('progress\n');
    expect(r.stderr).toBe("broken\nagentrun: sh -c 'echo progress; echo broken >&2; exit 2': exit status 2\n");
  });

  it('when --quiet and --log are combined then the log gets everything and the terminal only failures', async () => {
    const log = join(sb.dir, 'q.log');
    const ok = await cronAgentrun(sb, ['--quiet', '--log', log, 'sh', '-c', 'echo fine']);
    expect(ok.code).toBe(0);
    expect(ok.stdout + ok.stderr).toBe('');
    expect(readFileSync(log, 'utf8')).toMatch(/start: sh -c 'echo fine'\nfine\n.*end: exit status 0/);
    const bad = await cronAgentrun(sb, ['--quiet', '--log', log, 'sh', '-c', 'echo failing; exit 1']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('failing\n');
  });
});
