import { describe, expect, it } from 'vitest';
import { keysNotLoaded, loadCommand } from '../../src/keys/not-loaded.js';

const HOME = '/home/bk';

describe('the keys-not-loaded line', () => {
  it.each([
    [{ arg: 'id_ed25519', path: '/home/bk/.ssh/id_ed25519' }, 'agentkeep id_ed25519'],
    [{ arg: '/srv/keys/k', path: '/srv/keys/k' }, 'agentkeep /srv/keys/k'],
    [{ arg: 'host:db1', path: '/home/bk/.ssh/db1_key' }, 'agentkeep /home/bk/.ssh/db1_key'],
    [{ arg: '--confallhosts', path: '/home/bk/.ssh/conf_key' }, 'agentkeep /home/bk/.ssh/conf_key'],
    [{ arg: 'doctor', path: '/home/bk/.ssh/doctor' }, 'agentkeep /home/bk/.ssh/doctor'],
    [{ arg: '~/my keys/k', path: '/home/bk/my keys/k' }, "agentkeep '/home/bk/my keys/k'"],
  ])('when the key was requested as %j then the command is %s', (key, command) => {
    expect(loadCommand(['agentkeep'], [key], HOME)).toBe(command);
  });

  it('when the login had --dir and keys failed for several reasons then one line groups them and repeats the options', () => {
    const err = keysNotLoaded([
      { key: { arg: 'a', path: '/home/bk/.ssh/a' }, why: 'no such file' },
      { key: { arg: 'b', path: '/home/bk/.ssh/b' }, why: '3 wrong passphrases' },
      { key: { arg: 'c', path: '/home/bk/.ssh/c' }, why: 'no such file' },
    ], true, ['agentkeep', '--dir', '/srv/ak dir'], HOME);
    expect(err.code).toBe('KEY_ADD');
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe("keys not loaded: /home/bk/.ssh/a, /home/bk/.ssh/c (no such file); /home/bk/.ssh/b (3 wrong passphrases); "
      + "--clear emptied the agent, so cron jobs have none of these keys until you run: agentkeep --dir '/srv/ak dir' a b c");
    expect(err.hint).toBeUndefined();
  });

  it('when nothing could prompt then the code is NO_PROMPT and the hint names the ways to prompt', () => {
    const err = keysNotLoaded([{ key: { arg: 'k', path: '/home/bk/.ssh/k' }, why: 'cannot ask for the passphrase: no terminal' }], false, ['agentkeep'], HOME);
    expect(err.code).toBe('NO_PROMPT');
    expect(err.message).toBe('keys not loaded: /home/bk/.ssh/k (cannot ask for the passphrase: no terminal); run: agentkeep k');
    expect(err.hint).toContain('SSH_ASKPASS');
  });
});
