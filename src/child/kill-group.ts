// Signalling a child, or the whole process group it leads (a child spawned `detached`, which is
// setsid(): its own session and group), so that grandchildren are reached as well.

/** Sends `signal` to `pid`, or to its process group when `group`; a process already gone is no error. */
export function signalChild(pid: number, group: boolean, signal: NodeJS.Signals): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch { /* already gone */ }
}

/** True while any process (a zombie included) is left in process group `pgid`. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** After a group's leader exits: wait for the rest of its group until `killAt`, then SIGKILL what is left. */
export async function reapGroup(pgid: number, killAt: number): Promise<void> {
  while (groupAlive(pgid) && Date.now() < killAt) await sleep(50);
  if (!groupAlive(pgid)) return;
  signalChild(pgid, true, 'SIGKILL');
  // Bounded: processes the init of a container never reaps stay zombies, yet count as members.
  const until = Date.now() + 1000;
  while (groupAlive(pgid) && Date.now() < until) await sleep(20);
}
