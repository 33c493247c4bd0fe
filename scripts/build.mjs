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
//   dist/NAME.cjs          the package.json bin, a CommonJS loader: compiles the bundle with
//                          that cache and runs it.
//
// The cache is only ever read at run time, from the installed dist/ directory: whoever can
// write it can already rewrite the JavaScript next to it.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  // One run that touches the start-up path (option parsing, paths, the env-file read) in an
  // empty HOME: it finds no agent, starts nothing, and leaves the code cache behind.
  const home = mkdtempSync(join(tmpdir(), 'ak-build-'));
  try {
    spawnSync(process.execPath, [`${staging}/${name}.cjs`, ...(name === 'agentkeep' ? ['--query'] : ['true'])], {
      env: { HOME: home, PATH: '/nonexistent', AGENTKEEP_BUILD_V8CACHE: `${staging}/${name}.bundle.cjs` },
      stdio: 'ignore', timeout: 20_000,
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
const old = `${dist}.old-${process.pid}`;
try { renameSync(dist, old); } catch { /* first build */ }
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
