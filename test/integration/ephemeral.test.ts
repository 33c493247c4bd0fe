// `withEphemeralAgent`: a real private ssh-agent in a 0700 directory, keys loaded from the real
// keyring (fd 3) or an askpass program, and no agent or directory left after any way out.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { fingerprintOf } from '../../src/agent/protocol.js';
import { keyringPassphrases, liveEphemeralAgents, withEphemeralAgent, type EphemeralAgent } from '../../src/ephemeral/index.js';
import { WATCHDOG } from '../../src/ephemeral/agent.js';
import { AgentkeepError } from '../../src/errors.js';
import { publicKeyOf } from '../../src/keys/fingerprint.js';
import { alive, backendEnv, PROC_BACKENDS, ROOT, run, Sandbox, waitFor } from '../helpers/sandbox.js';
import { startSecretService, type SecretService } from '../helpers/secret-service.js';
import { readSettings } from '../../src/settings.js';

const PASS = 'ephemeral pass phrase';
let sb: Sandbox;

beforeEach(() => { sb = new Sandbox('ak-eph-'); });
afterEach(() => { sb.cleanup(); });

function fp(path: string): string {
  return fingerprintOf(publicKeyOf(path)!.blob);
}

/** An askpass program that prints `answer`, counting its calls in a file. */
function askpass(answer: string): { program: string; calls: () => number } {
  const program = join(sb.dir, 'askpass.sh');
  const count = join(sb.dir, 'askpass.count');
  writeFileSync(program, `#!/bin/sh\necho x >> '${count}'\nprintf '%s\\n' '${answer}'\n`);
  chmodSync(program, 0o700);
  return { program, calls: () => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').length - 1 : 0) };
}

async function agentKeys(agent: EphemeralAgent): Promise<string> {
  const r = await run('ssh-add', ['-l'], { env: { ...sb.env, ...agent.env } });
  return r.stdout;
}

/** The agent is gone: SIGKILLed after a slow stop, it may take a moment to exit. */
async function expectGone(agent: EphemeralAgent | undefined): Promise<void> {
  expect(agent).toBeDefined();
  expect(await waitFor(() => !alive(agent!.pid))).toBe(true);
  expect(existsSync(agent!.dir)).toBe(false);
  expect(sb.sandboxAgents()).toEqual([]);
  expect(liveEphemeralAgents()).toBe(0);
}

describe('keys from an askpass program', () => {
  it('when the body succeeds then it saw a 0700 private agent holding the key, and afterwards the agent and directory are gone', async () => {
    const key = sb.keygen('backup_ed25519', { passphrase: PASS });
    const ask = askpass(PASS);
    let seen: EphemeralAgent | undefined;
    const result = await withEphemeralAgent({ keys: [key], env: sb.env, askpass: ask.program, baseDir: sb.dir }, async (agent) => {
      seen = agent;
      expect(statSync(agent.dir).mode & 0o777).toBe(0o700);
      expect(agent.sock.startsWith(`${agent.dir}/`)).toBe(true);
      expect(await agentKeys(agent)).toContain(fp(key));
      return 'done';
    });
    expect(result).toBe('done');
    await expectGone(seen);
  });

  it('when the body fails then the failure is returned and the agent is still stopped', async () => {
    const key = sb.keygen('k', { passphrase: PASS });
    let seen: EphemeralAgent | undefined;
    const code = await withEphemeralAgent({ keys: [key], env: sb.env, askpass: askpass(PASS).program, baseDir: sb.dir }, async (agent) => {
      seen = agent;
      return (await run('sh', ['-c', 'ssh-add -l >/dev/null && exit 3'], { env: { ...sb.env, ...agent.env } })).code;
    });
    expect(code).toBe(3);
    await expectGone(seen);
  });

  it('when the body throws then the error propagates and the agent is still stopped', async () => {
    const key = sb.keygen('k', { passphrase: PASS });
    let seen: EphemeralAgent | undefined;
    await expect(withEphemeralAgent({ keys: [key], env: sb.env, askpass: askpass(PASS).program, baseDir: sb.dir }, async (agent) => {
      seen = agent;
      throw new Error('job blew up');
    })).rejects.toThrow('job blew up');
    await expectGone(seen);
  });

  it('when the askpass program keeps answering wrong then loading gives up after a few tries with KEY_NOT_LOADED', async () => {
    const key = sb.keygen('k', { passphrase: PASS });
    const ask = askpass('not it');
    let ran = false;
    const error = await withEphemeralAgent({ keys: [key], env: sb.env, askpass: ask.program, baseDir: sb.dir }, async () => { ran = true; })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentkeepError);
    expect((error as AgentkeepError).code).toBe('KEY_NOT_LOADED');
    expect((error as AgentkeepError).exitCode).toBe(75);
    expect(ran).toBe(false);
    expect(ask.calls()).toBeGreaterThan(0);
    expect(ask.calls()).toBeLessThanOrEqual(4);
    expect(sb.sandboxAgents()).toEqual([]);
  });

  // In this process: the backend is read from process.env at each question, so it is set for this test only.
  it.each(PROC_BACKENDS)('when the askpass program hangs past the deadline (%s backend) then it, its child and ssh-add are killed and loading fails with KEY_NOT_LOADED', async (backend) => {
    const saved = process.env.AGENTKEEP_PROC_BACKEND;
    process.env.AGENTKEEP_PROC_BACKEND = backendEnv(backend).AGENTKEEP_PROC_BACKEND;
    onTestFinished(() => {
      if (saved === undefined) delete process.env.AGENTKEEP_PROC_BACKEND;
      else process.env.AGENTKEEP_PROC_BACKEND = saved;
    });
    const key = sb.keygen('k', { passphrase: PASS });
    const pids = join(sb.dir, 'hang.pids');
    const program = join(sb.dir, 'hang-askpass.sh');
    // The askpass itself and a child of it: both must be gone afterwards.
    writeFileSync(program, `#!/bin/sh\necho $$ >> '${pids}'\nsleep 300 &\necho $! >> '${pids}'\nwait\n`, { mode: 0o700 });
    let ran = false;
    const started = Date.now();
    const error = await withEphemeralAgent({ keys: [key], env: sb.env, askpass: program, askpassTimeoutMs: 1500, baseDir: sb.dir }, async () => { ran = true; })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AgentkeepError);
    expect((error as AgentkeepError).code).toBe('KEY_NOT_LOADED');
    expect((error as AgentkeepError).exitCode).toBe(75);
    expect((error as AgentkeepError).message).toContain('did not answer within 1.5 s');
    expect(ran).toBe(false);
    // Generous: the askpass alone would take 300 s.
    expect(Date.now() - started).toBeLessThan(30_000);
    const started2 = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(started2).toHaveLength(2);
    for (const pid of started2) sb.track(pid);
    expect(await waitFor(() => started2.every((pid) => !alive(pid)))).toBe(true);
    expect(sb.sandboxAgents()).toEqual([]);
  }, 45_000);

  it('when there is neither a stored passphrase nor an askpass program then nothing runs and the error says how to fix it', async () => {
    const key = sb.keygen('k', { passphrase: PASS });
    const error = await withEphemeralAgent({ keys: [key], env: sb.env, baseDir: sb.dir }, async () => 'ran').then(() => undefined, (e: unknown) => e);
    expect((error as AgentkeepError).code).toBe('KEY_NOT_LOADED');
    expect((error as AgentkeepError).hint).toContain('agentkeep passphrase set');
    expect(sb.sandboxAgents()).toEqual([]);
  });

  it('when a key file does not exist then it fails naming the file and no agent is left', async () => {
    const error = await withEphemeralAgent({ keys: [join(sb.home, '.ssh', 'nope')], env: sb.env, baseDir: sb.dir }, async () => 'ran')
      .then(() => undefined, (e: unknown) => e);
    expect((error as AgentkeepError).code).toBe('KEY_FILE');
    expect((error as AgentkeepError).message).toContain('no key file at');
    expect(sb.sandboxAgents()).toEqual([]);
  });
});

describe('keys from the keyring', () => {
  let ss: SecretService;
  beforeEach(async () => { ss = await startSecretService(sb); });

  async function store(name: string, pass: string): Promise<void> {
    // Stored with secret-tool so that a wrong passphrase can be planted (set refuses one).
    const key = join(sb.home, '.ssh', name);
    const r = await ss.secretTool(['store', '--label=test', 'service', 'agentkeep', 'username', fp(key)], pass);
    expect(r.code, r.stderr).toBe(0);
  }

  it('when the passphrase is stored then the key is loaded through fd 3 without any askpass', async () => {
    const key = sb.keygen('backup_ed25519', { passphrase: PASS });
    const other = sb.keygen('backup_rsa', { passphrase: 'another one', type: 'rsa' });
    await store('backup_ed25519', PASS);
    await store('backup_rsa', 'another one');
    const env = { ...sb.env, ...ss.env };
    let seen: EphemeralAgent | undefined;
    await withEphemeralAgent({ keys: [key, other], env, passphrases: keyringPassphrases(env, readSettings(env)), baseDir: sb.dir }, async (agent) => {
      seen = agent;
      const listed = await agentKeys(agent);
      expect(listed).toContain(fp(key));
      expect(listed).toContain(fp(other));
    });
    await expectGone(seen);
  });

  it('when the stored passphrase is wrong then it warns and falls back to askpass, or fails clearly without one', async () => {
    const key = sb.keygen('k', { passphrase: PASS });
    await store('k', 'stale passphrase');
    const env = { ...sb.env, ...ss.env };
    const warnings: string[] = [];
    const report = { info() {}, debug() {}, warn: (m: string) => { warnings.push(m); } };
    await withEphemeralAgent({ keys: [key], env, passphrases: keyringPassphrases(env, readSettings(env)), askpass: askpass(PASS).program, report, baseDir: sb.dir }, async (agent) => {
      expect(await agentKeys(agent)).toContain(fp(key));
    });
    expect(warnings.join('\n')).toContain('does not decrypt it');
    const error = await withEphemeralAgent({ keys: [key], env, passphrases: keyringPassphrases(env, readSettings(env)), baseDir: sb.dir }, async () => 'ran')
      .then(() => undefined, (e: unknown) => e);
    expect((error as AgentkeepError).code).toBe('KEY_NOT_LOADED');
    expect(sb.sandboxAgents()).toEqual([]);
  });

  it('when the keyring is locked then it warns with the reason and uses askpass', async () => {
    const key = sb.keygen('k', { passphrase: PASS });
    await store('k', PASS);
    await ss.lock();
    const env = { ...sb.env, ...ss.env };
    const warnings: string[] = [];
    const report = { info() {}, debug() {}, warn: (m: string) => { warnings.push(m); } };
    await withEphemeralAgent({ keys: [key], env, passphrases: keyringPassphrases(env, readSettings(env)), askpass: askpass(PASS).program, report, baseDir: sb.dir }, async (agent) => {
      expect(await agentKeys(agent)).toContain(fp(key));
    });
    expect(warnings.join('\n')).toContain('the keyring is locked');
  });
});

describe('signals to a process running withEphemeralAgent', () => {
  let bundle: string;
  beforeAll(async () => {
    // Inside the checkout, so that shell/ and node_modules resolve as they do for dist/.
    bundle = join(ROOT, 'test', '.build', `ephemeral-child-${process.pid}.mjs`);
    await build({ entryPoints: [join(ROOT, 'test/helpers/ephemeral-child.ts')], outfile: bundle, bundle: true, format: 'esm', platform: 'node', target: 'node20',
      external: ['@napi-rs/keyring', 'ssh2', 'cpu-features'], logLevel: 'warning' });
  });
  afterAll(() => {
    rmSync(bundle, { force: true });
    try { rmdirSync(dirname(bundle)); } catch { /* another run still uses it */ }
  });

  async function startChild(forward: boolean): Promise<{ child: ReturnType<typeof spawn>; agent: EphemeralAgent & { jobPid?: number } }> {
    const key = sb.keygen('k', { passphrase: PASS });
    const child = spawn(process.execPath, [bundle, JSON.stringify({ keys: [key], askpass: askpass(PASS).program, forward })],
      { env: { ...sb.env, TMPDIR: sb.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    sb.track(child.pid!);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    expect(await waitFor(() => out.includes('\n'), 20_000), err).toBe(true);
    const agent = JSON.parse(out.split('\n')[0]!) as EphemeralAgent & { jobPid?: number };
    if (agent.jobPid) sb.track(agent.jobPid);
    return { child, agent };
  }

  function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
    return new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  }

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`when the process gets ${sig} in the body then it stops the agent, removes the directory and dies of ${sig}`, async () => {
      const { child, agent } = await startChild(false);
      expect(alive(agent.pid)).toBe(true);
      expect(existsSync(agent.dir)).toBe(true);
      child.kill(sig);
      const end = await exitOf(child);
      expect(end.signal).toBe(sig);
      expect(await waitFor(() => !alive(agent.pid))).toBe(true);
      expect(existsSync(agent.dir)).toBe(false);
      expect(sb.sandboxAgents()).toEqual([]);
    });
  }

  it('when the body forwards SIGTERM to its job (as agentrun does) then the job ends, the status is 143 and the agent is gone', async () => {
    const { child, agent } = await startChild(true);
    expect(alive(agent.jobPid!)).toBe(true);
    child.kill('SIGTERM');
    const end = await exitOf(child);
    expect(end.code).toBe(143);
    expect(alive(agent.jobPid!)).toBe(false);
    expect(await waitFor(() => !alive(agent.pid))).toBe(true);
    expect(existsSync(agent.dir)).toBe(false);
    expect(sb.sandboxAgents()).toEqual([]);
  });
});

describe('the watchdog that owns the private agent', () => {
  it('when ssh-agent -D prints its own SSH_AUTH_SOCK lines then only the PID line reaches the pipe (read first, they hung agentrun forever)', async () => {
    // As in the product: the socket alone in a private directory, which the watchdog removes last.
    const dir = join(sb.dir, 'private');
    mkdirSync(dir, { mode: 0o700 });
    const sock = join(dir, 'agent.sock');
    const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'agentkeep-watchdog', sock], { env: sb.env, stdio: ['pipe', 'pipe', 'inherit'] });
    sb.track(watchdog.pid!);
    let out = '';
    watchdog.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise((r) => watchdog.on('close', r));
    // ssh-agent answers only after it has printed its lines.
    const answers = () => spawnSync('ssh-add', ['-l'], { env: { ...sb.env, SSH_AUTH_SOCK: sock } }).status === 1;
    expect(await waitFor(answers, 10_000)).toBe(true);
    if (/^\d+\n/.test(out)) sb.track(parseInt(out, 10));
    watchdog.stdin!.end();
    await exited;
    expect(out).toMatch(/^\d+\n$/);
    expect(alive(Number(out))).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
