// Runs the login hooks in real shells and reports what they left behind: status, the two agent
// variables, the names of any other variables that appeared, and how often Node was started.
import { chmodSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTKEEP, run, SHELL_DIR, type Sandbox } from './sandbox.js';
import { shellFlavourNamed, type ShellFlavourName } from '../../src/shells/flavours.js';

/** Every shell the hooks and env files are tested in, as invoked (program, then its options). */
export const SHELLS = {
  dash: ['dash'], bash: ['bash'], 'bash --posix': ['bash', '--posix'], zsh: ['zsh'], 'zsh --emulate sh': ['zsh', '--emulate', 'sh'],
  mksh: ['mksh'], ksh: ['ksh'], posh: ['posh'], yash: ['yash'], 'busybox sh': ['busybox', 'sh'],
  tcsh: ['tcsh', '-f'], 'bsd-csh': ['bsd-csh', '-f'], fish: ['fish', '--no-config'],
} as const;

export type HookShell = keyof typeof SHELLS;

/** Which hook and env file a shell uses: the flavour src/shells/flavours.ts gives its program (busybox: its applet). */
export function familyOf(shell: HookShell): ShellFlavourName {
  const [program, applet] = SHELLS[shell];
  const flavour = shellFlavourNamed(program === 'busybox' ? applet : program);
  if (flavour === undefined) throw new Error(`Expected ${program} to be a shell of a flavour in src/shells/flavours.ts, got none`);
  return flavour;
}

/** The shells of one flavour, in SHELLS order. */
export function shellsOf(flavour: ShellFlavourName): HookShell[] {
  return (Object.keys(SHELLS) as HookShell[]).filter((shell) => familyOf(shell) === flavour);
}

/** The POSIX shells (the sh hook and the H-sh file). */
export const SH_SHELLS = shellsOf('sh');

/** The SHELL a shell of each flavour runs with, so that `agentkeep --eval` prints its flavour. */
export const SHELL_VARIABLE: Record<ShellFlavourName, string> = { sh: '/bin/sh', csh: '/bin/tcsh', fish: '/usr/bin/fish' };

/** Runs a script file in `shell`. */
export function runShellFile(shell: HookShell, file: string, opts: Parameters<typeof run>[2] = {}) {
  const [cmd, ...pre] = SHELLS[shell];
  return run(cmd, [...pre, file], opts);
}

/** What a shell looked like after the hook (or the reference eval) ran. */
export interface ShellOutcome {
  code: number | null;
  status: string;
  sock: string;
  pid: string;
  /** Variable names that exist after the call but not before it. */
  newNames: string[];
  stderr: string;
}

const UNSET = '<unset>';

/** Words quoted for the shell's script text (every test argument is plain). */
function words(args: string[]): string {
  for (const a of args) if (!/^[A-Za-z0-9_./~-]+$/.test(a)) throw new Error(`test argument needs quoting: ${a}`);
  return args.join(' ');
}

function script(shell: HookShell, mode: 'hook' | 'eval', args: string[], dir: string): string {
  const a = words(args);
  const before = join(dir, 'names.before');
  const after = join(dir, 'names.after');
  switch (familyOf(shell)) {
    case 'sh': {
      const call = mode === 'hook' ? `agentkeep_login ${a}` : `eval "$("${process.execPath}" "${AGENTKEEP}" --eval ${a})"`;
      return [
        `. '${join(SHELL_DIR, 'agentkeep.sh')}'`,
        `set > '${before}'`,
        call,
        `echo "status=$?"`,
        `set > '${after}'`,
        `echo "sock=\${SSH_AUTH_SOCK-${UNSET}}"`,
        `echo "pid=\${SSH_AGENT_PID-${UNSET}}"`,
      ].join('\n');
    }
    case 'csh': {
      // The form `agentkeep hook csh` prints: BSD csh cannot pass arguments to source.
      const call = mode === 'hook' ? `set agentkeep_args = ( ${a} ); source '${join(SHELL_DIR, 'agentkeep.csh')}'`
        : `eval "\`'${process.execPath}' '${AGENTKEEP}' --eval ${a}\`"`;
      return [
        `set > '${before}'`,
        call,
        'echo "status=$status"',
        `set > '${after}'`,
        `if ($?SSH_AUTH_SOCK) then\necho "sock=$SSH_AUTH_SOCK"\nelse\necho "sock=${UNSET}"\nendif`,
        `if ($?SSH_AGENT_PID) then\necho "pid=$SSH_AGENT_PID"\nelse\necho "pid=${UNSET}"\nendif`,
      ].join('\n');
    }
    case 'fish': {
      const call = mode === 'hook' ? `agentkeep_login ${a}` : `'${process.execPath}' '${AGENTKEEP}' --eval ${a} | source`;
      return [
        `source '${join(SHELL_DIR, 'agentkeep.fish')}'`,
        `set -n > '${before}'`,
        call,
        'echo "status=$status"',
        `set -n > '${after}'`,
        `if set -q SSH_AUTH_SOCK; echo "sock=$SSH_AUTH_SOCK"; else; echo "sock=${UNSET}"; end`,
        `if set -q SSH_AGENT_PID; echo "pid=$SSH_AGENT_PID"; else; echo "pid=${UNSET}"; end`,
      ].join('\n');
    }
  }
}

/** Variable names in `set` output (sh: NAME=..., csh: NAME<tab>..., fish: NAME). */
function names(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=|\t|$)/.exec(line);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** A stand-in for agentkeep that records each call, then runs the real built bin. */
export function recordingBin(sb: Sandbox): { bin: string; calls: () => number } {
  const bin = join(sb.dir, 'agentkeep-recorder');
  const log = join(sb.dir, 'agentkeep-calls');
  writeFileSync(bin, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${process.execPath}' '${AGENTKEEP}' "$@"\n`);
  chmodSync(bin, 0o755);
  return { bin, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0) };
}

/** Runs the hook (mode 'hook') or `eval "$(agentkeep --eval ...)"` (mode 'eval') in `shell`. */
export async function runInShell(sb: Sandbox, shell: HookShell, mode: 'hook' | 'eval', args: string[], env: NodeJS.ProcessEnv = {}): Promise<ShellOutcome> {
  const file = join(sb.dir, `probe.${shell.replace(/\W+/g, '-')}`);
  writeFileSync(file, `${script(shell, mode, args, sb.dir)}\n`);
  const r = await runShellFile(shell, file, { env: { ...sb.env, SHELL: SHELL_VARIABLE[familyOf(shell)], ...env }, cwd: sb.home, timeoutMs: 20_000 });
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
  const before = names(readFileSync(join(sb.dir, 'names.before'), 'utf8'));
  const after = names(readFileSync(join(sb.dir, 'names.after'), 'utf8'));
  return {
    code: r.code, status: field('status'), sock: field('sock'), pid: field('pid'),
    newNames: [...after].filter((n) => !before.has(n)).sort(), stderr: r.stderr,
  };
}
