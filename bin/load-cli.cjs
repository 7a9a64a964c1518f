'use strict';
// Loads the bundled CLI (dist/bundle/cli.cjs, built by scripts/bundle.mjs) with a V8 code cache
// taken after a run, when the functions that run has called are compiled. Node's own compile cache
// (module.enableCompileCache) is taken when a file is compiled, before anything in it runs, so it
// holds only the top level: every function of an audit was compiled again on every run
// (docs/performance.md). Node 20 has no compile cache at all; this works there too.
//
// One cache file per kind of run (an audit, a small audit, a channel, anything else), so that a first `--help`
// does not leave audits with a cache of help functions. The file name holds the Node version, the
// architecture, a CRC-32 of the bundle's path and a CRC-32 and length of its bytes, so a rebuilt
// bundle or another Node never reads another's cache, and two installs do not remove each other's; the file starts with a CRC-32 of the cached data, so a damaged file is
// never handed to V8. Written to a temporary name and renamed: runs at once never see half a file.
const { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { isAscii } = require('node:buffer');
const { basename, dirname, join } = require('node:path');
const { createRequire } = require('node:module');
const vm = require('node:vm');
const { crc32 } = require('node:zlib');

/**
 * The bundle of the package at `root`: dist/bundle/cli.cjs (built by npm run build, npm pack and
 * an install), else dist/action/cli.cjs (the GitHub Action's, committed: an action runs from its
 * checkout, unbuilt). None when there is neither, or when in a checkout (src/ is there) it is
 * older than what tsc last built (dist/src/cli.js): a `tsc` run without `npm run build` leaves
 * the bundle behind, and the bin then runs dist/src, which is current. An installed package has
 * no src/, and npm gives its files the times they were unpacked at.
 */
function freshBundle(root) {
  const bundle = ['bundle', 'action'].map((dir) => join(root, 'dist', dir, 'cli.cjs')).find((file) => statSync(file, { throwIfNoEntry: false })?.isFile());
  if (!bundle) return null;
  const built = statSync(bundle);
  const compiled = statSync(join(root, 'dist', 'src', 'cli.js'), { throwIfNoEntry: false });
  if (!compiled || compiled.mtimeMs <= built.mtimeMs) return bundle;
  return statSync(join(root, 'src'), { throwIfNoEntry: false })?.isDirectory() ? null : bundle;
}

const MAX_CACHE_BYTES = 64 << 20;

/** The cached data in `file` if it is a regular file of at most MAX_CACHE_BYTES whose CRC-32 holds, else undefined. */
function readCache(file) {
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const info = fstatSync(fd);
    // A code cache of the bundle is a few MB; anything far larger is not one, and is not read.
    if (!info.isFile() || info.size > MAX_CACHE_BYTES) return undefined;
    const bytes = readFileSync(fd);
    if (bytes.length <= 4 || bytes.readUInt32LE(0) !== crc32(bytes.subarray(4))) return undefined;
    return bytes.subarray(4);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function writeCache(file, data) {
  try {
    const dir = dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const header = Buffer.alloc(4);
    header.writeUInt32LE(crc32(data));
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, Buffer.concat([header, data]), { flag: 'wx', mode: 0o600 });
    renameSync(temporary, file);
    // Caches of earlier builds of this bundle, of this kind, for this Node: nothing reads them now.
    const prefix = basename(file).replace(/[0-9a-f]+-\d+\.v8$/, '');
    for (const name of readdirSync(dir)) {
      if (name !== basename(file) && name.startsWith(prefix) && name.endsWith('.v8')) unlinkSync(join(dir, name));
    }
  } catch {
    // A cache that cannot be written (read-only home, full disk) only means the next run compiles.
  }
}

/**
 * Runs the bundle's top level and returns its exports and a function that writes the code cache
 * if this run had none (to call once the run's work is done); null when there is no fresh bundle.
 * `cacheDir` null: no cache.
 */
exports.loadBundle = function loadBundle(root, cacheDir, kind) {
  const bundle = freshBundle(root);
  if (!bundle) return null;
  const source = readFileSync(bundle);
  const file = cacheDir && join(cacheDir, `${kind}-${process.version}-${process.arch}-${crc32(bundle).toString(16)}-${crc32(source).toString(16)}-${source.length}.v8`);
  const cachedData = file ? readCache(file) : undefined;
  // As Node wraps a CommonJS module. The bundle has no import() (scripts/bundle.mjs): Node 20 loses
  // a script's dynamic-import callback when the script comes from a code cache.
  // The bundle is ASCII (scripts/bundle.mjs): decoded as Latin-1, a copy, unless it is not.
  const text = isAscii(source) ? source.toString('latin1') : source.toString('utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${text}\n})`, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  const stale = file && (!cachedData || script.cachedDataRejected);
  return { exports: module.exports, saveCache: () => stale && writeCache(file, script.createCachedData()) };
};
