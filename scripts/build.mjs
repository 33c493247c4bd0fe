// Bundles each bin into dist/ so that the common login loads one file plus Node built-ins.
// Heavy or rarely needed modules (execa, proper-lockfile, ssh2, the keyring) are reached
// through dynamic import() and land in separate chunks that load only when used.
import { build } from 'esbuild';
import { chmodSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Build into a fresh directory and swap it in, so that a test run or a shell using dist/
// never sees a half-written bundle.
const dist = fileURLToPath(new URL('../dist', import.meta.url));
const staging = `${dist}.build-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
await build({
  entryPoints: { agentkeep: 'src/cli/agentkeep.ts', agentrun: 'src/cli/agentrun.ts' },
  outdir: staging,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native or optional-native packages stay in node_modules.
  external: ['@napi-rs/keyring', 'ssh2', 'cpu-features'],
  // Bundled CommonJS dependencies (proper-lockfile) call require() for built-ins.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __ak_cr } from 'node:module'; const require = __ak_cr(import.meta.url);" },
  logLevel: 'warning',
});
for (const bin of ['agentkeep', 'agentrun']) chmodSync(`${staging}/${bin}.mjs`, 0o755);
const old = `${dist}.old-${process.pid}`;
try { renameSync(dist, old); } catch { /* first build */ }
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
