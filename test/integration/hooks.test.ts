import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { alive, backendEnv, HOST, parseShEval, PROC_BACKENDS, run, Sandbox, SHELL_DIR, waitFor } from '../helpers/sandbox.js';
import { quoteCsh } from '../../src/shells/quote.js';
import { familyOf, recordingBin, runInShell, runShellFile, SH_SHELLS, SHELLS, shellsOf, type HookShell, type ShellOutcome } from '../helpers/hook-shells.js';
import { makeAskpass } from '../helpers/askpass.js';

let sb: Sandbox;
afterEach(() => sb.cleanup());

const SH_FAMILY = SH_SHELLS;

/** A sandbox whose agent agentkeep started, with unencrypted keys k1 and k2, k1 loaded. */
async function withAgent(): Promise<{ sock: string; pid: string }> {
  sb = new Sandbox('ak-hooks-');
  const started = await sb.agentkeep(['--eval', '--quiet']);
  expect(started.code, started.stderr).toBe(0);
  const env = parseShEval(started.stdout);
  const sock = env.SSH_AUTH_SOCK!;
  for (const name of ['k1', 'k2']) sb.keygen(name);
  const added = spawnSync('ssh-add', [join(sb.home, '.ssh', 'k1')], { env: { ...sb.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
  expect(added.status, added.stderr).toBe(0);
  return { sock, pid: env.SSH_AGENT_PID! };
}

/** Processes (other than zombies) in process group `pgid`, read from /proc by the test itself. */
function groupLeft(pgid: number): string[] {
  const left: string[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) === pgid && state !== 'Z') left.push(`${name} ${stat.slice(stat.indexOf('('), stat.lastIndexOf(')') + 1)}`);
    } catch { /* exited meanwhile */ }
  }
  return left;
}

/** Runs agentkeep_login in `shell` as the leader of a new process group; what it printed, and what of that group still runs after it exited. */
async function hookInOwnGroup(shell: HookShell, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; ms: number; left: string[] }> {
  const [cmd, ...pre] = SHELLS[shell];
  const script = `. '${join(SHELL_DIR, 'agentkeep.sh')}'\nagentkeep_login ${args.join(' ')}\necho "status=$? sock=\${SSH_AUTH_SOCK-}"`;
  const started = Date.now();
  const child = spawn(cmd, [...pre, '-c', script], { env: { ...sb.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const left = groupLeft(child.pid!);
  for (const entry of left) sb.track(Number(entry.split(' ')[0])); // cleanup kills what a failure left
  return { stdout, stderr, ms: Date.now() - started, left };
}

function sshAddList(sock: string) {
  return spawnSync('ssh-add', ['-l'], { env: { ...sb.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
}

/** Runs the hook through the recorder, then the reference eval; both must leave the same variables. */
async function hookVersusEval(shell: HookShell, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ hook: ShellOutcome; ref: ShellOutcome; calls: number }> {
  const recorder = recordingBin(sb);
  const hook = await runInShell(sb, shell, 'hook', args, { AGENTKEEP_BIN: recorder.bin, ...env });
  const calls = recorder.calls();
  const ref = await runInShell(sb, shell, 'eval', args, env);
  expect(hook.code, hook.stderr).toBe(0);
  expect(ref.code, ref.stderr).toBe(0);
  expect({ sock: hook.sock, pid: hook.pid }, `${shell}: ${hook.stderr}`).toEqual({ sock: ref.sock, pid: ref.pid });
  // Nothing but the agent's variables may appear in the user's shell (ksh93 itself sets
  // _AST_FEATURES the first time it runs an external command).
  expect(hook.newNames.filter((n) => !['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'status', '_', '_AST_FEATURES'].includes(n)), shell).toEqual([]);
  return { hook, ref, calls };
}

describe.each(PROC_BACKENDS)('the sh hook fast path (no Node; %s backend)', (backend) => {
  for (const shell of SH_FAMILY) {
    it(`when ${shell} sources the hook and the agent holds the key then it exports the agent without starting agentkeep`, async () => {
      const agent = await withAgent();
      const { hook, calls } = await hookVersusEval(shell, ['-q', 'k1'], backendEnv(backend));
      expect(hook.status).toBe('0');
      expect(hook.sock).toBe(agent.sock);
      expect(hook.pid).toBe(agent.pid);
      expect(calls).toBe(0);
      // Silent: posh's test has no -O, and a hook that used it printed an error on every login.
      expect(hook.stderr).toBe('');
    });
  }

  it('when the PID line names another ssh-agent of ours than the one at the socket then the hook does not export it', async () => {
    const agent = await withAgent();
    const other = sb.startAgent(join(sb.dir, 'other.sock'));
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${agent.sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${other.pid}; export SSH_AGENT_PID;\n`, { mode: 0o600 });
    const { hook, calls } = await hookVersusEval('dash', ['-q', 'k1'], backendEnv(backend));
    expect(calls).toBe(1);
    expect(hook.sock).toBe(agent.sock);
    expect(hook.pid).toBe(agent.pid);
  });

  it('when the PID line names a process of ours that is not an ssh-agent then the hook leaves it to agentkeep', async () => {
    const agent = await withAgent();
    // A process whose command line looks like the agent's: only its name and its uid tell.
    const decoy = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', 'ssh-agent', '-a', agent.sock], { stdio: 'ignore' });
    sb.track(decoy.pid!);
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${agent.sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${decoy.pid}; export SSH_AGENT_PID;\n`, { mode: 0o600 });
    const { hook, calls } = await hookVersusEval('dash', ['-q', 'k1'], backendEnv(backend));
    expect(calls).toBe(1);
    expect(hook.pid).toBe(agent.pid);
  });

  it('when the fast path ends then no ssh-add, watchdog or sleep of it is left running, in any POSIX shell', async () => {
    await withAgent();
    for (const shell of SH_FAMILY) {
      const r = await hookInOwnGroup(shell, ['-q', 'k1'], backendEnv(backend));
      expect(r.stdout, `${shell}: ${r.stderr}`).toBe(`status=0 sock=${join(sb.keydir, `${HOST}-agent.sock`)}\n`);
      expect(r.left, shell).toEqual([]);
    }
  });
});

describe('the sh hook fast path (no Node)', () => {
  it('when no key is named and the agent answers with no identities then the fast path still exports it', async () => {
    const agent = await withAgent();
    expect(spawnSync('ssh-add', ['-D'], { env: { ...sb.env, SSH_AUTH_SOCK: agent.sock } }).status).toBe(0);
    const { hook, calls } = await hookVersusEval('dash', ['--quiet', '--nocolor']);
    expect(hook.status).toBe('0');
    expect(hook.sock).toBe(agent.sock);
    expect(calls).toBe(0);
  });

  it('when a key path with ~/ is loaded then the fast path finds it by its public blob', async () => {
    await withAgent();
    const { hook, calls } = await hookVersusEval('bash', ['-Q', '~/.ssh/k1']);
    expect(hook.status).toBe('0');
    expect(calls).toBe(0);
  });
});

describe('the sh hook fast path\'s bound on the agent\'s answer', () => {
  it('when the agent is stopped and never answers then the fast path gives up after 2 s without timeout(1) and leaves nothing running', async () => {
    const agent = await withAgent();
    process.kill(Number(agent.pid), 'SIGSTOP');
    try {
      // Every shell: background jobs, traps and wait differ. AGENTKEEP_BIN=false: only the fast path's own bound is measured.
      for (const shell of SH_FAMILY) {
        const r = await hookInOwnGroup(shell, ['-q', 'k1'], { AGENTKEEP_BIN: 'false' });
        expect(r.stdout, `${shell}: ${r.stderr}`).toBe('status=1 sock=\n');
        expect(r.ms, shell).toBeGreaterThanOrEqual(1900);
        expect(r.ms, shell).toBeLessThan(8000);
        expect(r.left, shell).toEqual([]);
      }
    } finally {
      process.kill(Number(agent.pid), 'SIGCONT');
    }
  }, 120_000);
});

describe('the sh hook under a strict shell', () => {
  for (const shell of SH_FAMILY) {
    it(`when ${shell} runs with set -eu then neither path aborts the shell or trips on an unset variable`, async () => {
      const agent = await withAgent();
      const recorder = recordingBin(sb);
      const script = `set -eu; . '${join(SHELL_DIR, 'agentkeep.sh')}'
agentkeep_login -q k1; echo "fast=$SSH_AUTH_SOCK"
if agentkeep_login -q --bogus 2>/dev/null; then echo slow=ok; else echo "slow=$?"; fi
echo alive`;
      const [cmd, ...pre] = SHELLS[shell];
      const r = await run(cmd, [...pre, '-c', script], { env: { ...sb.env, AGENTKEEP_BIN: recorder.bin } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`fast=${agent.sock}\nslow=64\nalive\n`);
      expect(recorder.calls()).toBe(1);
    });
  }
});

describe('the sh hook slow path (agentkeep --eval)', () => {
  for (const shell of SH_FAMILY) {
    it(`when ${shell} sources the hook with no agent yet then agentkeep starts one and both ways export it`, async () => {
      sb = new Sandbox('ak-hooks-');
      const { hook, calls } = await hookVersusEval(shell, ['-q']);
      expect(hook.status).toBe('0');
      expect(calls).toBe(1);
      expect(hook.sock).toBe(join(sb.keydir, `${HOST}-agent.sock`));
      expect(sb.sandboxAgents()).toEqual([Number(hook.pid)]);
    });
  }

  it('when the env file is writable by the group then the hook leaves it to agentkeep, which refuses like eval does', async () => {
    await withAgent();
    chmodSync(sb.file('sh'), 0o620);
    const { hook, calls } = await hookVersusEval('dash', ['-q', 'k1']);
    expect(calls).toBe(1);
    expect(hook.status).toBe('78');
    expect(hook.sock).toBe('<unset>');
    expect(hook.stderr).toContain('lets group or others write');
  });

  it('when the key directory is writable by others then the hook takes the slow path, which refuses like eval does', async () => {
    await withAgent();
    chmodSync(sb.keydir, 0o702);
    const { hook, calls } = await hookVersusEval('dash', ['-q', 'k1']);
    expect(calls).toBe(1);
    expect(hook.status).toBe('78');
    expect(hook.sock).toBe('<unset>');
    expect(hook.stderr).toContain(`chmod 700 '${sb.keydir}'`);
  });

  it('when the env file is a symlink then the hook takes the slow path and ends like eval', async () => {
    await withAgent();
    const real = join(sb.dir, 'elsewhere-sh');
    renameSync(sb.file('sh'), real);
    symlinkSync(real, sb.file('sh'));
    const { hook, calls } = await hookVersusEval('bash', ['-q', 'k1']);
    expect(calls).toBe(1);
    expect(hook.status).toBe('78');
    expect(hook.sock).toBe('<unset>');
  });

  it('when the env file has no PID line then agentkeep supplies the PID, as eval would', async () => {
    const agent = await withAgent();
    writeFileSync(sb.file('sh'), readFileSync(sb.file('sh'), 'utf8').split('\n')[0] + '\n', { mode: 0o600 });
    const { hook, calls } = await hookVersusEval('zsh', ['-q']);
    expect(calls).toBe(1);
    expect(hook.status).toBe('0');
    expect(hook.pid).toBe(agent.pid);
  });

  it('when the env file holds a quoted value then the shell never unquotes it and agentkeep decides', async () => {
    const agent = await withAgent();
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK='${agent.sock}'; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${agent.pid}; export SSH_AGENT_PID;\n`, { mode: 0o600 });
    const { hook, calls } = await hookVersusEval('dash', ['-q']);
    expect(calls).toBe(1);
    expect(hook.status).toBe('0');
    expect(hook.sock).toBe(agent.sock);
  });

  for (const shell of SH_FAMILY) {
    it(`when the agent was killed then ${shell}'s hook fails a fast-path check half way, quietly takes the slow path, and agentkeep starts a new one`, async () => {
      const agent = await withAgent();
      process.kill(Number(agent.pid), 'SIGKILL');
      // Until it has exited, the dying agent's socket still accepts connections that nobody answers.
      expect(await waitFor(() => !alive(Number(agent.pid)))).toBe(true);
      const { hook, calls } = await hookVersusEval(shell, ['-q']);
      expect(calls).toBe(1);
      expect(hook.status).toBe('0');
      expect(hook.stderr, shell).toBe('');
      expect(hook.pid).not.toBe(agent.pid);
    });
  }

  it('when a requested key is not loaded then the hook calls agentkeep', async () => {
    await withAgent();
    const { calls } = await hookVersusEval('dash', ['-q', 'k1', 'k2']);
    expect(calls).toBe(1);
  });

  it('when --clear is given where a passphrase can be asked for then the hook calls agentkeep, which empties the agent', async () => {
    const agent = await withAgent();
    const recorder = recordingBin(sb);
    // --clear clears only where a prompt is possible: here through an askpass program.
    const hook = await runInShell(sb, 'dash', 'hook', ['-q', '--clear'], { AGENTKEEP_BIN: recorder.bin, SSH_ASKPASS: makeAskpass(sb, 'unused').program });
    expect(hook.code, hook.stderr).toBe(0);
    expect(recorder.calls()).toBe(1);
    expect(hook.status).toBe('0');
    expect(hook.sock).toBe(agent.sock);
    expect(hook.pid).toBe(agent.pid);
    expect(sshAddList(agent.sock).status).toBe(1); // "The agent has no identities."
    expect(hook.newNames.filter((n) => !['SSH_AUTH_SOCK', 'SSH_AGENT_PID'].includes(n))).toEqual([]);
  });

  it('when an unknown option is given then the hook returns agentkeep\'s usage status and sets nothing', async () => {
    await withAgent();
    const { hook, calls } = await hookVersusEval('dash', ['--bogus']);
    expect(calls).toBe(1);
    expect(hook.status).toBe('64');
    expect(hook.sock).toBe('<unset>');
  });
});

describe('the csh and fish hooks', () => {
  for (const shell of (Object.keys(SHELLS) as HookShell[]).filter((s) => familyOf(s) !== 'sh')) {
    it(`when ${shell} sources its hook with no agent yet then it ends exactly like eval`, async () => {
      sb = new Sandbox('ak-hooks-');
      const { hook, calls } = await hookVersusEval(shell, ['-q']);
      expect(hook.status).toBe('0');
      expect(calls).toBe(1);
      expect(sb.sandboxAgents()).toEqual([Number(hook.pid)]);
    });

    it(`when ${shell} sources its hook and the key is loaded then it ends exactly like eval`, async () => {
      const agent = await withAgent();
      const { hook } = await hookVersusEval(shell, ['-q', 'k1']);
      expect(hook.status).toBe('0');
      expect(hook.sock).toBe(agent.sock);
      expect(hook.pid).toBe(agent.pid);
    });

    it(`when ${shell} passes an unsafe env file then it fails like eval and sets nothing`, async () => {
      await withAgent();
      chmodSync(sb.file('sh'), 0o666);
      const { hook } = await hookVersusEval(shell, ['-q']);
      expect(hook.status).not.toBe('0');
      expect(hook.sock).toBe('<unset>');
    });
  }
});

describe('agentkeep hook', () => {
  it('when the printed sh line is run in dash then the agent is reached through the hook', async () => {
    sb = new Sandbox('ak-hooks-');
    const printed = await sb.agentkeep(['hook', 'sh', '-q']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(`. ${join(SHELL_DIR, 'agentkeep.sh')} && agentkeep_login -q\n`);
    const env = { ...sb.env, PATH: `${join(sb.dir, 'bin')}:${sb.env.PATH}` };
    // `agentkeep` on PATH, as after npm install -g.
    const bin = recordingBin(sb);
    spawnSync('mkdir', ['-p', join(sb.dir, 'bin')]);
    spawnSync('ln', ['-s', bin.bin, join(sb.dir, 'bin', 'agentkeep')]);
    const r = await run('dash', ['-c', `${printed.stdout.trim()} && ssh-add -l; echo "sock=$SSH_AUTH_SOCK"`], { env });
    expect(r.stdout, r.stderr).toContain(`sock=${sb.keydir}/`);
    expect(bin.calls()).toBe(1);
  });

  it('when the printed csh and fish lines are run then they export the agent', async () => {
    sb = new Sandbox('ak-hooks-');
    const bin = recordingBin(sb);
    for (const shell of ['tcsh', 'fish'] as const) {
      const printed = await sb.agentkeep(['hook', familyOf(shell), '-q']);
      expect(printed.code, printed.stderr).toBe(0);
      const r = await run(shell, ['-c', `${printed.stdout.trim()}; echo "sock=$SSH_AUTH_SOCK"`], { env: { ...sb.env, AGENTKEEP_BIN: bin.bin } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, shell).toContain(`sock=${sb.keydir}/`);
    }
  });

  it('when the shell is unknown then it exits 64 naming the choices', async () => {
    sb = new Sandbox('ak-hooks-');
    const r = await sb.agentkeep(['hook', 'powershell']);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('sh, csh, fish');
  });
});

describe('the hook files pass their shells\' checks', () => {
  it.each([join(SHELL_DIR, 'agentkeep.sh'), join(SHELL_DIR, '../src/cli/agentrun.sh')])('when shellcheck reads %s then it finds nothing', async (file) => {
    const r = await run('shellcheck', [file], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(r.code, r.stdout).toBe(0);
  });

  it('when tcsh and fish parse their hooks without running them then the syntax is valid', async () => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' };
    const csh = await run('tcsh', ['-f', '-n', join(SHELL_DIR, 'agentkeep.csh')], { env });
    expect(csh.code, csh.stderr).toBe(0);
    const fish = await run('fish', ['--no-config', '--no-execute', join(SHELL_DIR, 'agentkeep.fish')], { env });
    expect(fish.code, fish.stderr).toBe(0);
  });
});

describe('the sh hook and the Node reader agree on the env file', () => {
  it('when the env file names a second socket after a blank line then the hook does not take the first while agentkeep takes the last', async () => {
    const agent = await withAgent();
    const other = sb.startAgent(join(sb.dir, 'other.sock'));
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${agent.sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${agent.pid}; export SSH_AGENT_PID;\n\nSSH_AUTH_SOCK=${other.sock}; export SSH_AUTH_SOCK;\n`, { mode: 0o600 });
    const { hook, ref, calls } = await hookVersusEval('dash', ['-q']);
    expect(calls).toBe(1);
    expect(hook.sock).toBe(ref.sock);
    expect(hook.sock).toBe(agent.sock);
  });

  it('when the env file is 1 GB then dash finishes within a bound and agentkeep repairs the file', async () => {
    const agent = await withAgent();
    writeFileSync(sb.file('sh'), `SSH_AUTH_SOCK=${agent.sock}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${agent.pid}; export SSH_AGENT_PID;\nx`, { mode: 0o600 });
    expect(spawnSync('truncate', ['-s', '1G', sb.file('sh')]).status).toBe(0); // sparse: no memory or disk
    const recorder = recordingBin(sb);
    const hook = await runInShell(sb, 'dash', 'hook', ['-q'], { AGENTKEEP_BIN: recorder.bin });
    expect(hook.code, hook.stderr).toBe(0); // runInShell kills the shell after 20 s
    expect(recorder.calls()).toBe(1);
    expect(hook.sock).toBe(agent.sock);
    expect(statSync(sb.file('sh')).size).toBeLessThan(4096);
  });
});

describe('the sh hook ignores the user\'s shell functions', () => {
  for (const [shell, backend] of [['dash', 'proc'], ['bash', 'proc'], ['posh', 'proc'], ['dash', 'ps'], ['bash', 'ps'], ['posh', 'ps']] as const) {
    it(`when ${shell} has functions named find, uname, id, ps, tr, sleep, kill, printf, env (and ssh-add) then the hook (${backend} backend) never calls them`, async () => {
      const agent = await withAgent();
      const recorder = recordingBin(sb);
      const canary = join(sb.dir, 'called');
      const fns = ['find', 'uname', 'id', 'ps', 'tr', 'sleep', 'kill', 'ssh-add', 'printf', 'env']
        .filter((f) => shell === 'bash' || f !== 'ssh-add') // only bash allows "-" in a function name
        .map((f) => `${f}() { echo ${f} >> '${canary}'; return 1; }`).join('\n');
      const script = `${fns}\n. '${join(SHELL_DIR, 'agentkeep.sh')}'\nagentkeep_login -q k1\necho "sock=$SSH_AUTH_SOCK"`;
      const [cmd, ...pre] = SHELLS[shell];
      const r = await run(cmd, [...pre, '-c', script], { env: { ...sb.env, AGENTKEEP_BIN: recorder.bin, ...backendEnv(backend) } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`sock=${agent.sock}\n`);
      expect(existsSync(canary) ? readFileSync(canary, 'utf8') : '').toBe('');
      expect(recorder.calls()).toBe(0);
    });
  }
});

describe('hook arguments are data', () => {
  /** A stand-in agentkeep that writes each argument on its own line and prints nothing. */
  function argvRecorder(): { bin: string; args: () => string } {
    const bin = join(sb.dir, 'argv-recorder');
    const log = join(sb.dir, 'argv');
    writeFileSync(bin, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > '${log}'\n`);
    chmodSync(bin, 0o755);
    return { bin, args: () => (existsSync(log) ? readFileSync(log, 'utf8') : '') };
  }
  const HOSTILE = ['x;touch CANARY', 'my  key', '$HOME', '`touch CANARY`', 'a!b', "it's", 'q"q', 'ü€'];

  for (const shell of shellsOf('csh')) {
    it(`when ${shell} runs the printed csh line with hostile words then agentkeep receives them intact and nothing runs`, async () => {
      sb = new Sandbox('ak-hooks-');
      const rec = argvRecorder();
      const printed = await sb.agentkeep(['hook', 'csh', ...HOSTILE]);
      expect(printed.code, printed.stderr).toBe(0);
      const file = join(sb.dir, 'login.csh');
      writeFileSync(file, `${printed.stdout}echo "status=$status"\n`);
      const r = await runShellFile(shell, file, { env: { ...sb.env, AGENTKEEP_BIN: rec.bin }, cwd: sb.dir });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('status=0\n');
      expect(rec.args()).toBe(['--eval', ...HOSTILE, ''].join('\n'));
      expect(existsSync(join(sb.dir, 'CANARY'))).toBe(false);
    });
  }

  it('when tcsh passes the words to source itself then they are data too', async () => {
    sb = new Sandbox('ak-hooks-');
    const rec = argvRecorder();
    const file = join(sb.dir, 'login.csh');
    writeFileSync(file, `source ${quoteCsh(join(SHELL_DIR, 'agentkeep.csh'))} ${HOSTILE.map(quoteCsh).join(' ')}\n`);
    const r = await run('tcsh', ['-f', file], { env: { ...sb.env, AGENTKEEP_BIN: rec.bin }, cwd: sb.dir });
    expect(r.stderr).toBe('');
    expect(rec.args()).toBe(['--eval', ...HOSTILE, ''].join('\n'));
    expect(existsSync(join(sb.dir, 'CANARY'))).toBe(false);
  });
});

describe('help and version under --eval', () => {
  it('when --help or -V comes with --eval then stdout stays empty and the text goes to stderr', async () => {
    sb = new Sandbox('ak-hooks-');
    for (const flag of ['--help', '-h', '-V', '--version']) {
      const r = await sb.agentkeep(['--eval', flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout, flag).toBe('');
      expect(r.stderr.length, flag).toBeGreaterThan(0);
    }
    expect((await sb.agentkeep(['--help'])).stdout).toContain('Usage: agentkeep');
  });

  it('when agentkeep_login --help runs in dash then nothing of the help text is executed', async () => {
    sb = new Sandbox('ak-hooks-');
    const recorder = recordingBin(sb);
    const r = await run('dash', ['-c', `. '${join(SHELL_DIR, 'agentkeep.sh')}'; agentkeep_login --help; echo "status=$?"`], { env: { ...sb.env, AGENTKEEP_BIN: recorder.bin } });
    expect(r.stdout).toBe('status=0\n');
    expect(r.stderr).toContain('Usage: agentkeep');
    expect(recorder.calls()).toBe(1);
  });
});
