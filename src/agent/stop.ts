// `--stop mine|others|all`: ends this user's ssh-agent processes and nothing else. Every
// target is re-checked as a live ssh-agent with our real uid just before it is signalled.
import { isLiveSshAgent, listSshAgents } from './agent-process.js';

/** Which agents `--stop` ends. */
export type StopWhich = 'mine' | 'others' | 'all';

/** Which PIDs a stop request covers; `mine` is the agent the env files name (if local). */
export function stopTargets(which: StopWhich, uid: number, mine: number | undefined): number[] {
  const own = mine !== undefined && isLiveSshAgent(mine, uid) ? mine : undefined;
  if (which === 'mine') return own === undefined ? [] : [own];
  const all = listSshAgents(uid);
  return which === 'all' ? all : all.filter((pid) => pid !== own);
}

/** Sends SIGTERM to each target that is still an ssh-agent of ours; waits briefly for them to exit. */
export async function stopAgents(pids: number[], uid: number, waitMs = 2000): Promise<{ stopped: number[]; survivors: number[] }> {
  const signalled: number[] = [];
  for (const pid of pids) {
    if (!isLiveSshAgent(pid, uid)) continue;
    try {
      process.kill(pid, 'SIGTERM');
      signalled.push(pid);
    } catch {
      // Exited meanwhile, or not ours after all: nothing to do.
    }
  }
  const deadline = Date.now() + waitMs;
  let alive = signalled.filter((pid) => isLiveSshAgent(pid, uid));
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    alive = alive.filter((pid) => isLiveSshAgent(pid, uid));
  }
  return { stopped: signalled.filter((pid) => !alive.includes(pid)), survivors: alive };
}
