// Loading keys (SPEC §4) through the real ssh-agent, ssh-add and ssh-keygen, with a counting
// askpass program and no terminal (stdin is not a TTY, no DISPLAY).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, parseShEval, waitFor } from '../helpers/sandbox.js';
import { keygenFingerprint, loadedFingerprints, makeAskpass } from '../helpers/askpass.js';
import { SHELL_VARIABLE } from '../helpers/hook-shells.js';
import { SHELL_FLAVOUR_NAMES } from '../../src/shells/flavours.js';

const PASS = 'correct horse 7';

let sb: Sandbox;
afterEach(() => sb?.cleanup());

/** Starts agentkeep's agent with no keys and returns its socket and PID. */
async function startAgent(s: Sandbox): Promise<{ sock: string; pid: string }> {
  const r = await s.agentkeep(['--eval', '--noask']);
  expect(r.code, r.stderr).toBe(0);
  const env = parseShEval(r.stdout);
  return { sock: env.SSH_AUTH_SOCK!, pid: env.SSH_AGENT_PID! };
}

describe('agentkeep KEY... with an askpass program and no terminal', () => {
  it('when ed25519 and RSA keys share a passphrase then one askpass call loads both, and a second run asks nothing', async () => {
    sb = new Sandbox();
    const ed = sb.keygen('id_ed25519', { passphrase: PASS });
    const rsa = sb.keygen('id_rsa', { passphrase: PASS, type: 'rsa', bits: 2048 });
    const askpass = makeAskpass(sb, PASS);
    const env = { SSH_ASKPASS: askpass.program };
    const first = await sb.agentkeep(['--eval', 'id_ed25519', 'id_rsa'], { env });
    expect(first.code, first.stderr).toBe(0);
    const sock = parseShEval(first.stdout).SSH_AUTH_SOCK!;
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${ed}.pub`), keygenFingerprint(`${rsa}.pub`)].sort());
    expect(askpass.calls()).toBe(1);
    expect(askpass.prompts()[0]).toContain('id_ed25519');
    expect(first.stdout).not.toContain('Identity added');

    const second = await sb.agentkeep(['--eval', 'id_ed25519', 'id_rsa'], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(askpass.calls()).toBe(1);
    expect(second.stderr).toContain(`Known ssh key: ${ed}`);
  });

  it('when the passphrase is wrong then it exits 1 within seconds, says so, and leaves the agent as it was', async () => {
    sb = new Sandbox();
    const plain = sb.keygen('plain');
    sb.keygen('locked', { passphrase: PASS });
    const { sock, pid } = await startAgent(sb);
    const ok = await sb.agentkeep(['plain']);
    expect(ok.code, ok.stderr).toBe(0);
    const before = loadedFingerprints(sock);
    expect(before).toEqual([keygenFingerprint(`${plain}.pub`)]);
    const askpass = makeAskpass(sb, 'not the passphrase');
    const r = await sb.agentkeep(['--eval', 'locked'], { env: { SSH_ASKPASS: askpass.program }, timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(15_000);
    // The shell still gets the agent; eval's status says that a key is missing.
    expect(r.stdout).toBe(`SSH_AUTH_SOCK=${sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${pid}; export SSH_AGENT_PID;\nfalse;\n`);
    expect(r.stderr).toContain(`agentkeep: keys not loaded: ${join(sb.home, '.ssh', 'locked')} (3 wrong passphrases); run: agentkeep locked\n`);
    expect(askpass.calls()).toBe(3);
    expect(askpass.prompts()[1]).toMatch(/^Bad passphrase/);
    expect(loadedFingerprints(sock)).toEqual(before);
  });

  it('when there is no terminal and no SSH_ASKPASS then it fails at once and the agent is untouched', async () => {
    sb = new Sandbox();
    const plain = sb.keygen('plain');
    sb.keygen('locked', { passphrase: PASS });
    const { sock } = await startAgent(sb);
    expect((await sb.agentkeep(['plain'])).code).toBe(0);
    const r = await sb.agentkeep(['--eval', 'locked'], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBe(sock);
    expect(r.stdout).toMatch(/\nfalse;\n$/);
    expect(r.stderr).toContain('keys not loaded');
    expect(r.stderr).toContain('run: agentkeep locked');
    expect(r.stderr).toContain('SSH_ASKPASS is not set');
    expect(r.stderr).toContain('hint:');
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${plain}.pub`)]);
  });

  it('when keys cannot be loaded then the csh and fish flavours also print the agent\'s variables, then false;', async () => {
    sb = new Sandbox();
    sb.keygen('locked', { passphrase: PASS });
    await startAgent(sb);
    for (const flavour of SHELL_FLAVOUR_NAMES.filter((f) => f !== 'sh')) {
      const shell = SHELL_VARIABLE[flavour];
      const r = await sb.agentkeep(['--eval', '--quiet', 'locked'], { env: { SHELL: shell } });
      expect(r.code, shell).toBe(1);
      expect(r.stdout, shell).toBe(`${readFileSync(sb.file(flavour), 'utf8')}false;\n`);
      expect(r.stderr, shell).toContain('keys not loaded');
    }
  });

  it('when --nogui is given then SSH_ASKPASS is never run and it fails at once', async () => {
    sb = new Sandbox();
    sb.keygen('locked', { passphrase: PASS });
    const askpass = makeAskpass(sb, PASS);
    const r = await sb.agentkeep(['--nogui', 'locked'], { env: { SSH_ASKPASS: askpass.program } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--nogui');
    expect(askpass.calls()).toBe(0);
  });

  it('when a key file is missing then it warns and loads the others, and --ignore-missing silences the warning', async () => {
    sb = new Sandbox();
    const plain = sb.keygen('plain');
    const r = await sb.agentkeep(['--eval', 'nosuchkey', 'plain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Cannot find ssh key ${join(sb.home, '.ssh', 'nosuchkey')}`);
    expect(loadedFingerprints(parseShEval(r.stdout).SSH_AUTH_SOCK!)).toEqual([keygenFingerprint(`${plain}.pub`)]);
    const quiet = await sb.agentkeep(['--ignore-missing', 'nosuchkey', 'plain']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('nosuchkey');
  });

  it('when a key file has mode 0644 then it explains ssh\'s refusal with the chmod 600 fix and never runs ssh-add on it', async () => {
    sb = new Sandbox();
    const open = sb.keygen('open', { passphrase: PASS });
    chmodSync(open, 0o644);
    const askpass = makeAskpass(sb, PASS);
    const r = await sb.agentkeep(['--eval', 'open'], { env: { SSH_ASKPASS: askpass.program } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('mode 0644');
    expect(r.stderr).toContain(`chmod 600 '${open}'`);
    expect(askpass.calls()).toBe(0);
    expect(loadedFingerprints(parseShEval(r.stdout).SSH_AUTH_SOCK!)).toEqual([]);
  });

  it('when KEY.pub belongs to another key then it names the .pub as wrong and still judges by the private key', async () => {
    sb = new Sandbox();
    const k = sb.keygen('k', { passphrase: PASS });
    const other = sb.keygen('other');
    const trueFp = keygenFingerprint(`${k}.pub`);
    copyFileSync(`${other}.pub`, `${k}.pub`);
    const askpass = makeAskpass(sb, PASS);
    const env = { SSH_ASKPASS: askpass.program };
    const r = await sb.agentkeep(['--eval', 'k'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${k}.pub does not match ${k}`);
    expect(r.stderr).toContain(`ssh-keygen -y -f '${k}' > '${k}.pub'`);
    const sock = parseShEval(r.stdout).SSH_AUTH_SOCK!;
    expect(loadedFingerprints(sock)).toEqual([trueFp]);
    const again = await sb.agentkeep(['k'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(askpass.calls()).toBe(1);
  });

  it('when an old PEM key has no .pub then it says it cannot tell, gives the fix, and still loads it', async () => {
    sb = new Sandbox();
    const pem = join(sb.home, '.ssh', 'old_rsa');
    const gen = spawnSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', pem], { encoding: 'utf8' });
    expect(gen.status, gen.stderr).toBe(0);
    const fp = keygenFingerprint(`${pem}.pub`);
    rmSync(`${pem}.pub`);
    const r = await sb.agentkeep(['--eval', 'old_rsa']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/Cannot tell whether/g)).toHaveLength(1);
    expect(r.stderr).toContain(`ssh-keygen -y -f '${pem}' > '${pem}.pub'`);
    expect(loadedFingerprints(parseShEval(r.stdout).SSH_AUTH_SOCK!)).toEqual([fp]);
  });

  it('when --clear --noask is given where a passphrase can be asked for then the agent is emptied and stays the same agent', async () => {
    sb = new Sandbox();
    sb.keygen('plain');
    const loaded = await sb.agentkeep(['--eval', 'plain']);
    expect(loaded.code, loaded.stderr).toBe(0);
    const env = parseShEval(loaded.stdout);
    expect(loadedFingerprints(env.SSH_AUTH_SOCK!)).toHaveLength(1);
    const askpass = makeAskpass(sb, PASS);
    const r = await sb.agentkeep(['--eval', '--clear', '--noask', 'plain'], { env: { SSH_ASKPASS: askpass.program } });
    expect(r.code, r.stderr).toBe(0);
    expect(parseShEval(r.stdout)).toEqual(env);
    expect(loadedFingerprints(env.SSH_AUTH_SOCK!)).toEqual([]);
  });

  it('when --clear runs where nothing can prompt (no terminal, no askpass) then the agent keeps its keys and a warning says why, even with --quiet', async () => {
    sb = new Sandbox();
    const key = sb.keygen('locked', { passphrase: PASS });
    const { sock, pid } = await startAgent(sb);
    const askpass = makeAskpass(sb, PASS);
    expect((await sb.agentkeep(['locked'], { env: { SSH_ASKPASS: askpass.program } })).code).toBe(0);
    const before = loadedFingerprints(sock);
    expect(before).toEqual([keygenFingerprint(`${key}.pub`)]);
    for (const args of [['--clear', 'locked'], ['--clear', '--noask'], ['--clear']]) {
      const r = await sb.agentkeep(['--eval', '--quiet', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(`SSH_AUTH_SOCK=${sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${pid}; export SSH_AGENT_PID;\n`);
      expect(r.stderr).toBe(' * Warning: not clearing the ssh-agent (--clear): there is no terminal (stdin is not one, or no controlling tty) and SSH_ASKPASS is not set, so this login cannot prove it knows the passphrases; the agent\'s 1 key(s) are left as they were\n');
      expect(loadedFingerprints(sock)).toEqual(before);
    }
    // An askpass that is not a program cannot prompt either.
    const bogus = await sb.agentkeep(['--clear', 'locked'], { env: { SSH_ASKPASS: join(sb.dir, 'no-such-askpass') } });
    expect(bogus.code, bogus.stderr).toBe(0);
    expect(bogus.stderr).toContain('is not an executable program');
    expect(loadedFingerprints(sock)).toEqual(before);
  });

  it('when --clear names a missing, a 0644 and a wrongly typed key then the status is 1 and the message says cron now has none of them', async () => {
    sb = new Sandbox();
    const plain = sb.keygen('plain');
    const open = sb.keygen('open');
    chmodSync(open, 0o644);
    const locked = sb.keygen('locked', { passphrase: PASS });
    const { sock, pid } = await startAgent(sb);
    expect((await sb.agentkeep(['plain'])).code).toBe(0);
    const askpass = makeAskpass(sb, 'wrong');
    const r = await sb.agentkeep(['--eval', '--quiet', '--clear', 'typo', 'open', 'locked', 'plain'], { env: { SSH_ASKPASS: askpass.program } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`SSH_AUTH_SOCK=${sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${pid}; export SSH_AGENT_PID;\nfalse;\n`);
    const ssh = join(sb.home, '.ssh');
    expect(r.stderr).toContain(`agentkeep: keys not loaded: ${ssh}/typo (no such file); ${open} (mode 0644, fix: chmod 600); ${locked} (3 wrong passphrases); `
      + '--clear emptied the agent, so cron jobs have none of these keys until you run: agentkeep typo open locked\n');
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${plain}.pub`)]);
    // Without --clear a missing file stays a warning, and --ignore-missing silences it under --clear too.
    expect((await sb.agentkeep(['typo', 'plain'])).code).toBe(0);
    const ignored = await sb.agentkeep(['--clear', '--ignore-missing', 'typo', 'plain'], { env: { SSH_ASKPASS: askpass.program } });
    expect(ignored.code, ignored.stderr).toBe(0);
  });

  it('when keys fail with --dir, --host and --timeout then the advice repeats them (the timeout with its unit) so it reaches the same agent', async () => {
    sb = new Sandbox();
    sb.keygen('locked', { passphrase: PASS });
    const r = await sb.agentkeep(['--dir', join(sb.dir, 'kd'), '--host', 'h1', '--timeout', '30', 'locked']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`run: agentkeep --dir ${join(sb.dir, 'kd')} --host h1 --timeout 30m locked\n`);
  });

  it('when --ssh-rm names one key then only that key is removed, and a key not loaded is reported', async () => {
    sb = new Sandbox();
    const a = sb.keygen('a');
    const b = sb.keygen('b');
    const r0 = await sb.agentkeep(['--eval', 'a', 'b']);
    expect(r0.code, r0.stderr).toBe(0);
    const sock = parseShEval(r0.stdout).SSH_AUTH_SOCK!;
    expect(loadedFingerprints(sock)).toHaveLength(2);
    const r = await sb.agentkeep(['--ssh-rm', 'a']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Removed ssh key: ${a}`);
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${b}.pub`)]);
    const again = await sb.agentkeep(['-r', 'a']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`${a} is not loaded`);
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${b}.pub`)]);
  });

  it('when --extended host:ALIAS, sshk:NAME and --confallhosts name keys then they are loaded once each', async () => {
    sb = new Sandbox();
    const hk = sb.keygen('host_key');
    const sk = sb.keygen('sshk_key');
    const ck = sb.keygen('conf_key');
    writeFileSync(join(sb.home, '.ssh', 'config'), [
      'Host db1', '  HostName db1.example.net', '  IdentityFile ~/.ssh/host_key', '',
      'Host other', '  IdentityFile = "%d/.ssh/conf_key"', '  IdentityFile ~/.ssh/k_%h', '',
    ].join('\n'), { mode: 0o600 });
    const noExt = await sb.agentkeep(['host:db1']);
    expect(noExt.code).toBe(64);
    expect(noExt.stderr).toContain('--extended');
    const r = await sb.agentkeep(['--eval', '--extended', '--confallhosts', 'host:db1', 'sshk:sshk_key', 'sshk_key', hk]);
    expect(r.code, r.stderr).toBe(0);
    const sock = parseShEval(r.stdout).SSH_AUTH_SOCK!;
    expect(loadedFingerprints(sock)).toEqual([hk, sk, ck].map((k) => keygenFingerprint(`${k}.pub`)).sort());
  });

  it('when --timeout and --confirm are given then ssh-add adds the key with that lifetime and confirmation', async () => {
    sb = new Sandbox();
    const plain = sb.keygen('plain');
    // A debugging agent (-d) logs each key's constraints; agentkeep adopts it from SSH_AUTH_SOCK.
    const sock = join(sb.dir, 'debug-agent.sock');
    let log = '';
    const agent = spawn('ssh-agent', ['-d', '-a', sock], { env: sb.env, stdio: ['ignore', 'ignore', 'pipe'] });
    sb.track(agent.pid!);
    agent.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    expect(await waitFor(() => log.includes('new_socket'))).toBe(true);
    const r = await sb.agentkeep(['--timeout', '2', '--confirm', 'plain'], { env: { SSH_AUTH_SOCK: sock } });
    expect(r.code, r.stderr).toBe(0);
    expect(await waitFor(() => log.includes('process_add_identity: add'))).toBe(true);
    expect(log).toContain(`${keygenFingerprint(`${plain}.pub`)} "plain" (life: 120) (confirm: 1)`);
  });
});
