// How keyring failures are named, and when we know there is no session bus without asking.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyKeyringError, missingSessionBus } from '../../src/keyring/classify.js';
import { keyringTimeoutMs, KEYRING_TIMEOUT_MS } from '../../src/keyring/store.js';
import { Sandbox } from '../helpers/sandbox.js';
import { readSettings } from '../../src/settings.js';

describe('classifyKeyringError', () => {
  const table: [string, string][] = [
    ['Platform failure: DBus error: Failed to connect to socket /x: No such file or directory', 'no-dbus'],
    ['Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead', 'no-dbus'],
    ['Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files', 'no-secret-service'],
    ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", 'locked'],
    ['Ambiguous: 2 credentials match', 'error'],
  ];
  for (const [message, reason] of table) {
    it(`when the store says "${message.slice(0, 60)}..." then the reason is ${reason}`, () => {
      const u = classifyKeyringError(message);
      expect(u.reason).toBe(reason);
      expect(u.message).toMatch(/^the keyring /);
      expect(u.message).not.toContain('\n');
      expect(u.hint.length).toBeGreaterThan(10);
    });
  }
});

describe('missingSessionBus', () => {
  let sb: Sandbox | undefined;
  afterEach(() => { sb?.cleanup(); sb = undefined; });

  it('when DBUS_SESSION_BUS_ADDRESS is set then the bus is left for the store to try', () => {
    expect(missingSessionBus(readSettings({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nowhere' }), 'linux')).toBeUndefined();
  });

  it('when neither the address nor XDG_RUNTIME_DIR/bus exists then it is missing on Linux, not on macOS', () => {
    expect(missingSessionBus(readSettings({}), 'linux')?.reason).toBe('no-dbus');
    expect(missingSessionBus(readSettings({ XDG_RUNTIME_DIR: '/nonexistent' }), 'linux')?.message).toContain('DBUS_SESSION_BUS_ADDRESS is not set');
    expect(missingSessionBus(readSettings({}), 'darwin')).toBeUndefined();
  });

  it('when XDG_RUNTIME_DIR/bus is a socket then the systemd user bus counts as present', async () => {
    sb = new Sandbox('ak-kc-');
    const runtime = join(sb.dir, 'run');
    mkdirSync(runtime, { mode: 0o700 });
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(runtime, 'bus'), r));
    try {
      expect(missingSessionBus(readSettings({ XDG_RUNTIME_DIR: runtime }), 'linux')).toBeUndefined();
    } finally {
      server.close();
    }
  });
});

describe('keyringTimeoutMs', () => {
  it('when nothing is set then the default applies; AGENTKEEP_KEYRING_TIMEOUT in seconds overrides it; the option wins', () => {
    expect(keyringTimeoutMs({ env: {}, settings: readSettings({}) })).toBe(KEYRING_TIMEOUT_MS);
    expect(keyringTimeoutMs({ env: { AGENTKEEP_KEYRING_TIMEOUT: '2.5' }, settings: readSettings({ AGENTKEEP_KEYRING_TIMEOUT: '2.5' }) })).toBe(2500);
    expect(keyringTimeoutMs({ env: { AGENTKEEP_KEYRING_TIMEOUT: 'soon' }, settings: readSettings({ AGENTKEEP_KEYRING_TIMEOUT: 'soon' }) })).toBe(KEYRING_TIMEOUT_MS);
    expect(keyringTimeoutMs({ env: { AGENTKEEP_KEYRING_TIMEOUT: '2' }, settings: readSettings({ AGENTKEEP_KEYRING_TIMEOUT: '2' }), timeoutMs: 700 })).toBe(700);
  });
});
