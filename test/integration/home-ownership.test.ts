// HOME that is not the invoking user's (sudo keeping a user's HOME, HOME=/nonexistent in a
// service) and an env file left by another user in one's own key directory: every command
// refuses with 78, one line naming the problem and a hint with the fix, never a raw errno.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTKEEP, AGENTRUN, HOST, run, Sandbox, withNode, type RunResult } from '../helpers/sandbox.js';
import { agentkeepAs, CAN_CREATE_USERS, createUser, keygenAs, removeUser, requireUsers, runAs, type SandboxUser } from '../helpers/users.js';

requireUsers('HOME ownership tests');

let sb: Sandbox;
let bk: SandboxUser;

beforeAll(() => {
  sb = new Sandbox('ak-home-');
  if (!CAN_CREATE_USERS) return;
  bk = createUser(sb, 'home');
  keygenAs(bk, 'id_ed25519');
});
afterAll(() => {
  sb.cleanup();
  removeUser(bk);
});

/** agentkeep --eval, agentrun and doctor, each as `who` with `env`. */
function everyCommand(who: SandboxUser | 'root', env: NodeJS.ProcessEnv) {
  const runIt = ([cmd, ...args]: [string, ...string[]]) => (who === 'root'
    ? run(cmd, args, { env: withNode({ ...sb.env, ...env }) })
    : runAs(who, cmd, args, { env: withNode({ ...who.env, ...env }) }));
  return Promise.all([
    runIt([process.execPath, AGENTKEEP, '--eval', 'id_ed25519']),
    runIt([AGENTRUN, '--require', 'id_ed25519', 'true']),
    runIt([process.execPath, AGENTKEEP, 'doctor']),
  ]);
}

function expectRefused(results: RunResult[], message: RegExp, hint: RegExp): void {
  for (const r of results) {
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(hint);
    expect(r.stderr).not.toMatch(/EACCES|ENOENT|^\s+at /m);
  }
}

describe.skipIf(!CAN_CREATE_USERS)('HOME and ownership', () => {
  it('when a user runs with root\'s HOME then every command refuses with 78, naming both users, and writes nothing there', async () => {
    const results = await everyCommand(bk, { HOME: sb.home });
    expectRefused(results, new RegExp(`HOME is ${sb.home}, which belongs to root, but this runs as ${bk.name}`), /hint: set HOME to your own home directory \(sudo -H/);
  });

  it('when root runs with a user\'s HOME (sudo without -H) then every command refuses with 78 and says to run as that user', async () => {
    const results = await everyCommand('root', { HOME: bk.home });
    expectRefused(results, new RegExp(`HOME is ${bk.home}, which belongs to ${bk.name}, but this runs as root`), new RegExp(`sudo -iu ${bk.name} agentkeep`));
  });

  it('when HOME does not exist then every command refuses with 78 and says how to set it', async () => {
    const results = await everyCommand(bk, { HOME: '/nonexistent' });
    expectRefused(results, /HOME is \/nonexistent, which does not exist/, /set HOME to your own home directory|--dir/);
  });

  it('when --dir names a directory of one\'s own then a foreign HOME does not matter', async () => {
    const r = await agentkeepAs(bk, ['--eval', '--dir', bk.home, '--noask'], { env: { HOME: '/nonexistent' } });
    expect(r.code, r.stderr).toBe(0);
  });

  it('when root left an env file (even one the user cannot open) in the user\'s key directory then agentrun, agentkeep and doctor refuse with 78 and the rm that fixes it', async () => {
    const started = await agentkeepAs(bk, ['--eval', '--quiet', 'id_ed25519']);
    expect(started.code, started.stderr).toBe(0);
    sb.track(Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)![1]));
    const file = join(bk.home, '.keychain', `${HOST}-sh`);
    // What `sudo agentkeep` with the user's HOME used to leave: root's own copy, mode 0600,
    // which the user cannot even open.
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    writeFileSync(file, text, { mode: 0o600 });
    const [keep, job, doctor] = await everyCommand(bk, {});
    expectRefused([keep!, job!], new RegExp(`refusing to use ${file}: it is owned by uid 0, not by you`), new RegExp(`remove it .*rm -f '${file}'`));
    // doctor reports rather than refuses: exit 1, with agentrun's 78 and the same fix.
    expect(doctor!.code).toBe(1);
    expect(doctor!.stdout).toContain('agentrun would exit 78');
    expect(doctor!.stdout).toContain(`rm -f '${file}'`);
  });
});
