// Every env file and every printed hook line in every shell the README names, with a key
// directory (--dir, so the hook line carries the path as an argument) whose path holds spaces,
// both quotes, !, $, backticks and non-ASCII UTF-8. HOME stays plain: BSD csh itself
// evaluates backticks in $HOME at startup (and crashes), before any line of ours runs.
// The shells run in a UTF-8 locale (C.UTF-8): under LANG=C, yash refuses any non-ASCII input.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quoteCsh, quoteFish, quoteSh, unquoteSh } from '../../src/shells/quote.js';
import { HOST, parseShEval, Sandbox } from '../helpers/sandbox.js';
import { familyOf, recordingBin, runShellFile, SHELL_VARIABLE, SHELLS, type HookShell } from '../helpers/hook-shells.js';

let sb: Sandbox;
afterEach(() => sb.cleanup());

const HOSTILE_NAME = 'h o\'m"e!$HOME`touch CANARY`$(touch CANARY)ü€';

/** The script that sources the env file, then runs the printed hook line, printing the socket each time. */
function script(shell: HookShell, keydir: string, hookLine: string): string {
  const file = (flavour: string) => join(keydir, `${HOST}-${flavour}`);
  switch (familyOf(shell)) {
    case 'sh':
      return ['set -eu', `. ${quoteSh(file('sh'))}`, "printf 'env='; printenv SSH_AUTH_SOCK", 'unset SSH_AUTH_SOCK SSH_AGENT_PID',
        hookLine, "printf 'hook='; printenv SSH_AUTH_SOCK"].join('\n');
    case 'csh':
      return [`source ${quoteCsh(file('csh'))}`, "printf 'env='; printenv SSH_AUTH_SOCK", 'unsetenv SSH_AUTH_SOCK', 'unsetenv SSH_AGENT_PID',
        hookLine, "printf 'hook='; printenv SSH_AUTH_SOCK"].join('\n');
    case 'fish':
      return [`source ${quoteFish(file('fish'))}`, "printf 'env='; printenv SSH_AUTH_SOCK", 'set -e SSH_AUTH_SOCK; set -e SSH_AGENT_PID',
        hookLine, "printf 'hook='; printenv SSH_AUTH_SOCK"].join('\n');
  }
}

describe('env files and hook lines under a hostile key directory path', () => {
  for (const shell of Object.keys(SHELLS) as HookShell[]) {
    it(`when ${shell} sources the env file and runs the printed hook line then both give the exact socket, silently, running nothing`, async () => {
      sb = new Sandbox('ak-matrix-');
      // "/." in the path: keychain's rule, the directory is used as it is.
      const keydir = join(sb.dir, HOSTILE_NAME, '.k');
      mkdirSync(join(sb.dir, HOSTILE_NAME), { mode: 0o700 });
      const env = { LC_ALL: 'C.UTF-8' };
      const started = await sb.agentkeep(['--eval', '--quiet', '--dir', keydir], { env });
      expect(started.code, started.stderr).toBe(0);
      const sock = unquoteSh(parseShEval(started.stdout).SSH_AUTH_SOCK!)!;
      expect(sock).toBe(join(keydir, `${HOST}-agent.sock`));

      const printed = await sb.agentkeep(['hook', familyOf(shell), '--quiet', '--dir', keydir], { env });
      expect(printed.code, printed.stderr).toBe(0);
      const file = join(sb.dir, 'login');
      writeFileSync(file, `${script(shell, keydir, printed.stdout.trim())}\n`);
      const recorder = recordingBin(sb);
      const SHELL = SHELL_VARIABLE[familyOf(shell)];
      const r = await runShellFile(shell, file, { env: { ...sb.env, ...env, SHELL, AGENTKEEP_BIN: recorder.bin }, cwd: sb.dir, timeoutMs: 20_000 });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`env=${sock}\nhook=${sock}\n`);
      expect(existsSync(join(sb.dir, 'CANARY'))).toBe(false);
      expect(sb.sandboxAgents()).toHaveLength(1);
    });
  }
});
