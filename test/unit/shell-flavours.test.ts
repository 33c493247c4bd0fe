import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_FLAVOURS, ENV_FORMATS, flavourForShell, SHELL_FLAVOUR_NAMES, SHELL_FLAVOURS, shellFlavourNamed } from '../../src/shells/flavours.js';
import { renderEnv } from '../../src/envfile/render.js';
import { parseEnv } from '../../src/envfile/parse.js';
import { unquoteCsh } from '../../src/shells/quote.js';
import { hookCommand, hookLine } from '../../src/cli/hook-command.js';
import type { Io } from '../../src/cli/run-cli.js';
import { SHELL_DIR } from '../helpers/sandbox.js';
import { shellsOf } from '../helpers/hook-shells.js';

const AWKWARD = [
  '/home/bk/.keychain/backup1-agent.sock',
  "/tmp/it's here/agent.sock",
  '/tmp/$(touch pwned)/`id`/a b/agent.sock',
  '/tmp/x!y;z|&<>"q/agent.sock',
  '/tmp/back\\slash/agent.sock',
  "/tmp/\\!'\\'!!\\/ü€/agent.sock",
];

/** Every name `agentkeep hook` and $SHELL accept, with the flavour it selects. */
const NAMES = SHELL_FLAVOUR_NAMES.flatMap((flavour) => [flavour, ...SHELL_FLAVOURS[flavour].shells].map((name) => [name, flavour] as const));

describe('every env file flavour', () => {
  for (const flavour of ENV_FLAVOURS) {
    it.each(AWKWARD)(`when the ${flavour} file names %j then parsing the rendered file gives it back`, (sock) => {
      expect(parseEnv(renderEnv({ sock, pid: 42 }, flavour), flavour)).toEqual({ ok: true, env: { sock, pid: 42 } });
      expect(parseEnv(renderEnv({ sock }, flavour), flavour)).toEqual({ ok: true, env: { sock } });
    });

    it(`when a ${flavour} value is plain then it is written bare`, () => {
      expect(ENV_FORMATS[flavour].quote('/home/bk/.keychain/h-agent.sock')).toBe('/home/bk/.keychain/h-agent.sock');
    });

    it(`when a file of another flavour is read as ${flavour} then it is invalid`, () => {
      for (const other of ENV_FLAVOURS.filter((f) => f !== flavour)) {
        for (const sock of AWKWARD) expect(parseEnv(renderEnv({ sock, pid: 42 }, other), flavour).ok, `${other}: ${sock}`).toBe(false);
      }
    });
  }

  it('when a csh value holds a "!" that is not escaped then it is unreadable (csh would expand it)', () => {
    expect(unquoteCsh("'a!b'")).toBeUndefined();
    expect(unquoteCsh("'a\\!b'")).toBe('a!b');
  });
});

describe('every shell flavour', () => {
  it('when a shell name is listed then it belongs to one flavour only', () => {
    const names = NAMES.map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(NAMES)('when the shell is %s then `agentkeep hook` and $SHELL both select the %s flavour', (name, flavour) => {
    expect(shellFlavourNamed(name)).toBe(flavour);
    expect(flavourForShell(`/usr/bin/${name}`)).toBe(flavour);
  });

  it.each(SHELL_FLAVOUR_NAMES)('when the flavour is %s then its hook exists in shell/ and the hook line sources that file, words quoted', (flavour) => {
    const { hookFile, quote } = SHELL_FLAVOURS[flavour];
    expect(existsSync(join(SHELL_DIR, hookFile)), hookFile).toBe(true);
    const dir = "/opt/my tools/it's!";
    const line = hookLine(flavour, dir, ['-q', "my key's!"]);
    expect(line).toContain(quote(join(dir, hookFile)));
    expect(line).toContain(`-q ${quote("my key's!")}`);
    for (const other of SHELL_FLAVOUR_NAMES.filter((f) => f !== flavour)) expect(line).not.toContain(SHELL_FLAVOURS[other].hookFile);
  });

  it.each(NAMES)('when `agentkeep hook %s` runs on a terminal then it prints the %s line and names its login file', async (name, flavour) => {
    const out = { stdout: '', stderr: '' };
    const io: Io = { argv: [name], env: {}, stdout: (t) => { out.stdout += t; }, stderr: (t) => { out.stderr += t; }, stderrIsTTY: true };
    expect(await hookCommand([name], io)).toBe(0);
    expect(out.stdout).toBe(`${hookLine(flavour, SHELL_DIR, [])}\n`);
    expect(out.stderr).toBe(`# add this line to ${SHELL_FLAVOURS[flavour].loginFiles}:\n`);
  });

  it.each(SHELL_FLAVOUR_NAMES)('when the flavour is %s then the integration tests run at least one real shell of it', (flavour) => {
    expect(shellsOf(flavour).length).toBeGreaterThan(0);
  });
});

describe('flavourForShell', () => {
  it.each([
    ['/bin/bash', 'sh'], ['/usr/bin/zsh', 'sh'], ['/bin/dash', 'sh'], [undefined, 'sh'], ['', 'sh'], ['/bin/busybox', 'sh'],
    ['/bin/tcsh', 'csh'], ['/bin/csh', 'csh'], ['/usr/bin/bsd-csh', 'csh'], ['/usr/bin/fish', 'fish'],
  ] as const)('when SHELL is %j then the flavour is %s', (shell, flavour) => {
    expect(flavourForShell(shell)).toBe(flavour);
  });
});
