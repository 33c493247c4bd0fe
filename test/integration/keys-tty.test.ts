// The terminal path: agentkeep in a real pseudo-terminal (a private tmux server), where
// ssh-add prompts on the tty and the typed passphrase loads the key.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENTKEEP, Sandbox, parseShEval, waitFor } from '../helpers/sandbox.js';
import { keygenFingerprint, loadedFingerprints, makeAskpass } from '../helpers/askpass.js';
import { quoteSh } from '../../src/shells/quote.js';

let sb: Sandbox;
let tmuxSock: string | undefined;
afterEach(() => {
  // Only this test's own tmux server, by its own socket.
  if (tmuxSock) spawnSync('tmux', ['-S', tmuxSock, 'kill-server'], { stdio: 'ignore' });
  tmuxSock = undefined;
  sb?.cleanup();
});

function tmux(args: string[]): string {
  const out = spawnSync('tmux', ['-S', tmuxSock!, '-f', '/dev/null', ...args], { env: { ...sb.env, TERM: 'xterm' }, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`tmux ${args[0]} failed: ${out.stderr}`);
  return out.stdout;
}

describe('agentkeep on a terminal', () => {
  it('when a passphrased key is requested on a tty then ssh-add prompts once there and the typed passphrase loads it', async () => {
    sb = new Sandbox();
    const pass = 'typed by hand';
    const key = sb.keygen('id_ed25519', { passphrase: pass });
    // An askpass is set too: a terminal must win over it.
    const askpass = makeAskpass(sb, pass);
    tmuxSock = join(sb.dir, 'tmux.sock');
    const env = Object.entries({ ...sb.env, SSH_ASKPASS: askpass.program }).map(([k, v]) => quoteSh(`${k}=${v}`)).join(' ');
    const cmd = `env -i ${env} ${quoteSh(process.execPath)} ${quoteSh(AGENTKEEP)} --eval id_ed25519 > ${quoteSh(join(sb.dir, 'eval.out'))}; echo AK_EXIT=$?; sleep 600`;
    tmux(['new-session', '-d', '-x', '160', '-y', '40', 'sh', '-c', cmd]);
    sb.track(Number(tmux(['display-message', '-p', '#{pid}']).trim()));
    const screen = () => tmux(['capture-pane', '-p', '-J', '-S', '-100']);
    expect(await waitFor(() => screen().includes('Enter passphrase'), 15_000), screen()).toBe(true);
    tmux(['send-keys', '-l', pass]);
    tmux(['send-keys', 'Enter']);
    expect(await waitFor(() => /AK_EXIT=\d+/.test(screen()), 15_000), screen()).toBe(true);
    const text = screen();
    expect(text).toContain('AK_EXIT=0');
    expect(text.match(/Enter passphrase/g)).toHaveLength(1);
    expect(text).not.toContain(pass);
    expect(askpass.calls()).toBe(0);
    const sock = parseShEval(readFileSync(join(sb.dir, 'eval.out'), 'utf8')).SSH_AUTH_SOCK!;
    expect(loadedFingerprints(sock)).toEqual([keygenFingerprint(`${key}.pub`)]);
  });
});
