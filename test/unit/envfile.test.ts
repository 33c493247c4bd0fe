import { describe, expect, it } from 'vitest';
import { renderEnv } from '../../src/envfile/render.js';
import { parseShEnv } from '../../src/envfile/parse.js';
import { quoteSh, unquoteSh } from '../../src/shells/quote.js';

const awkward = [
  '/home/bk/.keychain/backup1-agent.sock',
  "/tmp/it's here/agent.sock",
  '/tmp/$(touch pwned)/`id`/a b/agent.sock',
  '/tmp/x!y;z|&<>"q/agent.sock',
  '/tmp/back\\slash/agent.sock',
];

describe('renderEnv', () => {
  it('when the value is plain then every flavour writes it bare, in keychain\'s shape', () => {
    const env = { sock: '/home/bk/.keychain/h-agent.sock', pid: 1234 };
    expect(renderEnv(env, 'sh')).toBe('SSH_AUTH_SOCK=/home/bk/.keychain/h-agent.sock; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=1234; export SSH_AGENT_PID;\n');
    expect(renderEnv(env, 'csh')).toBe('setenv SSH_AUTH_SOCK /home/bk/.keychain/h-agent.sock;\nsetenv SSH_AGENT_PID 1234;\n');
    expect(renderEnv(env, 'fish')).toBe('set -e SSH_AUTH_SOCK; set -gx SSH_AUTH_SOCK /home/bk/.keychain/h-agent.sock;\nset -e SSH_AGENT_PID; set -gx SSH_AGENT_PID 1234;\n');
    expect(renderEnv(env, 'envfile')).toBe('SSH_AUTH_SOCK=/home/bk/.keychain/h-agent.sock\nSSH_AGENT_PID=1234\n');
  });

  it('when there is no local agent process then the PID line is left out', () => {
    expect(renderEnv({ sock: '/s' }, 'sh')).toBe('SSH_AUTH_SOCK=/s; export SSH_AUTH_SOCK;\n');
  });

  it.each(['/tmp/a\nb', '/tmp/a\0b', '/tmp/a\rb', ''])('when the value is %j then it is refused', (sock) => {
    expect(() => renderEnv({ sock }, 'sh')).toThrow(/refusing/);
  });

  it.each(awkward)('when the sh value is %j then parsing the rendered file gives it back', (sock) => {
    const parsed = parseShEnv(renderEnv({ sock, pid: 42 }, 'sh'));
    expect(parsed).toEqual({ ok: true, env: { sock, pid: 42 } });
  });
});

describe('parseShEnv', () => {
  it('when the file holds shell code then it is invalid and nothing is evaluated', () => {
    for (const text of [
      'SSH_AUTH_SOCK=/tmp/s; export SSH_AUTH_SOCK; touch /tmp/pwned\n',
      'SSH_AUTH_SOCK=$(id); export SSH_AUTH_SOCK;\n',
      'SSH_AUTH_SOCK="/tmp/s"; export SSH_AUTH_SOCK;\n',
      'rm -rf ~\n',
      '\x00\x01garbage',
      'SSH_AUTH_SOCK=relative/s; export SSH_AUTH_SOCK;\n',
      'SSH_AUTH_SOCK=/s; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=12x; export SSH_AGENT_PID;\n',
      '',
    ]) {
      expect(parseShEnv(text).ok, JSON.stringify(text)).toBe(false);
    }
  });

  it('when the file is keychain 2.8.5\'s then it is read', () => {
    const text = 'SSH_AUTH_SOCK=/tmp/ssh-XXXXabc/agent.123; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=124; export SSH_AGENT_PID;\n';
    expect(parseShEnv(text)).toEqual({ ok: true, env: { sock: '/tmp/ssh-XXXXabc/agent.123', pid: 124 } });
  });

  it('when a quote is unbalanced then the value is unreadable', () => {
    expect(unquoteSh("'abc")).toBeUndefined();
    expect(unquoteSh(quoteSh("a'b"))).toBe("a'b");
  });
});
