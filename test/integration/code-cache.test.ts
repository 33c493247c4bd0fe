// The V8 code cache behind both bins: made per user on the first run, in a directory of the
// user's own, used only for the exact bundle it was made from (an edit of the same length runs
// the edited code), and never made where it must not be.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTKEEP, ROOT, run, Sandbox } from '../helpers/sandbox.js';
import { agentkeepAs, CAN_CREATE_USERS, createUser, removeUser, requireUsers, type SandboxUser } from '../helpers/users.js';

let sb: Sandbox;
let user: SandboxUser | undefined;
afterEach(() => {
  removeUser(user);
  user = undefined;
  sb.cleanup();
});

const cacheDir = (home: string) => join(home, '.cache', 'agentkeep');
const version = (env: NodeJS.ProcessEnv, bin = AGENTKEEP) => run(process.execPath, [bin, '--version'], { env });
// A run that does real work (looks for an agent, starts nothing): the kind that makes the cache.
const query = (env: NodeJS.ProcessEnv, bin = AGENTKEEP) => run(process.execPath, [bin, '--query'], { env });

describe('the code cache', () => {
  it('when agentkeep first does real work then it makes a 0600 cache in a 0700 ~/.cache/agentkeep, remade by the first three such runs and then used unchanged', async () => {
    sb = new Sandbox('ak-cache-');
    expect((await query(sb.env)).code).toBe(1);
    const files = readdirSync(cacheDir(sb.home));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^agentkeep-${process.version}-${process.arch}-[0-9a-f]{8}\\.v8cache$`));
    const file = join(cacheDir(sb.home), files[0]!);
    expect(statSync(cacheDir(sb.home)).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The first three runs that do real work each make it again, holding what they ran; then it stays.
    for (let run = 2; run <= 3; run++) expect((await query(sb.env)).code).toBe(1);
    expect(readFileSync(file).toString('latin1')).toContain(`${process.version} ${process.arch}`);
    const made = statSync(file).mtimeMs;
    expect((await query(sb.env)).code).toBe(1);
    expect((await version(sb.env)).stdout).toBe(`${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    expect(statSync(file).mtimeMs).toBe(made);
  });

  it('when the first runs only print help or the version then they make no cache: the first login does (a cache holds only what its run compiled)', async () => {
    sb = new Sandbox('ak-cache-');
    for (const args of [['--version'], ['--eval', '--help'], ['-V'], ['hook', 'sh']]) {
      expect((await run(process.execPath, [AGENTKEEP, ...args], { env: sb.env })).code, args.join(' ')).toBe(0);
    }
    expect(existsSync(cacheDir(sb.home))).toBe(false);
    expect((await query(sb.env)).code).toBe(1);
    expect(readdirSync(cacheDir(sb.home))).toHaveLength(1);
  });

  it('when the bundle is edited to the same length then the edited code runs, not the cached one', async () => {
    sb = new Sandbox('ak-cache-');
    const dist = join(sb.dir, 'dist');
    cpSync(join(ROOT, 'dist'), dist, { recursive: true });
    const bin = join(dist, 'agentkeep.cjs');
    const bundle = join(dist, 'agentkeep.bundle.cjs');
    const before = await version(sb.env, bin);
    await query(sb.env, bin);
    expect(readdirSync(cacheDir(sb.home))).toHaveLength(1);
    const text = readFileSync(bundle, 'utf8');
    const edited = text.replace(`"${before.stdout.trim()}"`, '"9.9.9"');
    expect(edited.length).toBe(text.length);
    expect(edited).not.toBe(text);
    writeFileSync(bundle, edited);
    expect((await version(sb.env, bin)).stdout).toBe('9.9.9\n');
    expect((await version(sb.env, bin)).stdout).toBe('9.9.9\n');
  });

  it('when the cache was made by another Node or flags, or tampered with, then it is not used and is made again', async () => {
    sb = new Sandbox('ak-cache-');
    await query(sb.env);
    const file = join(cacheDir(sb.home), readdirSync(cacheDir(sb.home))[0]!);
    const data = readFileSync(file);
    writeFileSync(file, Buffer.from(data.toString('latin1').replace(process.version, 'v0.0.0'), 'latin1'), { mode: 0o600 });
    expect((await query(sb.env)).code).toBe(1);
    const again = readFileSync(file).toString('latin1');
    expect(again).toContain(`${process.version} ${process.arch}`);
    expect(again).not.toContain('v0.0.0');
  });

  it('when AGENTKEEP_NO_CODE_CACHE=1 then nothing is written', async () => {
    sb = new Sandbox('ak-cache-');
    expect((await query({ ...sb.env, AGENTKEEP_NO_CODE_CACHE: '1' })).code).toBe(1);
    expect(existsSync(join(sb.home, '.cache'))).toBe(false);
  });

  describe('another user\'s home', () => {
    requireUsers('the code cache and another user\'s HOME');
    it.skipIf(!CAN_CREATE_USERS)('when HOME is another user\'s, even one the user may write, then no cache is made there, and agentkeep refuses that HOME as before', async () => {
      sb = new Sandbox('ak-cache-');
      user = createUser(sb, 'cache');
      // root's directory, writable by anyone: only the ownership rule keeps the cache out of it.
      const othersHome = join(sb.dir, 'others-home');
      mkdirSync(othersHome);
      chmodSync(othersHome, 0o777);
      const r = await agentkeepAs(user, ['--eval'], { env: { HOME: othersHome } });
      expect(r.code).toBe(78);
      expect(existsSync(join(othersHome, '.cache'))).toBe(false);
    });
  });
});
