// `npm run bench`: agentkeep against keychain and bare Node, side by side in one run.
// Every command runs under `env -i` with only HOME, PATH, USER and SHELL, in sandbox HOMEs
// under /tmp with their own agents, which are killed by PID at the end. Needs hyperfine,
// keychain, dash and /usr/bin/time (GNU time) on PATH.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 60);
const SLOW_RUNS = Number(process.env.BENCH_SLOW_RUNS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const STORM = 100;
const STORM_REPEATS = Number(process.env.BENCH_STORM_REPEATS ?? 3);
const KEYS50 = Array.from({ length: 50 }, (_, i) => `k${String(i + 1).padStart(2, '0')}`);

for (const tool of ['hyperfine', 'keychain', 'dash', 'ssh-agent', 'ssh-add', 'ssh-keygen']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) {
    console.error(`bench: ${tool} is not installed (Debian: apt-get install ${tool === 'dash' ? 'dash' : tool.startsWith('ssh') ? 'openssh-client' : tool})`);
    process.exit(1);
  }
}
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const BENCH = mkdtempSync('/tmp/ak-bench-');
const BIN = join(BENCH, 'bin');
mkdirSync(BIN);
// The bins exactly as package.json installs them.
const PKG_BIN = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin;
for (const name of ['agentkeep', 'agentrun']) symlinkSync(join(ROOT, PKG_BIN[name]), join(BIN, name));
const PATH = [BIN, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
const USER = process.env.USER ?? 'root';
const agents = new Set();

/** The clean environment every measured command gets (no NODE_EXTRA_CA_CERTS, no agent). */
function cleanEnv(home) {
  return { HOME: home, PATH, USER, SHELL: '/bin/sh' };
}

/** The same, as an `env -i` prefix for hyperfine's command lines. */
function envPrefix(home) {
  return `env -i ${Object.entries(cleanEnv(home)).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

function sh(cmd, args, env) {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A HOME with unencrypted keys in ~/.ssh. */
function makeHome(name, keys) {
  const home = join(BENCH, name);
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  for (const k of keys) sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', join(home, '.ssh', k)], cleanEnv(home));
  return home;
}

function envFileVars(home) {
  const text = readFileSync(join(home, '.keychain', `${hostname()}-sh`), 'utf8');
  return { sock: /SSH_AUTH_SOCK=([^;]+);/.exec(text)?.[1], pid: Number(/SSH_AGENT_PID=(\d+);/.exec(text)?.[1]) };
}

/** agentkeep's agent in `home`, started by agentkeep, with `keys` loaded by plain ssh-add. */
function agentkeepHome(name, keys) {
  const home = makeHome(name, keys);
  sh('agentkeep', ['--eval', '--quiet', '--noask'], cleanEnv(home));
  const { sock, pid } = envFileVars(home);
  agents.add(pid);
  sh('ssh-add', keys.map((k) => join(home, '.ssh', k)), { ...cleanEnv(home), SSH_AUTH_SOCK: sock });
  return home;
}

/** keychain's own agent in its own `home`, with `keys` loaded by keychain itself. */
function keychainHome(name, keys) {
  const home = makeHome(name, keys);
  spawnSync('keychain', ['--eval', '--quiet', ...keys], { env: cleanEnv(home), stdio: 'ignore' });
  const { sock, pid } = envFileVars(home);
  agents.add(pid);
  const listed = spawnSync('ssh-add', ['-l'], { env: { ...cleanEnv(home), SSH_AUTH_SOCK: sock }, encoding: 'utf8' }).stdout;
  if (listed.trim().split('\n').length !== keys.length) throw new Error(`keychain loaded ${listed.trim().split('\n').length} of ${keys.length} keys`);
  return home;
}

/** Runs hyperfine over named commands; returns name → {median, mean, stddev, min, max} in ms. */
function hyperfine(label, commands, runs) {
  const json = join(BENCH, `${label}.json`);
  const args = ['-N', '--warmup', String(WARMUP), '--runs', String(runs), '--style', 'basic', '--export-json', json];
  for (const [name, cmd] of commands) args.push('-n', name, cmd);
  console.error(`\n## ${label}`);
  execFileSync('hyperfine', args, { stdio: ['ignore', 2, 2] }); // progress on stderr, the table on stdout
  const out = {};
  for (const r of JSON.parse(readFileSync(json, 'utf8')).results) {
    out[r.command] = { median: r.median * 1000, mean: r.mean * 1000, stddev: (r.stddev ?? 0) * 1000, min: r.min * 1000, max: r.max * 1000 };
  }
  return out;
}

/** Max RSS in KiB (GNU time %M), median of `n` runs. */
function maxRss(cmdline, n = 5) {
  if (!GNU_TIME) return undefined;
  const values = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync(GNU_TIME, ['-f', '%M', 'sh', '-c', `exec ${cmdline} >/dev/null 2>/dev/null`], { encoding: 'utf8' });
    values.push(Number(r.stderr.trim().split('\n').pop()));
  }
  return median(values);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** ssh-agent processes whose command line names a path inside `dir`. */
function agentsUnder(dir) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'ssh-agent' && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(dir)) pids.push(Number(name));
    } catch { /* exited */ }
  }
  return pids;
}

/** 100 `agentkeep --eval` at once with no agent: how many agents, the slowest caller, agreement. */
async function storm(round) {
  const home = makeHome(`storm${round}`, []);
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: STORM }, () => new Promise((done) => {
    const t0 = performance.now();
    const child = spawn('agentkeep', ['--eval', '--quiet'], { env: cleanEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code) => done({ code, out, ms: performance.now() - t0 }));
    child.on('error', () => done({ code: -1, out: '', ms: performance.now() - t0 }));
  })));
  const wall = performance.now() - started;
  await sleep(200);
  const found = agentsUnder(home);
  for (const pid of found) agents.add(pid);
  return {
    agents: found.length,
    failed: results.filter((r) => r.code !== 0).length,
    distinctOutputs: new Set(results.filter((r) => r.code === 0).map((r) => r.out)).size,
    slowest: Math.max(...results.map((r) => r.ms)),
    median: median(results.map((r) => r.ms)),
    wall,
  };
}

/** Proportional set size of a process in KiB (shared pages split among their users); 0 once it is gone. */
function pssKiB(pid) {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** A process's command name and parent, from /proc/PID/stat (the name may hold spaces and parentheses). */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(stat.slice(close + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}

/** `root` and every process below it. */
function processTree(root) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name)) parents.set(Number(name), procStat(Number(name))?.ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/**
 * Starts `count` copies of `argv` (each ends in the job `sleep`), waits until every job runs,
 * and returns the PSS in KiB, per copy, of everything that stays alive beside the jobs.
 */
async function residentBeside(argv, home, count = 10) {
  const roots = Array.from({ length: count }, () => {
    const child = spawn(argv[0], argv.slice(1), { env: cleanEnv(home), stdio: 'ignore' });
    child.on('error', () => {});
    return child;
  });
  const jobRuns = (root) => processTree(root.pid).some((pid) => procStat(pid)?.comm === 'sleep');
  for (let i = 0; i < 200 && !roots.every(jobRuns); i++) await sleep(50);
  await sleep(300); // let the supervisors settle after starting their jobs
  let total = 0;
  for (const root of roots) {
    for (const pid of processTree(root.pid)) if (procStat(pid)?.comm !== 'sleep') total += pssKiB(pid);
  }
  for (const root of roots) {
    const tree = processTree(root.pid).reverse();
    for (const pid of tree) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    }
  }
  await Promise.all(roots.map((root) => new Promise((done) => (root.exitCode !== null || root.signalCode !== null ? done() : root.on('exit', done)))));
  return total / count;
}

/** agentrun without its launcher: Node spawns the job and waits (the bin before the launcher). */
const NODE_ONLY_AGENTRUN = 'node dist/agentrun.cjs true (no launcher: Node spawns the job)';

const fmt = (ms) => (ms === undefined ? 'n/a' : ms.toFixed(1));
const ratio = (a, b) => (a / b).toFixed(2);

async function main() {
  console.error(`bench: sandbox ${BENCH}; setting up agents and keys...`);
  const ak1 = agentkeepHome('ak1', ['k01']);
  const ak50 = agentkeepHome('ak50', KEYS50);
  const kc1 = keychainHome('kc1', ['k01']);
  const kc50 = keychainHome('kc50', KEYS50);
  const hook = join(ROOT, 'shell/agentkeep.sh');

  const agentrunPlaceholder = spawnSync('agentrun', ['true'], { env: cleanEnv(ak1), encoding: 'utf8' });
  const agentrunReady = agentrunPlaceholder.status === 0;

  const wrap = (home, inner) => `${envPrefix(home)} dash -c '${inner}'`;
  const W = 'wrapper: dash -c eval "$(true)"';
  const t1 = hyperfine('1-login-hot-path', [
    [W, wrap(ak1, 'eval "$(true)"')],
    ['agentkeep_login -q k01 (sh hook, dash)', wrap(ak1, `. ${hook}; agentkeep_login -q k01`)],
    ['keychain --eval --quiet -Q k01', wrap(kc1, 'eval "$(keychain --eval --quiet -Q k01)"')],
  ], RUNS);
  const t2 = hyperfine('2-full-check-1-key', [
    [W, wrap(ak1, 'eval "$(true)"')],
    ['agentkeep --eval --quiet k01', wrap(ak1, 'eval "$(agentkeep --eval --quiet k01)"')],
    ['keychain --eval --quiet k01', wrap(kc1, 'eval "$(keychain --eval --quiet k01)"')],
    ['node -e 0', wrap(ak1, 'eval "$(node -e 0)"')],
  ], RUNS);
  const t3 = hyperfine('3-full-check-50-keys', [
    [W, wrap(ak50, 'eval "$(true)"')],
    ['agentkeep --eval --quiet k01..k50', wrap(ak50, `eval "$(agentkeep --eval --quiet ${KEYS50.join(' ')})"`)],
    ['keychain --eval --quiet k01..k50', wrap(kc50, `eval "$(keychain --eval --quiet ${KEYS50.join(' ')})"`)],
  ], SLOW_RUNS);
  const t4 = agentrunReady ? hyperfine('4-agentrun', [
    ['wrapper: env -i true', `${envPrefix(ak1)} true`],
    ['agentrun true', `${envPrefix(ak1)} agentrun true`],
    [NODE_ONLY_AGENTRUN, `${envPrefix(ak1)} node ${join(ROOT, 'dist/agentrun.cjs')} true`],
    ['node -e 0', `${envPrefix(ak1)} node -e 0`],
  ], RUNS) : undefined;

  console.error('\n## 5-storm');
  const storms = [];
  for (let i = 0; i < STORM_REPEATS; i++) {
    const s = await storm(i);
    console.error(`round ${i + 1}: ${s.agents} agent(s), ${s.failed} failed, ${s.distinctOutputs} distinct output(s), slowest ${fmt(s.slowest)} ms, median ${fmt(s.median)} ms`);
    storms.push(s);
  }

  console.error('\n## 6-memory');
  const mem = {
    'agentkeep_login -q k01 (sh hook, dash)': maxRss(`${envPrefix(ak1)} dash -c '. ${hook}; agentkeep_login -q k01'`),
    'agentkeep --eval --quiet k01': maxRss(`${envPrefix(ak1)} agentkeep --eval --quiet k01`),
    'agentkeep --eval --quiet k01..k50': maxRss(`${envPrefix(ak50)} agentkeep --eval --quiet ${KEYS50.join(' ')}`),
    'keychain --eval --quiet k01': maxRss(`${envPrefix(kc1)} keychain --eval --quiet k01`),
    'keychain --eval --quiet k01..k50': maxRss(`${envPrefix(kc50)} keychain --eval --quiet ${KEYS50.join(' ')}`),
    'agentrun true': agentrunReady ? maxRss(`${envPrefix(ak1)} agentrun true`) : undefined,
    'node -e 0': maxRss(`${envPrefix(ak1)} node -e 0`),
  };

  console.error('\n## 7-resident');
  const job = ['sleep', '600'];
  const resident = agentrunReady ? {
    'agentrun sleep (plain: the job replaces agentrun)': await residentBeside(['agentrun', ...job], ak1),
    'agentrun --log F --timeout 1h sleep (supervised)': await residentBeside(['agentrun', '--log', join(BENCH, 'resident.log'), '--timeout', '1h', ...job], ak1),
    'timeout 1h sleep (coreutils, for comparison)': await residentBeside(['timeout', '1h', ...job], ak1),
    'node -e (idle Node process, for comparison)': await residentBeside(['node', '-e', 'setTimeout(() => {}, 600000); require("child_process").spawn("sleep", ["600"], { stdio: "ignore" }).unref()'], ak1),
  } : {};
  for (const [name, kib] of Object.entries(resident)) console.error(`${name}: ${(kib / 1024).toFixed(2)} MiB per job`);

  // Report: medians, medians net of the common wrapper, ratios of the net medians.
  const net = (t, name, w = W) => t[name].median - t[w].median;
  const lines = [];
  const row = (...cells) => lines.push(`| ${cells.join(' | ')} |`);
  lines.push('| # | command | median ms | net ms | compared with | ratio (net) | target | met |');
  lines.push('|---|---|---:|---:|---|---:|---|---|');
  const targets = [];
  const check = (n, t, name, peerT, peer, limit, w = W) => {
    const r = net(t, name, w) / net(peerT, peer, w);
    const met = r <= limit;
    targets.push(met);
    row(n, name, fmt(t[name].median), fmt(net(t, name, w)), peer, ratio(net(t, name, w), net(peerT, peer, w)), `≤ ${limit}×`, met ? 'yes' : '**no**');
  };
  const plain = (n, t, name, w = W) => row(n, name, fmt(t[name].median), fmt(net(t, name, w)), '', '', '', '');
  plain(1, t1, W);
  check(1, t1, 'agentkeep_login -q k01 (sh hook, dash)', t1, 'keychain --eval --quiet -Q k01', 0.5);
  plain(1, t1, 'keychain --eval --quiet -Q k01');
  plain(2, t2, W);
  check(2, t2, 'agentkeep --eval --quiet k01', t2, 'node -e 0', 1.35);
  check(2, t2, 'agentkeep --eval --quiet k01', t2, 'keychain --eval --quiet k01', 0.5);
  plain(2, t2, 'keychain --eval --quiet k01');
  plain(2, t2, 'node -e 0');
  plain(3, t3, W);
  check(3, t3, 'agentkeep --eval --quiet k01..k50', t2, 'agentkeep --eval --quiet k01', 1.2);
  check(3, t3, 'agentkeep --eval --quiet k01..k50', t3, 'keychain --eval --quiet k01..k50', 0.3);
  plain(3, t3, 'keychain --eval --quiet k01..k50');
  if (t4) {
    const w4 = 'wrapper: env -i true';
    plain(4, t4, w4, w4);
    check(4, t4, 'agentrun true', t4, 'node -e 0', 1.4, w4);
    check(4, t4, NODE_ONLY_AGENTRUN, t4, 'node -e 0', 1.4, w4);
    plain(4, t4, 'node -e 0', w4);
  } else {
    row(4, 'agentrun true', 'pending', '', 'node -e 0', '', '≤ 1.4×', `pending (agentrun exited ${agentrunPlaceholder.status})`);
  }
  const stormOk = storms.every((s) => s.agents === 1 && s.failed === 0 && s.distinctOutputs === 1);
  targets.push(stormOk);
  lines.push('');
  lines.push(`| # | ${STORM} simultaneous \`agentkeep --eval --quiet\`, no agent running | agents started | failed callers | distinct outputs | slowest caller ms | median caller ms | target | met |`);
  lines.push('|---|---|---:|---:|---:|---:|---:|---|---|');
  storms.forEach((s, i) => row(5, `round ${i + 1}`, s.agents, s.failed, s.distinctOutputs, fmt(s.slowest), fmt(s.median), 'exactly 1 agent', s.agents === 1 && s.failed === 0 && s.distinctOutputs === 1 ? 'yes' : '**no**'));
  lines.push('');
  lines.push('| # | command | peak RSS (MiB, median of 5) |');
  lines.push('|---|---|---:|');
  for (const [name, kib] of Object.entries(mem)) row(6, name, kib === undefined ? (GNU_TIME ? 'pending' : 'n/a (no /usr/bin/time)') : (kib / 1024).toFixed(1));

  lines.push('');
  lines.push('| # | beside each of 10 concurrent `sleep` jobs | resident PSS per job (MiB) | target | met |');
  lines.push('|---|---|---:|---|---|');
  for (const [name, kib] of Object.entries(resident)) {
    const plainRow = name.includes('(plain');
    if (plainRow) targets.push(kib <= 1024);
    row(7, name, (kib / 1024).toFixed(2), plainRow ? '≤ 1 MiB' : '', plainRow ? (kib <= 1024 ? 'yes' : '**no**') : '');
  }

  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const keychainVersion = /keychain (\S+)/.exec(spawnSync('keychain', ['--version'], { encoding: 'utf8' }).stderr)?.[1] ?? '?';
  const hyperfineVersion = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n### Benchmark (\`npm run bench\`)\n`);
  console.log(`Machine: ${availableParallelism()} CPUs (${cpu}), Node ${process.version}, keychain ${keychainVersion}, ${hyperfineVersion}; ` +
    `bins as in package.json (agentkeep → ${PKG_BIN.agentkeep}, agentrun → ${PKG_BIN.agentrun}); ${RUNS} runs (${SLOW_RUNS} for 50 keys) after ${WARMUP} warm-up runs; every command under \`env -i HOME PATH USER SHELL=/bin/sh\`. ` +
    '"net" = median minus the median of the common wrapper in the same table (rows 1–3: `dash -c \'eval "$(true)"\'`; row 4: `env -i … true`); ratios compare net medians.\n');
  console.log(lines.join('\n'));
  console.log(`\nTargets met: ${targets.filter(Boolean).length} of ${targets.length}${t4 ? '' : ' (agentrun row pending)'}.`);
}

try {
  await main();
} finally {
  for (const pid of agents) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  if (!process.env.BENCH_KEEP) rmSync(BENCH, { recursive: true, force: true });
}
