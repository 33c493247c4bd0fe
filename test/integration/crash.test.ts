import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { AGENTKEEP, Sandbox, waitFor, alive } from '../helpers/sandbox.js';
import { parseShEnv } from '../../src/envfile/parse.js';

let sb: Sandbox;
afterEach(() => sb.cleanup());

const SHAPES = {
  csh: /^setenv SSH_AUTH_SOCK \S+;\n(setenv SSH_AGENT_PID \d+;\n)?$/,
  fish: /^set -e SSH_AUTH_SOCK; set -gx SSH_AUTH_SOCK \S+;\n(set -e SSH_AGENT_PID; set -gx SSH_AGENT_PID \d+;\n)?$/,
  envfile: /^SSH_AUTH_SOCK=\S+\n(SSH_AGENT_PID=\d+\n)?$/,
} as const;

describe('crash safety of the env files', () => {
  it('when agentkeep is SIGKILLed at random instants while (re)writing then no env file is ever truncated or half-written', async () => {
    sb = new Sandbox();
    // Aim the kills around the moment of writing: a full run's duration on this machine, now.
    const measure = async (): Promise<number> => {
      const probe = await sb.agentkeep(['--quiet', '--nolock']);
      expect(probe.code, probe.stderr).toBe(0);
      return probe.ms;
    };
    let full = await measure();
    let rewrites = 0;
    let sinceRewrite = 0;
    // At least 40 kills, and on until some landed mid-write (a loaded machine shifts the instants:
    // after 10 kills that wrote nothing, measure again), for at most 100 s.
    const deadline = Date.now() + 100_000;
    for (let i = 0; i < 400 && (i < 40 || rewrites <= 3) && Date.now() < deadline; i++) {
      if (sinceRewrite >= 10) { full = await measure(); sinceRewrite = 0; }
      const before = existsSync(sb.file('sh')) ? readFileSync(sb.file('sh'), 'utf8') : '';
      // Kill the agent so that every run rewrites all four files. --nolock: a killed lock holder
      // would make the next runs wait out the stale lock, and this test is about the files.
      const pid = existsSync(sb.file('sh')) ? (parseShEnv(readFileSync(sb.file('sh'), 'utf8')) as { ok: true; env: { pid?: number } }).env.pid : undefined;
      // The agent may be gone already (killed last round and reaped): ESRCH is fine.
      if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } await waitFor(() => !alive(pid), 2000); }
      const child = spawn(process.execPath, [AGENTKEEP, '--quiet', '--nolock'], { env: sb.env, stdio: 'ignore' });
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, full * (0.5 + Math.random() * 0.6)));
      child.kill('SIGKILL');
      await closed;
      for (const agentPid of sb.sandboxAgents()) sb.track(agentPid);

      if (!existsSync(sb.file('sh'))) continue;
      const sh = readFileSync(sb.file('sh'), 'utf8');
      expect(parseShEnv(sh).ok, `iteration ${i}: ${JSON.stringify(sh)}`).toBe(true);
      for (const [flavour, shape] of Object.entries(SHAPES)) {
        const path = sb.file(flavour as keyof typeof SHAPES);
        if (existsSync(path)) expect(readFileSync(path, 'utf8'), `iteration ${i} ${flavour}`).toMatch(shape);
      }
      if (sh !== before) { rewrites++; sinceRewrite = 0; } else sinceRewrite++;
    }
    // Some killed runs must have got as far as writing, or the test proved nothing.
    expect(rewrites).toBeGreaterThan(3);
    // The next clean run repairs everything and removes temporary files left by killed writers.
    const r = await sb.agentkeep(['--eval']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(sb.keydir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 180_000);
});
