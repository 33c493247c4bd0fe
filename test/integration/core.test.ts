import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, createConnection, type Server } from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { alive, backendEnv, HOST, parseShEval, PROC_BACKENDS, run, Sandbox, waitFor } from '../helpers/sandbox.js';
import { ENV_FLAVOURS, shellFlavourNamed, type ShellFlavourName } from '../../src/shells/flavours.js';

let sb: Sandbox;
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  sb.cleanup();
});

function sshAddList(sock: string) {
  return spawnSync('ssh-add', ['-l'], { env: { ...sb.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
}

/** The command that sources a file in a shell of each flavour. */
const SOURCE: Record<ShellFlavourName, string> = { sh: '.', csh: 'source', fish: 'source' };

/** The shells that source each env file (the flavour agentkeep gives each), and how to print a variable after sourcing. */
const SHELLS = (['dash', 'bash', 'zsh', 'tcsh', 'fish'] as const).map((shell) => {
  const flavour = shellFlavourNamed(shell)!;
  const source = SOURCE[flavour];
  return { shell, flavour, source, script: (f: string) => `${source} '${f}'; printf '%s\\n' "$SSH_AUTH_SOCK"; ssh-add -l` };
});

describe('finding or starting the one agent', () => {
  it('when called twice then the first starts an agent, the second finds it, and every shell reaches it through its env file', async () => {
    sb = new Sandbox();
    const first = await sb.agentkeep(['--eval']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('Starting ssh-agent');
    const env = parseShEval(first.stdout);
    expect(env.SSH_AUTH_SOCK).toBe(join(sb.keydir, `${HOST}-agent.sock`));
    expect(alive(Number(env.SSH_AGENT_PID))).toBe(true);

    const second = await sb.agentkeep(['--eval']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`Found existing ssh-agent: ${env.SSH_AGENT_PID}`);
    expect(second.stdout).toBe(first.stdout);
    expect(sb.sandboxAgents()).toEqual([Number(env.SSH_AGENT_PID)]);

    // A key in the agent, so that `ssh-add -l` through each file proves it reaches this agent.
    const key = sb.keygen('id_ed25519');
    expect(spawnSync('ssh-add', [key], { env: { ...sb.env, SSH_AUTH_SOCK: env.SSH_AUTH_SOCK } }).status).toBe(0);
    for (const { shell, flavour, script } of SHELLS) {
      const r = await run(shell, ['-c', script(sb.file(flavour))], { env: sb.env });
      expect(r.code, `${shell}: ${r.stderr}`).toBe(0);
      const [sock, listed] = r.stdout.split('\n');
      expect(sock, shell).toBe(env.SSH_AUTH_SOCK);
      expect(listed, shell).toContain('id_ed25519');
    }
    for (const flavour of ENV_FLAVOURS) {
      expect(statSync(sb.file(flavour)).mode & 0o777, flavour).toBe(0o600);
    }
    expect(statSync(sb.keydir).mode & 0o777).toBe(0o700);
    expect(readFileSync(sb.file('envfile'), 'utf8')).toBe(`SSH_AUTH_SOCK=${env.SSH_AUTH_SOCK}\nSSH_AGENT_PID=${env.SSH_AGENT_PID}\n`);
  });

  it('when the key directory path holds spaces, quotes, $(...) and backticks then every shell gets the exact path and nothing runs', async () => {
    sb = new Sandbox();
    const marker = join(sb.dir, 'pwned');
    const weird = join(sb.dir, `a b'c"d $(touch pwned) \`touch pwned\` !x`);
    mkdirSync(weird, { mode: 0o700 });
    const r = await sb.agentkeep(['--eval', '--dir', weird, '--absolute']);
    expect(r.code, r.stderr).toBe(0);
    const sock = join(weird, `${HOST}-agent.sock`);
    expect(lstatSync(sock).isSocket()).toBe(true);
    for (const { shell, flavour, source } of SHELLS) {
      const file = join(weird, `${HOST}-${flavour}`);
      // Pass the file name through the environment, so only the file's contents are under test.
      const script = `${source} "$F"; printf '%s\\n' "$SSH_AUTH_SOCK"`;
      const out = await run(shell, ['-c', script], { env: { ...sb.env, F: file }, cwd: sb.dir });
      expect(out.code, `${shell}: ${out.stderr}`).toBe(0);
      expect(out.stdout, shell).toBe(`${sock}\n`);
    }
    // --eval's own output, evaluated by sh, gives the same path.
    const evaluated = await run('dash', ['-c', 'eval "$(cat)"; printf "%s\\n" "$SSH_AUTH_SOCK"'], { env: sb.env, input: r.stdout, cwd: sb.dir });
    expect(evaluated.stdout).toBe(`${sock}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('when $SHELL is tcsh or fish then --eval prints that shell\'s lines', async () => {
    sb = new Sandbox();
    const csh = await sb.agentkeep(['--eval'], { env: { SHELL: '/bin/tcsh' } });
    expect(csh.stdout).toMatch(/^setenv SSH_AUTH_SOCK \S+;\nsetenv SSH_AGENT_PID \d+;\n$/);
    const fish = await sb.agentkeep(['--eval'], { env: { SHELL: '/usr/bin/fish' } });
    expect(fish.stdout).toMatch(/^set -e SSH_AUTH_SOCK; set -gx SSH_AUTH_SOCK \S+;\n/);
  });
});

describe('socket path and systemd', () => {
  it('when the stable socket path would be too long then a short private path is used and --debug says so', async () => {
    sb = new Sandbox();
    const deep = join(sb.dir, 'd'.repeat(60), 'e'.repeat(40));
    mkdirSync(deep, { recursive: true, mode: 0o700 });
    const r = await sb.agentkeep(['--eval', '--debug', '--dir', deep]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/is longer than 103 bytes; using a short socket path instead/);
    const sock = parseShEval(r.stdout).SSH_AUTH_SOCK!;
    expect(sock).toMatch(new RegExp(`^/tmp/agentkeep-${process.getuid!()}-[0-9a-f]{16}/[0-9a-f]{16}\\.sock$`));
    expect(statSync(join(sock, '..')).mode & 0o777).toBe(0o700);
    sb.track(Number(parseShEval(r.stdout).SSH_AGENT_PID));
    const again = await sb.agentkeep(['--eval', '--dir', deep]);
    expect(again.stdout).toBe(r.stdout);
  });

  it('when systemctl --user cannot be reached then --systemd warns and the login still succeeds', async () => {
    sb = new Sandbox();
    const r = await sb.agentkeep(['--eval', '--systemd'], { env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${sb.dir}/nobus`, XDG_RUNTIME_DIR: sb.dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Warning: systemctl --user import-environment SSH_AUTH_SOCK failed/);
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBeDefined();
  });
});

describe('recovering from a dead or damaged state', () => {
  it('when the agent was SIGKILLed (stale socket left behind) then the next call starts a fresh one', async () => {
    sb = new Sandbox();
    const before = parseShEval((await sb.agentkeep(['--eval'])).stdout);
    process.kill(Number(before.SSH_AGENT_PID), 'SIGKILL');
    await waitFor(() => !alive(Number(before.SSH_AGENT_PID)));
    expect(lstatSync(before.SSH_AUTH_SOCK!).isSocket()).toBe(true); // stale socket file remains

    const after = await sb.agentkeep(['--eval']);
    expect(after.code, after.stderr).toBe(0);
    const env = parseShEval(after.stdout);
    expect(env.SSH_AUTH_SOCK).toBe(before.SSH_AUTH_SOCK);
    expect(env.SSH_AGENT_PID).not.toBe(before.SSH_AGENT_PID);
    expect(sshAddList(env.SSH_AUTH_SOCK!).status).toBe(1); // reachable, no identities
    expect(readFileSync(sb.file('sh'), 'utf8')).toBe(after.stdout);
  });

  it('when the pidfile\'s PID now belongs to another live process then that process is untouched and a working agent results', async () => {
    sb = new Sandbox();
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    sb.track(bystander.pid!);
    mkdirSync(sb.keydir, { mode: 0o700 });
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${sb.keydir}/gone.sock; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${bystander.pid}; export SSH_AGENT_PID;\n`, { mode: 0o600 });
    const r = await sb.agentkeep(['--eval']);
    expect(r.code, r.stderr).toBe(0);
    const env = parseShEval(r.stdout);
    expect(Number(env.SSH_AGENT_PID)).not.toBe(bystander.pid);
    expect(alive(bystander.pid!)).toBe(true);
    expect(readFileSync(sb.file('sh'), 'utf8')).toBe(r.stdout);
  });

  it.each(['another process', 'another ssh-agent of ours'])('when the socket answers but the pidfile names %s then the PID is corrected', async (what) => {
    sb = new Sandbox();
    const good = parseShEval((await sb.agentkeep(['--eval'])).stdout);
    let wrong: number;
    if (what === 'another process') {
      const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
      sb.track(bystander.pid!);
      wrong = bystander.pid!;
    } else {
      wrong = sb.startAgent(join(sb.dir, 'other.sock')).pid;
    }
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${good.SSH_AUTH_SOCK}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${wrong}; export SSH_AGENT_PID;\n`);
    const r = await sb.agentkeep(['--eval']);
    expect(r.code).toBe(0);
    expect(parseShEval(r.stdout).SSH_AGENT_PID).toBe(good.SSH_AGENT_PID);
    expect(readFileSync(sb.file('sh'), 'utf8')).toContain(`SSH_AGENT_PID=${good.SSH_AGENT_PID};`);
    expect(alive(wrong)).toBe(true);
  });

  it('when the agent at the stable socket is alive but does not answer then agentkeep fails (75) and neither removes its socket nor starts a second agent', async () => {
    sb = new Sandbox();
    const env = parseShEval((await sb.agentkeep(['--eval'])).stdout);
    const pid = Number(env.SSH_AGENT_PID);
    process.kill(pid, 'SIGSTOP');
    try {
      const r = await sb.agentkeep(['--eval'], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(75);
      expect(r.stdout).toBe('false;\n');
      expect(r.stderr).toContain('accepts connections but does not answer');
      expect(lstatSync(env.SSH_AUTH_SOCK!).isSocket()).toBe(true);
      expect(sb.sandboxAgents()).toEqual([pid]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(sshAddList(env.SSH_AUTH_SOCK!).status).toBe(1);
  });

  it.each([
    ['garbage', '\x00\x01\x02 not an env file at all'],
    ['shell code', 'SSH_AUTH_SOCK=/tmp/x; export SSH_AUTH_SOCK; touch MARKER\n'],
    ['a command substitution', 'SSH_AUTH_SOCK=$(touch MARKER); export SSH_AUTH_SOCK;\n'],
  ])('when the env file holds %s then no code runs and the files are rewritten for a working agent', async (_what, content) => {
    sb = new Sandbox();
    const marker = join(sb.dir, 'marker');
    mkdirSync(sb.keydir, { mode: 0o700 });
    writeFileSync(sb.file('sh'), content.replaceAll('MARKER', marker), { mode: 0o600 });
    const r = await sb.agentkeep(['--eval']);
    expect(r.code, r.stderr).toBe(0);
    const env = parseShEval(r.stdout);
    expect(sshAddList(env.SSH_AUTH_SOCK!).status).toBe(1);
    expect(readFileSync(sb.file('sh'), 'utf8')).toBe(r.stdout);
    expect(existsSync(marker)).toBe(false);
  });

  it('when an agent already answers at the stable socket but the pidfile is lost then it is adopted, not duplicated', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    const orphan = sb.startAgent(join(sb.keydir, `${HOST}-agent.sock`));
    const r = await sb.agentkeep(['--eval']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Adopted ssh-agent');
    expect(parseShEval(r.stdout)).toEqual({ SSH_AUTH_SOCK: orphan.sock, SSH_AGENT_PID: String(orphan.pid) });
    expect(sb.sandboxAgents()).toEqual([orphan.pid]);
  });

  it('when a socket accepts connections but never answers then agentkeep does not hang and starts its own agent', async () => {
    sb = new Sandbox();
    const silent = join(sb.dir, 'silent.sock');
    const server = createServer(() => { /* never answers */ });
    servers.push(server);
    await new Promise<void>((r) => server.listen(silent, r));
    mkdirSync(sb.keydir, { mode: 0o700 });
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${silent}; export SSH_AUTH_SOCK;\n`, { mode: 0o600 });
    const r = await sb.agentkeep(['--eval'], { env: { SSH_AUTH_SOCK: silent }, timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBe(join(sb.keydir, `${HOST}-agent.sock`));
    expect(r.ms).toBeLessThan(15_000);
  });
});

describe.each(PROC_BACKENDS)('the inherited environment (%s backend)', (backend) => {
  it('when SSH_AUTH_SOCK names a local ssh-agent of ours then it is adopted and written to the env files', async () => {
    sb = new Sandbox();
    const inherited = sb.startAgent(join(sb.dir, 'inherited.sock'));
    const r = await sb.agentkeep(['--eval'], { env: { SSH_AUTH_SOCK: inherited.sock, ...backendEnv(backend) } });
    expect(r.code, r.stderr).toBe(0);
    expect(parseShEval(r.stdout)).toEqual({ SSH_AUTH_SOCK: inherited.sock, SSH_AGENT_PID: String(inherited.pid) });
    expect(readFileSync(sb.file('sh'), 'utf8')).toBe(r.stdout);
  });

  it('when the environment comes from eval "$(ssh-agent)" (no -a) then that agent is adopted, and --debug says what could not be checked', async () => {
    sb = new Sandbox();
    const out = spawnSync('ssh-agent', ['-s'], { env: { ...sb.env, TMPDIR: sb.dir }, encoding: 'utf8' });
    const inherited = parseShEval(out.stdout.replace(/ echo Agent pid \d+;/, ''));
    sb.track(Number(inherited.SSH_AGENT_PID));
    expect(inherited.SSH_AUTH_SOCK, out.stderr).toMatch(/^\//);
    const r = await sb.agentkeep(['--eval', '--debug'], { env: { SSH_AUTH_SOCK: inherited.SSH_AUTH_SOCK, SSH_AGENT_PID: inherited.SSH_AGENT_PID, ...backendEnv(backend) } });
    expect(r.code, r.stderr).toBe(0);
    expect(parseShEval(r.stdout)).toEqual(inherited);
    expect(r.stderr.includes(`which process holds ${inherited.SSH_AUTH_SOCK} cannot be checked without /proc`)).toBe(backend === 'ps');
  });

  it('when SSH_AUTH_SOCK is forwarded but a stale SSH_AGENT_PID names a local agent of ours then the forwarded socket is still not adopted', async () => {
    sb = new Sandbox();
    const real = sb.startAgent(join(sb.dir, 'real.sock'));
    const unrelated = sb.startAgent(join(sb.dir, 'unrelated.sock'));
    const forwarded = join(sb.dir, 'forwarded.sock');
    const relay = createServer((c) => { const up = createConnection(real.sock); c.pipe(up).pipe(c); c.on('error', () => up.destroy()); up.on('error', () => c.destroy()); });
    servers.push(relay);
    await new Promise<void>((r) => relay.listen(forwarded, r));
    const r = await sb.agentkeep(['--eval'], { env: { SSH_AUTH_SOCK: forwarded, SSH_AGENT_PID: String(unrelated.pid), ...backendEnv(backend) } });
    expect(r.code, r.stderr).toBe(0);
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBe(join(sb.keydir, `${HOST}-agent.sock`));
    expect(readFileSync(sb.file('sh'), 'utf8')).not.toContain('forwarded');
  });

  it('when the inherited socket is a forwarded agent then it is used only with --ssh-allow-forwarded and never persisted', async () => {
    sb = new Sandbox();
    const real = sb.startAgent(join(sb.dir, 'real.sock'));
    // A relay in front of a real agent, as sshd provides for `ssh -A`: the listener is not an ssh-agent.
    const forwarded = join(sb.dir, 'forwarded.sock');
    const relay = createServer((c) => { const up = createConnection(real.sock); c.pipe(up).pipe(c); c.on('error', () => up.destroy()); up.on('error', () => c.destroy()); });
    servers.push(relay);
    await new Promise<void>((r) => relay.listen(forwarded, r));

    const allowed = await sb.agentkeep(['--eval', '--ssh-allow-forwarded', '--nolock'], { env: { SSH_AUTH_SOCK: forwarded, ...backendEnv(backend) } });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe(`SSH_AUTH_SOCK=${forwarded}; export SSH_AUTH_SOCK;\n`);
    expect(existsSync(sb.file('sh'))).toBe(false);

    const refused = await sb.agentkeep(['--eval'], { env: { SSH_AUTH_SOCK: forwarded, ...backendEnv(backend) } });
    expect(refused.code).toBe(0);
    expect(parseShEval(refused.stdout).SSH_AUTH_SOCK).toBe(join(sb.keydir, `${HOST}-agent.sock`));
    expect(readFileSync(sb.file('sh'), 'utf8')).not.toContain('forwarded');
  });
});

describe('the inherited environment', () => {
  it('when --noinherit is given then the inherited agent is ignored and agentkeep starts its own', async () => {
    sb = new Sandbox();
    const inherited = sb.startAgent(join(sb.dir, 'inherited.sock'));
    const r = await sb.agentkeep(['--eval', '--noinherit'], { env: { SSH_AUTH_SOCK: inherited.sock } });
    expect(r.code).toBe(0);
    expect(parseShEval(r.stdout).SSH_AUTH_SOCK).toBe(join(sb.keydir, `${HOST}-agent.sock`));
  });
});

describe('query, list and eval failures', () => {
  it('when no agent runs then --query exits 1 and starts nothing', async () => {
    sb = new Sandbox();
    const r = await sb.agentkeep(['--query']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(sb.sandboxAgents()).toEqual([]);
  });

  it('when an agent runs then --query prints its lines and -l/-L list its keys', async () => {
    sb = new Sandbox();
    const env = parseShEval((await sb.agentkeep(['--eval'])).stdout);
    const q = await sb.agentkeep(['--query']);
    expect(q.code).toBe(0);
    expect(q.stdout).toBe(`SSH_AUTH_SOCK=${env.SSH_AUTH_SOCK}\nSSH_AGENT_PID=${env.SSH_AGENT_PID}\n`);
    expect((await sb.agentkeep(['-l'])).code).toBe(1);
    const key = sb.keygen('id_ed25519');
    spawnSync('ssh-add', [key], { env: { ...sb.env, SSH_AUTH_SOCK: env.SSH_AUTH_SOCK } });
    const l = await sb.agentkeep(['-l']);
    expect(l.code).toBe(0);
    expect(l.stdout).toBe(sshAddList(env.SSH_AUTH_SOCK!).stdout);
    const L = await sb.agentkeep(['-L']);
    expect(L.stdout).toBe(`${readFileSync(`${key}.pub`, 'utf8').trim()}\n`);
    const wipe = await sb.agentkeep(['--wipe', 'ssh']);
    expect(wipe.code).toBe(0);
    expect(sshAddList(env.SSH_AUTH_SOCK!).status).toBe(1);
  });

  it('when --eval fails then stdout is exactly "false;" and the message names the fix', async () => {
    sb = new Sandbox();
    mkdirSync(sb.keydir, { mode: 0o700 });
    chmodSync(sb.keydir, 0o777);
    const r = await sb.agentkeep(['--eval']);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('false;\n');
    expect(r.stderr).toContain(`hint: run: chmod 700 '${sb.keydir}'`);
  });

  it('when the key directory becomes group-writable while the agent runs then every command refuses it (78)', async () => {
    sb = new Sandbox();
    expect((await sb.agentkeep(['--eval'])).code).toBe(0);
    chmodSync(sb.keydir, 0o770);
    for (const args of [['--eval'], ['--query'], ['-Q', '--eval'], ['-l']]) {
      const r = await sb.agentkeep(args);
      expect(r.code, args.join(' ')).toBe(78);
      expect(r.stderr).toContain(`chmod 700 '${sb.keydir}'`);
    }
  });

  it('when --ssh-agent-socket is relative or too long then it is a usage error (64)', async () => {
    sb = new Sandbox();
    expect((await sb.agentkeep(['--ssh-agent-socket', 'rel/agent.sock'])).code).toBe(64);
    const long = await sb.agentkeep(['--ssh-agent-socket', `/tmp/${'x'.repeat(120)}.sock`]);
    expect(long.code).toBe(64);
    expect(long.stderr).toContain('at most 103 bytes');
  });

  it('when an unknown option is given then it is a usage error (64) and --eval still prints false;', async () => {
    sb = new Sandbox();
    const r = await sb.agentkeep(['--eval', '--bogus']);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('false;\n');
    expect(r.stderr).toMatch(/^agentkeep: unknown option '--bogus'/);
  });

  it('when retired keychain options are given then they are accepted with a one-line warning each', async () => {
    sb = new Sandbox();
    const r = await sb.agentkeep(['--eval', '--agents', 'ssh,gpg', '--inherit', 'any', '--attempts', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/is retired and ignored/g)?.length).toBe(2);
    expect(r.stderr.match(/agentkeep manages ssh-agent only; ignoring --agents gpg$/gm)?.length).toBe(1);
  });
});

describe('an agent that refuses a request', () => {
  it('when the agent is locked (ssh-add -x) then --wipe ssh exits 75 with the way to unlock it', async () => {
    sb = new Sandbox();
    sb.keygen('id_ed25519');
    const started = await sb.agentkeep(['--eval', '--quiet', 'id_ed25519']);
    expect(started.code, started.stderr).toBe(0);
    const { SSH_AUTH_SOCK: sock, SSH_AGENT_PID: pid } = parseShEval(started.stdout);
    sb.track(Number(pid));
    const askpass = join(sb.dir, 'lock-askpass');
    writeFileSync(askpass, '#!/bin/sh\necho lockpw\n', { mode: 0o755 });
    const locked = spawnSync('ssh-add', ['-x'], { env: { ...sb.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(locked.status, locked.stderr).toBe(0);
    const r = await sb.agentkeep(['--wipe', 'ssh']);
    expect(r.code).toBe(75);
    expect(r.stderr).toContain('agentkeep: the ssh-agent did not do what was asked:');
    expect(r.stderr).toContain('hint: if the agent is locked (ssh-add -x), unlock it with ssh-add -X');
  });
});
