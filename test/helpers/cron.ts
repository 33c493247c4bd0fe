// The real cron daemon, shared by the test files that need one. Only one `cron -f` can run (it
// takes /run/crond.pid), and a running cron runs every installed crontab: so a file holds the
// cron slot from before it installs a crontab until it has removed them and stopped its cron.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { alive, waitFor, type Sandbox } from './sandbox.js';

const CRON_PIDFILE = '/run/crond.pid';
/** flock(1) on this file is the slot: the kernel frees it when its holder dies, so it is never stale. */
const SLOT_LOCK = '/run/agentkeep-tests-cron.lock';

/** How long a file may wait for the slot: the other file holds it through a minute-boundary wait and its other tests. */
export const CRON_SLOT_WAIT_MS = 240_000;

/** The live cron daemon named in cron's pidfile, if any. */
export function runningCron(): number | undefined {
  try {
    const pid = Number(readFileSync(CRON_PIDFILE, 'utf8').trim());
    return pid > 0 && alive(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'cron' ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits for the cron slot and takes it, then waits until no cron runs (one the system started:
 * its entries must not run before a test says so); returns the slot's release.
 */
export async function takeCronSlot(sb: Sandbox): Promise<() => Promise<void>> {
  // `flock FILE cat`: holds the lock while cat reads our pipe; ending the pipe (or our death) frees it.
  const holder: ChildProcess = spawn('flock', [SLOT_LOCK, 'sh', '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  sb.track(holder.pid!);
  let said = '';
  holder.stdout!.on('data', (d: Buffer) => { said += d.toString(); });
  const ended = new Promise<void>((resolve) => holder.once('close', () => resolve()));
  const release = async (): Promise<void> => { holder.stdin!.end(); await ended; };
  if (!await waitFor(() => said === 'held\n', CRON_SLOT_WAIT_MS)) {
    holder.kill('SIGKILL');
    expect.fail('another test file kept the cron slot');
  }
  if (!await waitFor(() => runningCron() === undefined, 60_000)) {
    await release();
    expect.fail(`a cron daemon this test did not start (pid ${runningCron()}) kept running; stop it to run the cron tests`);
  }
  return release;
}

/** Starts our own `cron -f` (hold the slot first), tracked by the sandbox; its PID. */
export async function startOwnCron(sb: Sandbox): Promise<number> {
  const child = spawn('cron', ['-f'], { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  sb.track(child.pid!);
  expect(await waitFor(() => runningCron() === child.pid, 5000), 'cron -f did not start (pidfile taken?)').toBe(true);
  return child.pid!;
}

/** Stops a cron this file started, by PID, and waits until it has gone. */
export async function stopOwnCron(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  await waitFor(() => !alive(pid), 10_000);
}
