// The two process backends answer alike: the same facts for the same process, names with
// spaces kept whole, a command line's `-a VALUE` found from argv and from ps's joined text.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { procBackend } from '../../src/proc/backend.js';
import { procfsBackend } from '../../src/proc/procfs.js';
import { parseFacts, psBackend } from '../../src/proc/ps.js';
import { AgentkeepError } from '../../src/errors.js';
import { argumentOf } from '../../src/proc/query.js';

let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  child = dir = undefined;
});

/** A sleeping process whose name (its program file's) holds a space. */
async function oddChild(): Promise<number> {
  dir = mkdtempSync(join(tmpdir(), 'ak-proc-'));
  const program = join(dir, 'odd name');
  copyFileSync('/bin/sleep', program);
  child = spawn(program, ['60'], { stdio: 'ignore' });
  await new Promise((resolve) => child!.once('spawn', resolve));
  return child.pid!;
}

describe('the /proc and ps backends', () => {
  it('when both describe this process then they agree on every fact but the moment\'s state', () => {
    const viaProc = procfsBackend.info(process.pid);
    const viaPs = psBackend.info(process.pid);
    expect(viaProc).toBeDefined();
    expect({ ...viaPs, state: '' }).toEqual({ ...viaProc, state: '' });
    expect(psBackend.list().some((p) => p.pid === process.pid && p.pgid === viaProc!.pgid)).toBe(true);
  });

  it('when a name holds a space then both keep it whole', async () => {
    const pid = await oddChild();
    expect(procfsBackend.info(pid)?.name).toBe('odd name');
    expect(psBackend.info(pid)?.name).toBe('odd name');
  });

  // ps joins the words with spaces, so a value that ends where the real one has a space is
  // indistinguishable from it there (the sh hook refuses socket paths with spaces for that reason).
  it.each([
    ['proc', ['match', 'other', 'other', 'other']],
    ['ps', ['match', 'other', 'match', 'match']],
  ])('when a process was started with -a and a value holding spaces then the %s backend finds that value', async (backend, expected) => {
    child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', '--', '-a', '/tmp/a b', '-x'], { stdio: 'ignore' });
    await new Promise((resolve) => child!.once('spawn', resolve));
    const saved = process.env.AGENTKEEP_PROC_BACKEND;
    process.env.AGENTKEEP_PROC_BACKEND = backend;
    try {
      expect(['/tmp/a b', '/tmp/c', '/tmp/a', '/tmp/a b -x'].map((v) => argumentOf(child!.pid!, '-a', v))).toEqual(expected);
      expect(argumentOf(child!.pid!, '-t', '1')).toBe('absent');
    } finally {
      if (saved === undefined) delete process.env.AGENTKEEP_PROC_BACKEND;
      else process.env.AGENTKEEP_PROC_BACKEND = saved;
    }
  });

  it('when ps prints a line then its name is the rest of the line, and a line of something else is no process', () => {
    expect(parseFacts('  4242     1  4242  1000 Ss   odd name  ')).toEqual({ pid: 4242, ppid: 1, pgid: 4242, uid: 1000, state: 'S', name: 'odd name' });
    expect(parseFacts('ps: garbage')).toBeUndefined();
  });

  it('when the variable names neither backend then it is a usage error that names both', () => {
    expect(() => procBackend({ AGENTKEEP_PROC_BACKEND: 'PS' })).toThrow(AgentkeepError);
    expect(() => procBackend({ AGENTKEEP_PROC_BACKEND: 'PS' })).toThrow('AGENTKEEP_PROC_BACKEND must be "proc" or "ps", got "PS"');
    expect(procBackend({ AGENTKEEP_PROC_BACKEND: 'ps' }).name).toBe('ps');
    expect(procBackend({}).name).toBe('proc');
  });
});
