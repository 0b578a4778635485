// The main script of the single executable: compiles the bundle (the SEA asset "cli.cjs") with a V8
// code cache made by running the executable at build time (scripts/build.mjs), so the functions a
// push or pull runs start as bytecode instead of being parsed and compiled on every run. Node's own
// SEA code cache covers only what V8 compiles before the script runs (the top level), ~40 ms less
// CPU per push or pull of 10 policies. `version` takes a cache of its own (one made by `version`):
// deserializing everything a push needs would double its start-up.
// Without a cache asset (release executables: V8 can only make one for its own platform, and it is
// not reproducible) or with a cache V8 rejects, the bundle is compiled as usual.
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
if (train) {
  try {
    cachedData = require('node:fs').readFileSync(require('node:path').join(train, cacheKey));
  } catch {
    // the first training run
  }
} else if (getAssetKeys().includes(cacheKey)) {
  cachedData = new Uint8Array(getRawAsset(cacheKey));
}
// The asset is the bundle already wrapped in CommonJS' function, in ASCII (scripts/build.mjs).
const script = new vm.Script(Buffer.from(getRawAsset('cli.cjs')).latin1Slice(), {
  filename: __filename,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (train) {
  process.on('exit', () => require('node:fs').writeFileSync(require('node:path').join(train, cacheKey), script.createCachedData()));
}
script.runInThisContext()(exports, require, module, __filename, __dirname);
