// Bundles each bin into dist/ so that a login loads one file plus Node built-ins, and starts
// fast on Node 20, which has no module.enableCompileCache:
//
//   dist/NAME.bundle.cjs   the whole bin, CommonJS (Node's CJS loader starts ~5 ms sooner than
//                          its ESM loader). Modules reached through dynamic import() (ssh2,
//                          proper-lockfile, the keyring, subcommands) are wrapped by esbuild in
//                          lazy initialisers: their top level runs only when imported.
//   dist/NAME.bundle.cjs.v8cache
//                          V8's code cache for that file, made here by running the bin once.
//                          Node rejects it by itself when its V8 version or flags differ, and
//                          then simply compiles the source.
//   dist/NAME.cjs          a CommonJS loader: compiles the bundle with that cache and runs it.
//                          The package.json bin for agentkeep.
//   dist/agentrun          agentrun's package.json bin, a POSIX sh launcher (src/cli/agentrun.sh):
//                          it runs the Node preflight, then exec's a plain job in its own place.
//
// The cache is only ever read at run time, from the installed dist/ directory: whoever can
// write it can already rewrite the JavaScript next to it.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BINS = { agentkeep: 'src/cli/agentkeep.ts', agentrun: 'src/cli/agentrun.ts' };

// The code is compiled with V8's cached data when it matches this Node, from source otherwise.
const loader = (name) => `#!/usr/bin/env node
'use strict';
// Runs dist/${name}.bundle.cjs with the V8 code cache made at build time (scripts/build.mjs).
// The bundle gets this file's require (same directory) and the usual CommonJS wrapper;
// node:module is not loaded, it costs several milliseconds.
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const file = \`\${__dirname}/${name}.bundle.cjs\`;
let cachedData;
try { cachedData = readFileSync(\`\${file}.v8cache\`); } catch { /* no cache: compile from source */ }
const source = \`(function (exports, require, module, __filename, __dirname) { \${readFileSync(file, 'utf8')}\\n});\`;
const script = new Script(source, { filename: file, cachedData });
if (process.env.AGENTKEEP_BUILD_V8CACHE === file) {
  process.once('exit', () => writeFileSync(\`\${file}.v8cache\`, script.createCachedData()));
}
const bundle = { exports: {} };
script.runInThisContext()(bundle.exports, require, bundle, file, __dirname);
`;


// Build into a fresh directory and swap it in, so that a test run or a shell using dist/
// never sees a half-written bundle.
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const staging = `${dist}.build-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
await build({
  // Entry points are relative to the package, wherever the build is started from.
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  entryPoints: Object.fromEntries(Object.entries(BINS).map(([name, src]) => [`${name}.bundle`, src])),
  outdir: staging,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  // import() of an external package becomes require(): the loader's vm.Script has no ESM hook.
  supported: { 'dynamic-import': false },
  // Native or optional-native packages stay in node_modules.
  external: ['@napi-rs/keyring', 'ssh2', 'cpu-features'],
  // import.meta does not exist in CommonJS; the sources use only its url.
  define: { 'import.meta.url': '__ak_import_meta_url' },
  banner: { js: "const __ak_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
for (const name of Object.keys(BINS)) {
  writeFileSync(`${staging}/${name}.cjs`, loader(name), { mode: 0o755 });
  chmodSync(`${staging}/${name}.cjs`, 0o755);
}
copyFileSync(fileURLToPath(new URL('../src/cli/agentrun.sh', import.meta.url)), `${staging}/agentrun`);
chmodSync(`${staging}/agentrun`, 0o755);
warmCodeCache();

/**
 * Runs each bin once along its common path, so that V8's code cache holds every function that
 * path compiles: a login that finds the agent and its key loaded, and `agentrun true` through the
 * launcher (the preflight that plans an exec). It uses a
 * private HOME and agent, stopped by PID at the end; without OpenSSH it falls back to a run that
 * finds no agent and starts nothing.
 */
function warmCodeCache() {
  const home = mkdtempSync(join(tmpdir(), 'ak-build-'));
  const env = { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', SHELL: '/bin/sh' };
  const bin = (name) => `${staging}/${name}.cjs`;
  const run = (cmd, args, extra = {}) => spawnSync(cmd, args, { env: { ...env, ...extra }, encoding: 'utf8', timeout: 20_000 });
  const caching = (name) => ({ AGENTKEEP_BUILD_V8CACHE: `${staging}/${name}.bundle.cjs` });
  let agentPid;
  try {
    const started = run(process.execPath, [bin('agentkeep'), '--eval', '--quiet', '--noask']);
    agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout ?? '')?.[1]) || undefined;
    const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(started.stdout ?? '')?.[1];
    const keyed = sock !== undefined
      && run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, 'warm_key')]).status === 0
      && run('ssh-add', ['-q', join(home, 'warm_key')], { SSH_AUTH_SOCK: sock }).status === 0;
    if (keyed) {
      run(process.execPath, [bin('agentkeep'), '--eval', '--quiet', join(home, 'warm_key')], caching('agentkeep'));
      run(`${staging}/agentrun`, ['true'], { PATH: `${dirname(process.execPath)}:${env.PATH}`, ...caching('agentrun') });
    } else {
      run(process.execPath, [bin('agentkeep'), '--query'], { PATH: '/nonexistent', ...caching('agentkeep') });
      run(process.execPath, [bin('agentrun'), 'true'], { PATH: '/nonexistent', AGENTRUN_EXEC_PLAN_FD: '3', ...caching('agentrun') });
    }
  } finally {
    if (agentPid) {
      try { process.kill(agentPid, 'SIGTERM'); } catch { /* already gone */ }
    }
    rmSync(home, { recursive: true, force: true });
  }
}
const old = `${dist}.old-${process.pid}`;
try { renameSync(dist, old); } catch { /* first build */ }
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
