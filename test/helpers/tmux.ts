// A private tmux server (its own socket in the sandbox) to give a login a real pseudo-terminal:
// `type` sends keys as a person would, `screen` reads the pane back.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Sandbox } from './sandbox.js';

/** One test's tmux server; `kill` stops it (and only it, by its socket). */
export class Tmux {
  readonly sock: string;

  constructor(private readonly sb: Sandbox) {
    this.sock = join(sb.dir, 'tmux.sock');
  }

  private tmux(args: string[]): string {
    const out = spawnSync('tmux', ['-S', this.sock, '-f', '/dev/null', ...args], { env: { ...this.sb.env, TERM: 'xterm' }, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`tmux ${args[0]} failed: ${out.stderr}`);
    return out.stdout;
  }

  /** Starts `argv` in a new 200x50 session named `name`, in `cwd`; its PID is tracked by the sandbox. */
  start(name: string, argv: string[], cwd: string): void {
    this.tmux(['new-session', '-d', '-s', name, '-c', cwd, '-x', '200', '-y', '50', '--', ...argv]);
    this.sb.track(Number(this.tmux(['display-message', '-p', '-t', name, '#{pane_pid}']).trim()));
  }

  /** The pane's text, wrapped lines joined, with its scrollback. */
  screen(name: string): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-200', '-t', name]).replace(/\n+$/, '\n');
  }

  /** The pane's terminal device (/dev/pts/N). */
  tty(name: string): string {
    return this.tmux(['display-message', '-p', '-t', name, '#{pane_tty}']).trim();
  }

  /** Types `text` literally, then Enter unless told otherwise. */
  type(name: string, text: string, enter = true): void {
    this.tmux(['send-keys', '-t', name, '-l', text]);
    if (enter) this.tmux(['send-keys', '-t', name, 'Enter']);
  }

  /** Sends a key by tmux's name for it (C-c, Enter). */
  key(name: string, key: string): void {
    this.tmux(['send-keys', '-t', name, key]);
  }

  /** Closes one session's terminal, as closing its window would (its processes get SIGHUP). */
  close(name: string): void {
    this.tmux(['kill-session', '-t', name]);
  }

  /** Stops this server and everything in its panes. */
  kill(): void {
    spawnSync('tmux', ['-S', this.sock, 'kill-server'], { stdio: 'ignore' });
  }
}
