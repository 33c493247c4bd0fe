// Bundles each bin into dist/ so that the common login loads one file plus Node built-ins.
// Heavy or rarely needed modules (execa, proper-lockfile, ssh2, the keyring) are reached
// through dynamic import() and land in separate chunks that load only when used.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { agentkeep: 'src/cli/agentkeep.ts', agentrun: 'src/cli/agentrun.ts' },
  outdir: 'dist',
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
for (const bin of ['agentkeep', 'agentrun']) chmodSync(new URL(`../dist/${bin}.mjs`, import.meta.url), 0o755);
