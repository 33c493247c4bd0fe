// A child process that runs withEphemeralAgent and waits inside the body, so that a test can
// signal it. argv[2]: JSON {keys, askpass, forward}. With `forward`, the body behaves like
// agentrun: it runs `sleep`, forwards SIGTERM to it from a signal scope of its own, and returns
// 128+N when the job dies.
import { spawn } from 'node:child_process';
import { withEphemeralAgent } from '../../src/ephemeral/index.js';
import { openSignalScope } from '../../src/signal-scope.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as { keys: string[]; askpass?: string; forward?: boolean };
const code = await withEphemeralAgent({ keys: cfg.keys, env: process.env, askpass: cfg.askpass }, async (agent) => {
  if (!cfg.forward) {
    process.stdout.write(`${JSON.stringify(agent)}\n`);
    await new Promise(() => { setInterval(() => {}, 1000); });
    return 0;
  }
  const job = spawn('sleep', ['1000'], { stdio: 'ignore', env: { ...process.env, ...agent.env } });
  const close = openSignalScope(() => { job.kill('SIGTERM'); });
  process.stdout.write(`${JSON.stringify({ ...agent, jobPid: job.pid })}\n`);
  const status = await new Promise<number>((r) => job.on('exit', (c, s) => r(s ? 128 + 15 : c ?? 1)));
  close();
  return status;
});
process.exitCode = code;
