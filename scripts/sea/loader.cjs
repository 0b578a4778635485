// The main script of the single executable: compiles the bundle (the SEA asset "cli.cjs") with a V8
// code cache made by running the executable at build time (scripts/build.mjs), so the functions a
// push or pull runs start as bytecode instead of being parsed and compiled on every run. Node's own
// SEA code cache covers only what V8 compiles before the script runs (the top level), ~40 ms less
// CPU per push or pull of 10 policies. `version` takes a cache of its own (one made by `version`):
// deserializing everything a push needs would double its start-up.
// Release executables carry no cache asset (V8 can only make one for its own platform, and it is
// not reproducible): they make one the first time each command runs and keep it in the user's
// cache directory (what Node's module.enableCompileCache does for files), so from the second run
// on they start as fast as an executable built on the machine. A cache V8 rejects is made again.
'use strict';
const { getAssetKeys, getRawAsset } = require('node:sea');
const vm = require('node:vm');

const argv = process.argv.slice(2);
// POLICYOCI_CODE_CACHE_TRAIN=<dir> (build time only): start from <dir>/<key> when present and
// write the cache back there at exit; POLICYOCI_CODE_CACHE_KEY names the cache being made.
const train = process.env.POLICYOCI_CODE_CACHE_TRAIN;
// push, pull and version have caches of their own (made by running just that command: each holds
// what its command compiles, and deserializing a cache costs in proportion to its size); every
// other command takes cli.cache, made by a push and a pull.
const own = { version: 'version.cache', '--version': 'version.cache', push: 'push.cache', pull: 'pull.cache' };
const cacheKey = (train && process.env.POLICYOCI_CODE_CACHE_KEY) || own[argv[0]] || 'cli.cache';
let cachedData;
let kept;
if (train) {
  try {
    cachedData = require('node:fs').readFileSync(require('node:path').join(train, cacheKey));
  } catch {
    // the first training run
  }
} else if (getAssetKeys().includes(cacheKey)) {
  cachedData = new Uint8Array(getRawAsset(cacheKey));
} else {
  kept = keptCache(/^[a-z][a-z-]{1,20}$/.test(argv[0] ?? '') ? `${argv[0]}.cache` : 'cli.cache');
  cachedData = kept?.data;
}
// The asset is the bundle already wrapped in CommonJS' function, in ASCII (scripts/build.mjs).
const script = new vm.Script(Buffer.from(getRawAsset('cli.cjs')).latin1Slice(), {
  filename: __filename,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (train) {
  process.on('exit', () => require('node:fs').writeFileSync(require('node:path').join(train, cacheKey), script.createCachedData()));
} else if (kept && (cachedData === undefined || script.cachedDataRejected)) {
  process.on('exit', () => kept.save(script.createCachedData()));
}
script.runInThisContext()(exports, require, module, __filename, __dirname);

/**
 * The code cache of one command, kept in <cache dir>/v8-code-cache/<bundle SHA-256>-<Node
 * version>/: the directory rules of src/util/cache-root.ts (POLICYOCI_CACHE_DIR, =off for none;
 * XDG_CACHE_HOME; ~/.cache). V8 checks a cache against the source's length only, so the key is the
 * bundle's hash (an asset written by the build). Saving replaces the file whole and removes the
 * caches of other builds. Any failure only means no cache.
 */
function keptCache(name) {
  try {
    const fs = require('node:fs');
    const path = require('node:path');
    const env = process.env;
    if (env.POLICYOCI_CACHE_DIR === 'off' || !getAssetKeys().includes('cli.cjs.sha256')) return undefined;
    const root = env.POLICYOCI_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(env.HOME || require('node:os').homedir(), '.cache'), 'kubectl-policyoci');
    const base = path.join(root, 'v8-code-cache');
    const build = `${Buffer.from(getRawAsset('cli.cjs.sha256')).latin1Slice()}-${process.version}`;
    const file = path.join(base, build, name);
    let data;
    try {
      data = fs.readFileSync(file);
    } catch {
      // not made yet
    }
    const save = (bytes) => {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        const partial = `${file}.${process.pid}.partial`;
        fs.writeFileSync(partial, bytes, { mode: 0o600 });
        fs.renameSync(partial, file);
        for (const other of fs.readdirSync(base)) if (other !== build) fs.rmSync(path.join(base, other), { recursive: true, force: true });
      } catch {
        // a read-only or full disk: no cache
      }
    };
    return { data, save };
  } catch {
    return undefined;
  }
}
