import { describe, expect, it } from 'vitest';
import { dropGpg, foreignAgents, looksLikeGpgKey, rewriteBareStop } from '../../src/cli/keychain-compat.js';
import { AGENTKEEP_VALUE_OPTIONS } from '../../src/cli/agentkeep-options.js';
import { parseKeychainEnv } from '../../src/envfile/keychain-env.js';
import { parseShEnv } from '../../src/envfile/parse.js';

function collect() {
  const warnings: string[] = [];
  return { warnings, report: { info() {}, debug() {}, warn: (m: string) => { warnings.push(m); } } };
}

describe('rewriteBareStop', () => {
  it('when -k or --stop has no mine/others/all after it then it becomes the bare form', () => {
    expect(rewriteBareStop(['-k'], AGENTKEEP_VALUE_OPTIONS)).toEqual(['--stop-bare']);
    expect(rewriteBareStop(['--stop', 'id_rsa'], AGENTKEEP_VALUE_OPTIONS)).toEqual(['--stop-bare', 'id_rsa']);
    expect(rewriteBareStop(['-q', '--stop'], AGENTKEEP_VALUE_OPTIONS)).toEqual(['-q', '--stop-bare']);
  });

  it('when the word after it is mine, others or all then it is left alone, as keychain eats only those', () => {
    for (const w of ['mine', 'others', 'all']) expect(rewriteBareStop(['-k', w], AGENTKEEP_VALUE_OPTIONS)).toEqual(['-k', w]);
  });

  it('when -k is the value of an option or follows -- then it is not touched', () => {
    expect(rewriteBareStop(['--host', '-k'], AGENTKEEP_VALUE_OPTIONS)).toEqual(['--host', '-k']);
    expect(rewriteBareStop(['--', '-k'], AGENTKEEP_VALUE_OPTIONS)).toEqual(['--', '-k']);
  });
});

describe('gpg', () => {
  it('when --agents names agents other than ssh then they are listed once', () => {
    expect(foreignAgents('ssh,gpg')).toEqual(['gpg']);
    expect(foreignAgents('ssh')).toEqual([]);
    expect(foreignAgents('gpg ssh gpg')).toEqual(['gpg']);
  });

  it('when a word looks like a gpg key id then it is recognised', () => {
    expect(['0xDEADBEEF', 'DEADBEEF', '0123456789ABCDEF', 'a'.repeat(40)].every(looksLikeGpgKey)).toBe(true);
    expect(['id_rsa', 'deadbee', '0xZZZZZZZZ', 'cafe'].some(looksLikeGpgKey)).toBe(false);
  });

  it('when --agents ssh,gpg comes with a gpg key id then the id is dropped with one warning and ssh keys stay', () => {
    const { warnings, report } = collect();
    expect(dropGpg(['id_rsa', '0xDEADBEEF'], { agents: 'ssh,gpg', gpg2: true }, () => false, report)).toEqual(['id_rsa']);
    expect(warnings).toEqual(['agentkeep manages ssh-agent only; ignoring --agents gpg, --gpg2, gpg key 0xDEADBEEF']);
  });

  it('when a hex-looking word is a key file or gpg is not asked for then it stays a key', () => {
    const { warnings, report } = collect();
    expect(dropGpg(['deadbeef'], { agents: 'ssh,gpg', gpg2: false }, () => true, report)).toEqual(['deadbeef']);
    expect(dropGpg(['deadbeef'], { gpg2: false }, () => false, report)).toEqual(['deadbeef']);
    expect(warnings).toEqual(['agentkeep manages ssh-agent only; ignoring --agents gpg']);
  });
});

describe('parseKeychainEnv', () => {
  const env = { PATH: '/usr/bin:/bin', HOME: '/home/bk' };

  it('when PATH is set in the usual shapes then each applies in order', () => {
    expect(parseKeychainEnv('PATH="$HOME/bin:$PATH"; export PATH\n', env)).toEqual({ path: '/home/bk/bin:/usr/bin:/bin', ignored: [] });
    expect(parseKeychainEnv('export PATH=/opt/ssh/bin:${PATH}\n', env).path).toBe('/opt/ssh/bin:/usr/bin:/bin');
    expect(parseKeychainEnv("PATH='/a b'\nexport PATH\nPATH=/c:$PATH\n# comment\n", env)).toEqual({ path: '/c:/a b', ignored: [] });
  });

  it('when a line would run something or sets another variable then it is ignored and named', () => {
    const text = 'PATH=$(touch /tmp/pwn):$PATH\nPATH=`id`\nPATH=$FOO:$PATH\nSSH_ASKPASS=/x\nrm -rf ~\nPATH=/a;touch x\n';
    const r = parseKeychainEnv(text, env);
    expect(r.path).toBeUndefined();
    expect(r.ignored).toHaveLength(6);
  });
});

describe('parseShEnv', () => {
  it('when a variable has two lines then the file is refused, so that no reader picks one', () => {
    const two = 'SSH_AUTH_SOCK=/a; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=12; export SSH_AGENT_PID;\n\nSSH_AUTH_SOCK=/b; export SSH_AUTH_SOCK;\n';
    expect(parseShEnv(two)).toEqual({ ok: false, reason: 'two SSH_AUTH_SOCK lines' });
  });
});
