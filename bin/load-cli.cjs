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
// bundle or another Node never reads another's cache, and two installs do not remove each other's.
//
// V8 checks a cache's version, flags and source length, not what it holds: cached code is run as
// it is. So a cache is used only when nobody else could have written it (docs/security.md):
//   - the folders (…/pyc-audit and …/pyc-audit/code-cache) are the user's own, not links, and not
//     writable by group or others; the file likewise, opened without following a link;
//   - the file starts with an HMAC-SHA256 of its name and data under a random key of 32 bytes
//     kept in the folder (`key`, 0600), made on first use: a file not written by this user's runs
//     is never handed to V8;
//   - not in CI (CI=true), where ~/.cache is often restored from a cache others can write to,
//     unless PYC_AUDIT_CODE_CACHE=1 asks; PYC_AUDIT_CODE_CACHE=0 turns it off anywhere.
// Written to a temporary name (created, never opened through a link) and renamed: runs at once
// never see half a file.
const { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } = require('node:fs');
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
const KEY_BYTES = 32;
const MAC_BYTES = 32;
const uid = typeof process.getuid === 'function' ? process.getuid() : null;

/** Whether `stats` (of a folder or file) is this user's own and not writable by group or others. */
function ownedAndPrivate(stats) {
  return uid === null || (stats.uid === uid && (stats.mode & 0o022) === 0);
}

/** Opens an existing file without following a link; its stats; undefined unless a regular file of this user, not readable or writable by others. */
function openOwn(file) {
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
    const info = fstatSync(fd);
    if (!info.isFile() || !ownedAndPrivate(info) || (uid !== null && (info.mode & 0o077) !== 0)) {
      closeSync(fd);
      return undefined;
    }
    return { fd, info };
  } catch {
    if (fd !== undefined) closeSync(fd);
    return undefined;
  }
}

/**
 * The folder for code caches under `userCache` (made 0700 if missing), or null when it may not be
 * used: in CI unless asked, or a folder on the way that is a link, another user's, or writable by
 * group or others.
 */
exports.cacheFolder = function cacheFolder(userCache, name) {
  const asked = process.env.PYC_AUDIT_CODE_CACHE;
  if (!userCache || asked === '0' || (process.env.CI === 'true' && asked !== '1')) return null;
  const top = join(userCache, 'pyc-audit');
  const dir = join(top, name);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const d of [top, dir]) {
      const stats = lstatSync(d);
      if (!stats.isDirectory() || !ownedAndPrivate(stats)) return null;
    }
  } catch {
    return null;
  }
  return dir;
};

/** The per-user key of the cache folder: read, or made (32 random bytes, 0600) on first use; undefined when it cannot be trusted. */
function cacheKey(dir) {
  const file = join(dir, 'key');
  let opened = openOwn(file);
  if (!opened) {
    try {
      const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
      try {
        const key = require('node:crypto').randomBytes(KEY_BYTES);
        writeSync(fd, key);
        return key;
      } finally {
        closeSync(fd);
      }
    } catch {
      return undefined;
    }
  }
  try {
    if (opened.info.size !== KEY_BYTES) return undefined;
    const key = Buffer.alloc(KEY_BYTES);
    return readSync(opened.fd, key, 0, KEY_BYTES, 0) === KEY_BYTES ? key : undefined;
  } finally {
    closeSync(opened.fd);
  }
}

function mac(key, name, data) {
  return require('node:crypto').createHmac('sha256', key).update(name).update('\0').update(data).digest();
}

/** The cached data in `file` if this user's runs wrote it (owner, mode, no link, HMAC), else undefined. */
function readCache(file, key) {
  const opened = openOwn(file);
  if (!opened) return undefined;
  try {
    // A code cache of the bundle is a few MB; anything far larger is not one, and is not read.
    if (opened.info.size > MAX_CACHE_BYTES || opened.info.size <= MAC_BYTES) return undefined;
    const bytes = readFileSync(opened.fd);
    const data = bytes.subarray(MAC_BYTES);
    if (!require('node:crypto').timingSafeEqual(bytes.subarray(0, MAC_BYTES), mac(key, basename(file), data))) return undefined;
    return data;
  } catch {
    return undefined;
  } finally {
    closeSync(opened.fd);
  }
}

function writeCache(file, key, data) {
  try {
    const dir = dirname(file);
    const temporary = `${file}.${process.pid}.tmp`;
    // O_EXCL: never through a link planted at that name.
    const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    try {
      writeSync(fd, Buffer.concat([mac(key, basename(file), data), data]));
    } finally {
      closeSync(fd);
    }
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
 * `cacheDir` null: no cache; else a folder cacheFolder() returned.
 */
exports.loadBundle = function loadBundle(root, cacheDir, kind) {
  const bundle = freshBundle(root);
  if (!bundle) return null;
  const source = readFileSync(bundle);
  const key = cacheDir ? cacheKey(cacheDir) : undefined;
  const file = key && join(cacheDir, `${kind}-${process.version}-${process.arch}-${crc32(bundle).toString(16)}-${crc32(source).toString(16)}-${source.length}.v8`);
  const cachedData = file ? readCache(file, key) : undefined;
  // As Node wraps a CommonJS module. The bundle has no import() (scripts/bundle.mjs): Node 20 loses
  // a script's dynamic-import callback when the script comes from a code cache.
  // The bundle is ASCII (scripts/bundle.mjs): decoded as Latin-1, a copy, unless it is not.
  const text = isAscii(source) ? source.toString('latin1') : source.toString('utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${text}\n})`, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  const stale = file && (!cachedData || script.cachedDataRejected);
  return { exports: module.exports, saveCache: () => stale && writeCache(file, key, script.createCachedData()) };
};
