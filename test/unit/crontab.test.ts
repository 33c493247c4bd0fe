// The crontab reader doctor uses: settings and where they apply, comments, @keywords, `%`, and
// the sh word splitter that finds agentrun and its arguments in an entry's command.
import { describe, expect, it } from 'vitest';
import { parseCrontab, splitPercent } from '../../src/doctor/crontab.js';
import { splitCommands } from '../../src/doctor/sh-words.js';
import { lastEvents, parseLogEvent } from '../../src/run/log.js';

const vars = (env: Record<string, string>) => (name: string) => env[name];

describe('parseCrontab', () => {
  it('when settings come before and between entries then each entry sees the settings above it, with their lines', () => {
    const entries = parseCrontab([
      '# m h dom mon dow command',
      'MAILTO=ops@example.org',
      '15 2 * * * agentrun a',
      'PATH = /usr/local/sbin:/usr/bin:/bin',
      'SHELL="/bin/bash"',
      "  HOME='/srv/backup '  ",
      '30 2 * * *\tagentrun b',
    ].join('\n'));
    expect(entries.map((e) => [e.line, e.schedule, e.command])).toEqual([[3, '15 2 * * *', 'agentrun a'], [7, '30 2 * * *', 'agentrun b']]);
    expect(entries[0]!.env).toEqual({ MAILTO: 'ops@example.org' });
    expect(entries[1]!.env).toEqual({ MAILTO: 'ops@example.org', PATH: '/usr/local/sbin:/usr/bin:/bin', SHELL: '/bin/bash', HOME: '/srv/backup ' });
    expect(entries[1]!.envLines).toEqual({ MAILTO: 2, PATH: 4, SHELL: 5, HOME: 6 });
  });

  it('when a setting refers to $PATH then it is taken literally, as cron does', () => {
    expect(parseCrontab('PATH=$HOME/bin:$PATH\n@daily x\n')[0]!.env.PATH).toBe('$HOME/bin:$PATH');
  });

  it('when lines are comments, blank, indented comments or not crontab syntax then they are skipped', () => {
    expect(parseCrontab('\n   # 15 2 * * * agentrun a\n#PATH=/x\nnot an entry\n@sometimes agentrun b\n')).toEqual([]);
  });

  it.each(['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'])('when an entry starts with %s then that is its schedule', (keyword) => {
    expect(parseCrontab(`${keyword}   agentrun --lock x job\n`)[0]).toMatchObject({ schedule: keyword, command: 'agentrun --lock x job' });
  });

  it('when the time fields use lists, ranges and steps then they make the schedule, spaces collapsed', () => {
    expect(parseCrontab('*/5  1-3,7 * jan-mar mon-fri  agentrun job\n')[0]).toMatchObject({ schedule: '*/5 1-3,7 * jan-mar mon-fri', command: 'agentrun job' });
  });

  it('when the command has CRLF line ends then the CR is not part of it', () => {
    expect(parseCrontab('@daily agentrun job\r\n')[0]!.command).toBe('agentrun job');
  });
});

describe('splitPercent', () => {
  it('when the command has an unescaped % then the command ends there and the rest is stdin with % as newlines', () => {
    expect(splitPercent('mail -s hi root%line one%line two')).toEqual({ command: 'mail -s hi root', stdin: 'line one\nline two' });
  });

  it('when % is escaped then it stays in the command as %', () => {
    expect(splitPercent("agentrun sh -c 'date +\\%F > x'")).toEqual({ command: "agentrun sh -c 'date +%F > x'", stdin: null });
  });

  it('when a crontab entry holds % then parseCrontab gives the command before it', () => {
    expect(parseCrontab('@daily agentrun cat%hello\n')[0]).toMatchObject({ command: 'agentrun cat', stdin: 'hello' });
  });
});

describe('splitCommands', () => {
  it('when words are quoted then quotes group and are removed, as sh does', () => {
    const [cmd] = splitCommands(`agentrun --log "$HOME/job log" sh -c 'echo "$1" > x' job\\ 1 a"b"'c'`, vars({ HOME: '/home/bk' }));
    expect(cmd!.words).toEqual(['agentrun', '--log', '/home/bk/job log', 'sh', '-c', 'echo "$1" > x', 'job 1', 'abc']);
    expect(cmd!.dynamic).toBe(false);
  });

  it('when VAR=x assignments come first then they are assignments, and the command starts after them', () => {
    const [cmd] = splitCommands('PATH=/opt/bin:/usr/bin LANG=C /usr/local/bin/agentrun --require k job', vars({}));
    expect(cmd!.assignments).toEqual([{ name: 'PATH', value: '/opt/bin:/usr/bin' }, { name: 'LANG', value: 'C' }]);
    expect(cmd!.words).toEqual(['/usr/local/bin/agentrun', '--require', 'k', 'job']);
  });

  it('when an assignment-looking word is quoted or follows the command then it is a plain word', () => {
    expect(splitCommands('"A=1" agentrun B=2', vars({}))[0]).toMatchObject({ assignments: [], words: ['A=1', 'agentrun', 'B=2'] });
  });

  it('when the command has redirections then they and their targets are dropped', () => {
    const [cmd] = splitCommands('agentrun job a >>/var/log/x 2>&1 < /dev/null b 2> "e r r"', vars({}));
    expect(cmd!.words).toEqual(['agentrun', 'job', 'a', 'b']);
  });

  it('when ; && || | & separate commands then each is its own simple command', () => {
    expect(splitCommands('cd /srv && agentrun job | logger -t x; echo done & true', vars({})).map((c) => c.words))
      .toEqual([['cd', '/srv'], ['agentrun', 'job'], ['logger', '-t', 'x'], ['echo', 'done'], ['true']]);
  });

  it('when ${VAR}, $VAR, ~ and unknown variables appear then they expand as sh would (unknown to nothing)', () => {
    const [cmd] = splitCommands('agentrun --log ~/a.log ${HOME}/b $NOPE/c x~', vars({ HOME: '/home/bk' }));
    expect(cmd!.words).toEqual(['agentrun', '--log', '/home/bk/a.log', '/home/bk/b', '/c', 'x~']);
  });

  it('when a word holds $(...) or backquotes then it is kept as written and the command is dynamic', () => {
    const [cmd] = splitCommands('agentrun sh -c "dump > /b/$(date +%F).sql" `hostname`', vars({}));
    expect(cmd!.words).toEqual(['agentrun', 'sh', '-c', 'dump > /b/$(date +%F).sql', '`hostname`']);
    expect(cmd!.dynamic).toBe(true);
  });

  it('when a # starts a word then the rest is a comment', () => {
    expect(splitCommands('agentrun job # nightly a#b', vars({}))[0]!.words).toEqual(['agentrun', 'job']);
    expect(splitCommands('agentrun a#b', vars({}))[0]!.words).toEqual(['agentrun', 'a#b']);
  });
});

describe('agentrun log lines', () => {
  it('when a log holds runs then the last start and the last end are found with status and duration', () => {
    const text = [
      '2026-11-22T02:15:00.118Z agentrun[4242] start: rsync -a src dst',
      'job output: end: exit status 9 after 1 s',
      '2026-11-22T02:21:41.502Z agentrun[4242] end: exit status 0 after 401.4 s',
      '2026-11-23T02:15:00.094Z agentrun[811] not started: rsync -a src dst: no ssh-agent is answering at /s (from /f): gone (exit status 75)',
    ].join('\n');
    const { start, end } = lastEvents(text);
    expect(start).toMatchObject({ at: '2026-11-22T02:15:00.118Z', pid: 4242, kind: 'start', status: null });
    expect(end).toMatchObject({ at: '2026-11-23T02:15:00.094Z', pid: 811, kind: 'not started', status: 75, seconds: null });
  });

  it.each([
    ['end: exit status 0 after 401.4 s', 0, 401.4],
    ['end: killed by SIGTERM (exit status 143) after 2.0 s', 143, 2],
    ['end: timed out after 1m30s and was stopped (exit status 124) after 90.1 s', 124, 90.1],
    ['end: not started: lbackup: command not found on PATH=/usr/bin:/bin (exit status 127) after 0.0 s', 127, 0],
  ])('when the end line is "%s" then its status and seconds are read', (text, status, seconds) => {
    expect(parseLogEvent(`2026-11-22T02:21:41.502Z agentrun[1] ${text}`)).toMatchObject({ kind: 'end', status, seconds });
  });
});
