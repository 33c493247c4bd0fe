// Bundles each bin into dist/ so that a login loads one file plus Node built-ins, and starts
// fast on Node 20, which has no module.enableCompileCache:
//
//   dist/NAME.bundle.cjs   the whole bin, CommonJS (Node's CJS loader starts ~5 ms sooner than
//                          its ESM loader). Modules reached through dynamic import() (ssh2,
//                          proper-lockfile, the keyring, subcommands) are wrapped by esbuild in
//                          lazy initialisers: their top level runs only when imported.
//   dist/NAME.cjs          a CommonJS loader (src/cli/load-bundle.cjs, inlined) that compiles the
//                          bundle with a per-user code cache made on the first run and used only
//                          for the exact bundle it was made from.
//                          The package.json bin for agentkeep.
//   dist/agentrun          agentrun's package.json bin, a POSIX sh launcher (src/cli/agentrun.sh):
//                          it runs the Node preflight, then exec's a plain job in its own place.
//
// No code cache is shipped: one made here would fit only this Node, and would carry this
// build directory's paths into stack traces.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BINS = { agentkeep: 'src/cli/agentkeep-bin.ts', agentrun: 'src/cli/agentrun-bin.ts' };

// The bin: a CommonJS file that runs the bundle through the loader of src/cli/load-bundle.cjs (a
// per-user code cache used only for the exact bundle it was made from), inlined rather than
// required: a second module load costs about 2 ms at every start.
const LOADER_SOURCE = readFileSync(fileURLToPath(new URL('../src/cli/load-bundle.cjs', import.meta.url)), 'utf8')
  .replace(/^'use strict';\n/, '')
  .replace(/\nmodule\.exports = loadBundle;\n$/, '\n');
if (!LOADER_SOURCE.includes('function loadBundle(')) throw new Error('src/cli/load-bundle.cjs no longer defines loadBundle');
const loader = (name) => `#!/usr/bin/env node
'use strict';
${LOADER_SOURCE}
loadBundle(\`\${__dirname}/${name}.bundle.cjs\`, '${name}', require);
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
  define: { 'import.meta.url': '__ak_import_meta.url' },
  // Made only when read: node:url costs most of a millisecond, and the hot paths never ask.
  banner: { js: "const __ak_import_meta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
  logLevel: 'warning',
});
for (const name of Object.keys(BINS)) {
  writeFileSync(`${staging}/${name}.cjs`, loader(name), { mode: 0o755 });
  chmodSync(`${staging}/${name}.cjs`, 0o755);
}
copyFileSync(fileURLToPath(new URL('../src/cli/agentrun.sh', import.meta.url)), `${staging}/agentrun`);
chmodSync(`${staging}/agentrun`, 0o755);

const old = `${dist}.old-${process.pid}`;
try { renameSync(dist, old); } catch { /* first build */ }
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
