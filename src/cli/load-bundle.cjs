'use strict';
// Runs a bundle (dist/NAME.bundle.cjs) with a code cache that can never be stale, made on the
// first run, for this user, in $XDG_CACHE_HOME/agentkeep or ~/.cache/agentkeep, only in a
// directory of the user's own with mode 0700, and never shipped; anything else runs without a
// cache. AGENTKEEP_NO_CODE_CACHE=1 turns it off.
//
// Where Node has its own compile cache (module.enableCompileCache, Node 22.1 and later), that is
// used: it keys the cache by a hash of the source and Node's version. Node 20 has none, and V8
// checks a cache against its source only by length: a bundle edited to the same length would
// silently run the old code. So there the cache file holds an exact copy of the bundle it was
// compiled from, and the key of the Node that made it (version, architecture, V8 flags); it is
// used only when both equal the running ones byte for byte (a memcmp, far cheaper than hashing).
// On Node 20 node:module is not loaded: it costs several milliseconds and has no cache to give.
const fs = require('node:fs');
const { Script } = require('node:vm');

const MAGIC = 'AKCC2\n';
// A cache holds only the functions its run compiled: the first few runs that do real work each
// make it again from what they ran (the cached functions and their own), so that it comes to
// cover the paths this user takes (the first login starts the agent; later ones find it).
const GROWING_RUNS = 3;
const uid = typeof process.getuid === 'function' ? process.getuid() : -1;

/** True when `path` is ours: a directory of mode 0700, or a regular file nobody else may write. */
function ours(path, directory) {
  try {
    const st = fs.lstatSync(path);
    if (st.uid !== uid) return false;
    return directory ? st.isDirectory() && (st.mode & 0o077) === 0 : st.isFile() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** True when `path` is a directory (not a link) owned by us, whatever its mode. */
function ownDirectory(path) {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory() && st.uid === uid;
}

/**
 * The per-user cache directory, or undefined: $XDG_CACHE_HOME/agentkeep or ~/.cache/agentkeep,
 * only under a directory of ours, so that nothing is ever created in another user's home (sudo
 * that kept HOME; agentkeep refuses that HOME anyway).
 */
function cacheDir(env) {
  if (env.AGENTKEEP_NO_CODE_CACHE === '1' || uid < 0) return undefined;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && xdg.startsWith('/')) return ownDirectory(xdg) ? `${xdg}/agentkeep` : undefined;
  const home = env.HOME;
  return home && home.startsWith('/') && ownDirectory(home) ? `${home}/.cache/agentkeep` : undefined;
}

/** A short tag for where the bundle is installed (FNV-1a of its path), so that two installs keep a cache each. */
function pathTag(file) {
  let h = 0x811c9dc5;
  for (let i = 0; i < file.length; i++) h = Math.imul(h ^ file.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** What the cache must have been made with: this Node, this architecture, these V8 flags. */
function nodeKey(env) {
  return `${process.version} ${process.arch} ${process.execArgv.join(' ')} ${env.NODE_OPTIONS || ''}`.replace(/\n/g, ' ');
}

/** The cached data for `bundle` from `path` and how many runs made it, when the file is ours and was made from exactly this bundle by this Node. */
function readCache(path, bundle, key) {
  if (!ours(path, false)) return undefined;
  let data;
  try {
    data = fs.readFileSync(path);
  } catch {
    return undefined;
  }
  const prefix = `${MAGIC}${key}\n`;
  const runsAt = Buffer.byteLength(prefix);
  const runs = data[runsAt] - 0x30;
  const header = `${prefix}${runs}\n${bundle.length}\n`;
  const start = Buffer.byteLength(header);
  if (!(runs >= 1 && runs <= 9) || data.length < start + bundle.length || data.toString('utf8', 0, start) !== header) return undefined;
  if (!data.subarray(start, start + bundle.length).equals(bundle)) return undefined;
  return { data: data.subarray(start + bundle.length), runs };
}

/** Writes the cache atomically (temporary file, rename) into a directory of ours; any failure leaves no cache. */
function writeCache(dir, path, bundle, key, runs, cachedData) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!ours(dir, true)) return;
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      fs.writeSync(fd, `${MAGIC}${key}\n${runs}\n${bundle.length}\n`);
      fs.writeSync(fd, bundle);
      fs.writeSync(fd, cachedData);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch {
    /* no cache this time: the next run compiles from source again */
  }
}

/**
 * True for a run that takes none of the hot paths (help, version, a subcommand): such a run
 * neither makes nor remakes the cache, which would otherwise hold only its own few functions and
 * leave every login compiling the rest.
 */
function incidentalRun(args) {
  if (/^(hook|doctor|passphrase|authorize)$/.test(args[0] || '')) return true;
  for (const arg of args) {
    if (arg === '--') return false;
    if (/^(-h|--help|-V|--version)$/.test(arg)) return true;
    if (!arg.startsWith('-')) return false;
  }
  return false;
}

/** Node 22.1 and later: Node's own compile cache in `dir` (made 0700 and checked to be ours first), then the bundle as a module. */
function loadWithNodeCache(dir, file, requireFromBin) {
  const { enableCompileCache } = require('node:module');
  if (typeof enableCompileCache !== 'function') return false;
  if (dir !== undefined) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (ours(dir, true)) enableCompileCache(`${dir}/node-compile-cache`);
    } catch {
      /* no cache this time */
    }
  }
  requireFromBin(file);
  return true;
}

/** Compiles and runs the bundle at `file` as a CommonJS module with the given `require`. */
function loadBundle(file, name, requireFromBin) {
  const dir = cacheDir(process.env);
  // node:module is loaded only where it can help: Node 20 would pay for it and find nothing.
  if (Number(process.versions.node.split('.')[0]) >= 22 && loadWithNodeCache(dir, file, requireFromBin)) return;
  const bundle = fs.readFileSync(file);
  const key = nodeKey(process.env);
  const path = dir === undefined ? undefined : `${dir}/${name}-${process.version}-${process.arch}-${pathTag(file)}.v8cache`;
  const cache = path === undefined ? undefined : readCache(path, bundle, key);
  const source = `(function (exports, require, module, __filename, __dirname) { ${bundle.toString('utf8')}\n});`;
  const script = new Script(source, { filename: file, cachedData: cache?.data });
  const runs = cache === undefined || script.cachedDataRejected ? 0 : cache.runs;
  if (path !== undefined && runs < GROWING_RUNS && !incidentalRun(process.argv.slice(2))) {
    // Made at exit, so that it holds every function this run compiled.
    process.once('exit', () => writeCache(dir, path, bundle, key, runs + 1, script.createCachedData()));
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, requireFromBin, module, file, file.slice(0, file.lastIndexOf('/')));
}

// scripts/build.mjs inlines this file into each dist/NAME.cjs (one module load fewer at every start).
module.exports = loadBundle;
