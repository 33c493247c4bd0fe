// Turns what the Secret Service (or its absence) said into one of a few reasons with a fix.
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../settings.js';

/** Why the keyring cannot be used right now. */
export type UnavailableReason = 'no-dbus' | 'no-secret-service' | 'locked' | 'timeout' | 'error';

/** An unusable keyring: a reason, a one-line message, and the fix. */
export interface KeyringUnavailable {
  reason: UnavailableReason;
  message: string;
  hint: string;
}

const NO_DBUS_HINT = 'the keyring works inside a desktop login; under cron or on a headless server type the passphrase once after boot with `agentkeep KEY`, or use `agentrun --ephemeral KEY --askpass PROGRAM`';

/** The store's error text, classified. */
export function classifyKeyringError(message: string): KeyringUnavailable {
  if (/Failed to connect to socket|autolaunch|Connection refused|No such file or directory|Unable to autolaunch|not set your DBUS|DBUS_SESSION_BUS_ADDRESS/i.test(message)) {
    return { reason: 'no-dbus', message: `the keyring is unreachable: no D-Bus session bus answers (${message})`, hint: NO_DBUS_HINT };
  }
  if (/ServiceUnknown|not provided by any \.service files|org\.freedesktop\.secrets/i.test(message)) {
    return {
      reason: 'no-secret-service',
      message: 'the keyring is unreachable: no Secret Service (org.freedesktop.secrets) on the D-Bus session bus',
      hint: 'run a Secret Service such as gnome-keyring-daemon --components=secrets or KeePassXC with its Secret Service integration',
    };
  }
  if (/prompt was dismissed|is locked|locked collection|\bLocked\b/i.test(message)) {
    return {
      reason: 'locked',
      message: 'the keyring is locked (its unlock prompt was dismissed or could not be shown)',
      hint: 'unlock it: log in to the desktop session, or open your keyring manager (seahorse) and unlock "Login"',
    };
  }
  return { reason: 'error', message: `the keyring failed: ${message}`, hint: 'run `agentkeep passphrase status` to see whether the keyring is reachable' };
}

/** A keyring that did not answer in time. */
export function timeoutUnavailable(ms: number): KeyringUnavailable {
  return {
    reason: 'timeout',
    message: `the keyring did not answer within ${Math.round(ms / 100) / 10} s`,
    hint: 'check that the Secret Service is running and unlocked; AGENTKEEP_KEYRING_TIMEOUT=SECONDS waits longer',
  };
}

/**
 * On Linux, the session bus is known only from DBUS_SESSION_BUS_ADDRESS or the systemd
 * per-user socket $XDG_RUNTIME_DIR/bus; with neither there is nothing to ask (and asking
 * may try an X11 autolaunch), so we say so without starting anything.
 */
export function missingSessionBus(settings: Pick<Settings, 'sessionBus' | 'xdgRuntimeDir'>, platform = process.platform): KeyringUnavailable | undefined {
  if (platform !== 'linux' && platform !== 'freebsd') return undefined;
  if (settings.sessionBus !== undefined) return undefined;
  const runtime = settings.xdgRuntimeDir;
  if (runtime !== undefined) {
    const bus = join(runtime, 'bus');
    try {
      if (existsSync(bus) && lstatSync(bus).isSocket()) return undefined;
    } catch { /* unreadable: treat as absent */ }
  }
  return { reason: 'no-dbus', message: 'the keyring is unreachable: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)', hint: NO_DBUS_HINT };
}
