import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hookCommand, hookLine, shellDir } from '../../src/cli/hook-command.js';
import { SYSTEM_PATH } from '../../src/cron-path.js';
import type { Io } from '../../src/cli/run-cli.js';
import { SHELL_DIR } from '../helpers/sandbox.js';

function io(argv: string[], stderrIsTTY = false) {
  const out = { stdout: '', stderr: '' };
  const value: Io = { argv, env: {}, stdout: (t) => { out.stdout += t; }, stderr: (t) => { out.stderr += t; }, stderrIsTTY };
  return { io: value, out };
}

describe('hookLine', () => {
  it('when a path or key has spaces or quotes then each shell gets it quoted its own way', () => {
    const dir = "/opt/my tools/it's";
    expect(hookLine('sh', dir, ['-q', 'my key'])).toBe(`. '/opt/my tools/it'\\''s/agentkeep.sh' && agentkeep_login -q 'my key'`);
    expect(hookLine('csh', dir, ['-q', 'a!b'])).toBe(`set agentkeep_args = ( -q 'a\\!b' ); source '/opt/my tools/it'\\''s/agentkeep.csh'`);
    expect(hookLine('fish', dir, ['-q', "it's"])).toBe(`source '/opt/my tools/it\\'s/agentkeep.fish'; and agentkeep_login -q 'it\\'s'`);
  });

  it('when no options or keys are given then the line passes --quiet', () => {
    expect(hookLine('sh', '/p', [])).toBe('. /p/agentkeep.sh && agentkeep_login --quiet');
    expect(hookLine('csh', '/p', [])).toBe('set agentkeep_args = ( --quiet ); source /p/agentkeep.csh');
  });
});

describe('shellDir', () => {
  it('when run from a checkout then it finds the repository shell/ directory', () => {
    expect(shellDir()).toBe(SHELL_DIR);
    expect(shellDir(join(SHELL_DIR, '..', 'dist'))).toBe(SHELL_DIR);
  });

  it('when no shell/ directory is near then it throws naming where it looked', () => {
    expect(() => shellDir('/nonexistent/a/b')).toThrow(/cannot find the shell hooks.*\/nonexistent\/a\/b/);
  });
});

describe('hookCommand', () => {
  it('when asked for bash or tcsh then it prints the sh or csh line', async () => {
    const bash = io(['bash', 'id_ed25519']);
    expect(await hookCommand(bash.io.argv, bash.io)).toBe(0);
    expect(bash.out.stdout).toBe(`. ${join(SHELL_DIR, 'agentkeep.sh')} && agentkeep_login id_ed25519\n`);
    const tcsh = io(['tcsh']);
    expect(await hookCommand(tcsh.io.argv, tcsh.io)).toBe(0);
    expect(tcsh.out.stdout).toBe(`set agentkeep_args = ( --quiet ); source ${join(SHELL_DIR, 'agentkeep.csh')}\n`);
  });

  it('when asked for posh, mksh, yash or bsd-csh then it prints the sh or csh line', async () => {
    for (const [name, hook] of [['posh', 'sh'], ['mksh', 'sh'], ['yash', 'sh'], ['bsd-csh', 'csh']] as const) {
      const r = io([name, '-q']);
      expect(await hookCommand(r.io.argv, r.io)).toBe(0);
      expect(r.out.stdout).toBe(`${hookLine(hook, SHELL_DIR, ['-q'])}\n`);
    }
  });

  it('when stderr is a terminal then it also says which login file the line belongs in, on stderr only', async () => {
    const fish = io(['fish'], true);
    expect(await hookCommand(fish.io.argv, fish.io)).toBe(0);
    expect(fish.out.stderr).toContain('config.fish');
    expect(fish.out.stdout.split('\n')).toHaveLength(2);
  });

  it('when the shell is missing then it exits 64 with a hint', async () => {
    const none = io([]);
    expect(await hookCommand(none.io.argv, none.io)).toBe(64);
    expect(none.out.stderr).toContain('needs a shell');
    expect(none.out.stderr).toContain('hint: ');
    expect(none.out.stdout).toBe('');
  });

  it('when asked for help then it prints the usage and exits 0', async () => {
    const help = io(['--help']);
    expect(await hookCommand(help.io.argv, help.io)).toBe(0);
    expect(help.out.stdout).toContain('usage: agentkeep hook sh|csh|fish');
  });
});

describe('hook cron', () => {
  it('when the README and crontab.example show a PATH= line then it is the one hook cron prints for NodeSource and Debian prefixes', () => {
    const line = `PATH=${SYSTEM_PATH.join(':')}`;
    // The doctor section shows a crontab whose PATH misses a job's directory on purpose: what doctor finds.
    const readme = readFileSync(join(SHELL_DIR, '..', 'README.md'), 'utf8').replace(/^### `agentkeep doctor`$[\s\S]*?(?=^### )/m, '');
    const example = readFileSync(join(SHELL_DIR, 'crontab.example'), 'utf8');
    const shown = [...readme.matchAll(/^PATH=.*$/gm), ...example.matchAll(/^PATH=.*$/gm)].map((m) => m[0]);
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const l of shown) expect(l).toBe(line);
  });

  it('when given arguments then it is a usage error (64)', async () => {
    const r = io(['cron', 'extra']);
    expect(await hookCommand(r.io.argv, r.io)).toBe(64);
    expect(r.out.stderr).toContain('agentkeep hook cron takes no arguments');
  });
});
