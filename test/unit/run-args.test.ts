// agentrun's command line: options stop at COMMAND, --lock's optional name, durations, usage errors.
import { describe, expect, it } from 'vitest';
import { AgentkeepError } from '../../src/errors.js';
import { spawnSync } from 'node:child_process';
import { DEFAULT_KILL_AFTER_MS, parseRunArgs, runHelp, type RunArgs } from '../../src/run/args.js';
import { durationMs, formatDuration } from '../../src/options/values.js';
import { showCommand } from '../../src/run/log.js';
import { defaultLockName } from '../../src/run/lock.js';
import { Capture, CAPTURE_LIMIT } from '../../src/run/capture.js';
import { signalStatus } from '../../src/run/job.js';
import { fixCommand } from '../../src/run/preflight.js';

function args(argv: string[]): RunArgs {
  const parsed = parseRunArgs(argv);
  if (parsed.kind !== 'run') throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed.args;
}

function usageError(argv: string[]): AgentkeepError {
  try {
    parseRunArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(AgentkeepError);
    expect((error as AgentkeepError).exitCode).toBe(64);
    return error as AgentkeepError;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

describe('parseRunArgs', () => {
  it('when options come first then they are parsed and COMMAND starts at the first plain word', () => {
    const a = args(['--require', 'k1', '--require=k2', '--dir', '/d', '--absolute', '--host', 'h', '-q', '--log', 'x.log', '--timeout', '1h30m', 'rsync', '-a', 'src', 'dst']);
    expect(a).toEqual({
      command: ['rsync', '-a', 'src', 'dst'], require: ['k1', 'k2'], dir: '/d', absolute: true, host: 'h',
      quiet: true, log: 'x.log', timeoutMs: 5_400_000, killAfterMs: DEFAULT_KILL_AFTER_MS, lockWaitMs: 0, ephemeral: [],
    });
  });

  it('when --ephemeral keys and --askpass are given then they are collected; --askpass alone or with --require is a usage error', () => {
    expect(args(['--ephemeral', 'k1', '--ephemeral=k2', '--askpass', '/bin/ap', 'lbackup', 'x.conf'])).toMatchObject({
      ephemeral: ['k1', 'k2'], askpass: '/bin/ap', command: ['lbackup', 'x.conf'],
    });
    expect(() => parseRunArgs(['--askpass', '/bin/ap', 'true'])).toThrow(/--askpass goes with --ephemeral/);
    expect(() => parseRunArgs(['--ephemeral', 'k', '--require', 'k', 'true'])).toThrow(/--require does not apply with --ephemeral/);
  });

  it('when words after COMMAND look like agentrun options then they stay with the command', () => {
    expect(args(['echo', '--lock', '-q', '--', '--help']).command).toEqual(['echo', '--lock', '-q', '--', '--help']);
  });

  it('when -- ends the options then the next word is the command even if it starts with "-"', () => {
    expect(args(['-q', '--', '-weird', '--quiet']).command).toEqual(['-weird', '--quiet']);
  });

  it.each([
    [['--lock=db1-dump', 'sh'], 'db1-dump', ['sh']],
    [['--lock', 'db1-dump', 'sh', '-c', 'x'], 'db1-dump', ['sh', '-c', 'x']],
    [['--lock', '--', 'rsync', '-a'], true, ['rsync', '-a']],
    [['--lock', '--quiet', 'rsync'], true, ['rsync']],
  ] as const)('when given %j then the lock is %j', (argv, lock, command) => {
    const a = args([...argv]);
    expect(a.lock).toBe(lock);
    expect(a.command).toEqual(command);
  });

  it('when --lock swallowed the command name then the usage error explains --lock --', () => {
    const e = usageError(['--lock', 'rsync', '-a', 'src', 'dst']);
    expect(e.message).toContain('"rsync" was taken as the --lock name');
    expect(e.hint).toContain('--lock -- COMMAND');
    expect(usageError(['--lock', 'rsync']).hint).toContain('"rsync" was taken as the --lock name');
  });

  it.each([
    [['--lock=../x', 'true'], 'invalid lock name'],
    [['--timeout', '0', 'true'], 'longer than zero'],
    [['--timeout', '5 minutes', 'true'], 'expected --timeout to be a duration'],
    [['--require'], '--require needs a value'],
    [['--quiet=yes', 'true'], 'takes no value'],
    [[], 'no command to run'],
    [['--absolute', 'true'], '--absolute needs --dir'],
    [['--bogus', 'true'], 'unknown option "--bogus"'],
  ])('when given %j then a usage error says %s', (argv, text) => {
    expect(usageError(argv).message).toContain(text);
  });

  it('when -h or -V come first then help or version is asked for', () => {
    expect(parseRunArgs(['-h', 'ignored']).kind).toBe('help');
    expect(parseRunArgs(['--version']).kind).toBe('version');
  });

  it.each([['90', 90_000], ['90s', 90_000], ['15m', 900_000], ['2h', 7_200_000], ['1h30m', 5_400_000]])('when the duration is %s then it is %i ms', (text, ms) => {
    expect(durationMs('--timeout', text)).toBe(ms);
  });

  it.each([[5_400_000, '1h30m'], [90_000, '1m30s'], [1000, '1s'], [7_200_000, '2h'], [0, '0s']])('when %i ms is shown then it reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('when --kill-after or --lock-wait is 0 then that is allowed', () => {
    expect(args(['--kill-after', '0', '--lock-wait', '0', 'true'])).toMatchObject({ killAfterMs: 0, lockWaitMs: 0 });
  });
});

describe('run helpers', () => {
  it('when two commands differ only in arguments then their default lock names differ', () => {
    const a = defaultLockName(['/usr/bin/rsync', '-a', 'db1:/srv/', '/backups/db1/']);
    const b = defaultLockName(['/usr/bin/rsync', '-a', 'db2:/srv/', '/backups/db2/']);
    expect(a).toMatch(/^rsync-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(defaultLockName(['/usr/bin/rsync', '-a', 'db1:/srv/', '/backups/db1/'])).toBe(a);
    expect(defaultLockName(['.hidden'])).toMatch(/^_hidden-/);
  });

  it('when the signal is SIGTERM or SIGKILL then the status is 143 or 137', () => {
    expect(signalStatus('SIGTERM')).toBe(143);
    expect(signalStatus('SIGKILL')).toBe(137);
  });

  it('when output exceeds the capture limit then the rest is counted, not kept', () => {
    const c = new Capture();
    c.add('stdout', Buffer.alloc(CAPTURE_LIMIT, 0x61));
    c.add('stderr', Buffer.from('dropped'));
    const out: Array<[string, number]> = [];
    c.replay((stream, chunk) => out.push([stream, chunk.length]));
    expect(out[0]).toEqual(['stdout', CAPTURE_LIMIT]);
    expect(out[1]![0]).toBe('stderr');
    expect(out).toHaveLength(2);
  });

  it('when the fix names keys and directories then they are shell-quoted', () => {
    expect(fixCommand({ dir: '/srv/my keys', absolute: true, host: 'b1' }, ['backup_ed25519', 'SHA256:x'])).toBe("agentkeep --dir '/srv/my keys' --absolute --host b1 backup_ed25519");
  });

  it('when a word holds a quote, a space or nothing then log lines and fixes quote it the way sh reads it back', () => {
    const words = ['rsync', "it's here", '', 'a=b', '$HOME', '-e', 'ssh -i k'];
    expect(showCommand(words)).toBe(`rsync 'it'\\''s here' '' a=b '$HOME' -e 'ssh -i k'`);
    const back = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${showCommand(words)}`], { encoding: 'utf8' }).stdout.split('\0').slice(0, -1);
    expect(back).toEqual(words);
    expect(fixCommand({ dir: "/srv/o'neil" }, ['k'])).toBe(`agentkeep --dir '/srv/o'\\''neil' k`);
  });

  it('when help is shown then --lock-wait takes a DURATION and the own session is stated', () => {
    expect(runHelp()).toContain('--lock-wait DURATION');
    expect(runHelp()).not.toContain('SECONDS');
    expect(runHelp()).toContain('its own session and\nprocess group');
  });
});

describe('shell/crontab.example', () => {
  it('when its agentrun lines are split as cron\'s shell would then every one parses', async () => {
    const { readFileSync } = await import('node:fs');
    const { spawnSync } = await import('node:child_process');
    const text = readFileSync(new URL('../../shell/crontab.example', import.meta.url), 'utf8');
    const jobs = text.split('\n').filter((l) => /^[0-9*]/.test(l)).map((l) => l.split(/\s+/).slice(5).join(' ').replace(/\\%/g, '%'));
    expect(jobs.length).toBe(4);
    for (const job of jobs) {
      const words = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${job}`], { encoding: 'utf8' }).stdout.split('\0').slice(0, -1);
      expect(words[0]).toBe('agentrun');
      expect(args(words.slice(1)).command.length).toBeGreaterThan(0);
    }
  });
});
