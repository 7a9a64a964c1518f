// How the bin starts: the bundled CLI (dist/bundle/cli.cjs, scripts/bundle.mjs) with its code cache
// (bin/load-cli.cjs), and dist/src when the bundle is missing or older than what tsc built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, closeSync, cpSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createHmac } from 'node:crypto';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { zlibHasZstd } from '../src/sources/codecs/codecs.js';
import { FIXTURES, fixture, ROOT } from './helpers.js';

const EXAMPLE = fixture('example-py314rc2.conda');
const { crc32 } = zlib;
const zstdInProcess = zlibHasZstd();

/** The bin of the checkout at `root`, with its own cache folder. */
function runAt(root: string, cache: string, args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'pyc-audit.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined, CI: undefined, PYC_AUDIT_CODE_CACHE: undefined, XDG_CACHE_HOME: cache, ...env },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const codeCaches = (cache: string) => {
  const dir = join(cache, 'pyc-audit', 'code-cache');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.v8')).map((name) => join(dir, name)) : [];
};

/** The HMAC-SHA256 a cache file starts with: of its name and data, under the folder's key. */
const macOf = (file: string, data: Buffer) => createHmac('sha256', readFileSync(join(dirname(file), 'key'))).update(basename(file)).update('\0').update(data).digest();
const macHolds = (file: string) => {
  const bytes = readFileSync(file);
  return bytes.length > 32 && macOf(file, bytes.subarray(32)).equals(bytes.subarray(0, 32));
};

function withTemp(body: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-startup-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bundle = join(ROOT, 'dist', 'bundle', 'cli.cjs');
const bundleFresh = () => existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(join(ROOT, 'dist', 'src', 'cli.js')).mtimeMs;

test('the bin runs the bundle, keeps a code cache of the run, and the next run uses it with the same result', () => {
  assert.ok(bundleFresh(), 'dist/bundle/cli.cjs is missing or older than dist/src: run `npm run build` (npm test does)');
  withTemp((cache) => {
    const first = runAt(ROOT, cache, [EXAMPLE]);
    assert.equal(first.code, 1, first.stderr);
    assert.equal(first.stderr, '');
    assert.match(first.stdout, /^STALE /);
    const files = codeCaches(cache);
    assert.equal(files.length, 1, `one cache file: ${files.join(', ')}`);
    // An audit of a few MiB of files keeps its own cache (it calls other functions).
    assert.match(files[0]!, new RegExp(`/small-${process.version.replace(/\./g, '\\.')}-${process.arch}-[0-9a-f]+-[0-9a-f]+-\\d+\\.v8$`));
    assert.ok(macHolds(files[0]!), 'the file starts with the HMAC of its name and data');
    assert.equal(statSync(files[0]!).mode & 0o777, 0o600);
    assert.equal(statSync(join(cache, 'pyc-audit', 'code-cache', 'key')).mode & 0o777, 0o600);
    const before = statSync(files[0]!).mtimeMs;
    const second = runAt(ROOT, cache, [EXAMPLE]);
    assert.deepEqual(second, first);
    // Accepted by V8, so not written again.
    assert.equal(statSync(files[0]!).mtimeMs, before);
    assert.deepEqual(codeCaches(cache), files);
    // Another kind of run keeps its own cache; --version alone loads nothing.
    assert.equal(runAt(ROOT, cache, ['rules', '--format', 'json']).code, 0);
    assert.equal(runAt(ROOT, cache, ['--version']).code, 0);
    // A folder is no small audit: it has a cache of its own.
    assert.equal(runAt(ROOT, cache, [FIXTURES]).code, 1);
    assert.deepEqual(codeCaches(cache).map((f) => f.split('/').pop()!.split('-')[0]).sort(), ['audit', 'other', 'small']);
    assert.deepEqual(runAt(ROOT, cache, [EXAMPLE]), first);
    assert.equal(statSync(files[0]!).mtimeMs, before, 'the small audit cache still accepted');
  });
});

test('a damaged or foreign code cache is not used: the run is the same and the cache is written anew', () => {
  assert.ok(bundleFresh(), 'run `npm run build`');
  withTemp((cache) => {
    const clean = runAt(ROOT, cache, [EXAMPLE, '--format', 'json']);
    const [file] = codeCaches(cache);
    assert.ok(file);
    const good = readFileSync(file);
    // Flipped bytes in the data (the CRC no longer holds), then V8 data of another script with a right CRC.
    const flipped = Buffer.from(good);
    for (let i = 100; i < flipped.length; i += 997) flipped[i] = flipped[i]! ^ 0xff;
    const foreign = Buffer.from('not a V8 code cache at all, but its CRC is right');
    const header = Buffer.alloc(4);
    header.writeUInt32LE(crc32(foreign));
    for (const damaged of [flipped, Buffer.concat([header, foreign]), Buffer.alloc(0)]) {
      writeFileSync(file, damaged);
      const r = runAt(ROOT, cache, [EXAMPLE, '--format', 'json']);
      assert.deepEqual(r, clean);
      const rewritten: Buffer = readFileSync(file);
      assert.ok(macHolds(file));
      assert.ok(rewritten.length > 1000, 'V8 data again');
    }
    // A cache file far larger than any code cache (sparse: 1 GiB of nothing) is not read at all.
    truncateSync(file, 1 << 30);
    const bin = join(ROOT, 'bin', 'pyc-audit.js');
    const script = join(cache, 'measured.mjs');
    writeFileSync(script, `process.argv = ${JSON.stringify([process.execPath, bin, EXAMPLE, '--format', 'json'])}; process.on('exit', () => process.stderr.write('maxrss ' + Math.round(process.resourceUsage().maxRSS / 1024) + '\\n')); await import(${JSON.stringify(pathToFileURL(bin).href)});`);
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined, CI: undefined, XDG_CACHE_HOME: cache } });
    assert.equal(r.stdout, clean.stdout);
    const rssMB = Number(/^maxrss (\d+)$/m.exec(r.stderr)?.[1]);
    assert.ok(rssMB < 300, `peak RSS ${rssMB} MB: the oversized cache file was read`);
    assert.ok(readFileSync(file).length < 16 << 20, 'written anew');
  });
});

/**
 * V8 data of a script as long as the bundle's wrapper whose top level prints PLANTED and exits 7:
 * what an attacker writes. V8 checks the source's length, not its text, so unguarded it runs.
 */
function plantedCode(dir: string): Buffer {
  const text = readFileSync(bundle, 'latin1');
  const length = `(function (exports, require, module, __filename, __dirname) {${text}\n})`.length;
  const head = '(function (exports, require, module, __filename, __dirname) {process.stdout.write("PLANTED\\n");process.exit(7);/*';
  const script = join(dir, 'plant.cjs');
  writeFileSync(script, `const vm = require('node:vm'); const src = ${JSON.stringify(head)} + ' '.repeat(${length} - ${head.length} - 5) + '*/\\n})'; process.stdout.write(new vm.Script(src, { filename: ${JSON.stringify(bundle)} }).createCachedData().toString('base64'));`);
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Buffer.from(r.stdout, 'base64');
}

test('a planted code cache is never run: wrong MAC (a right CRC-32 included), another owner, open to others, a link, or in CI', () => {
  assert.ok(bundleFresh(), 'run `npm run build`');
  withTemp((cache) => {
    const clean = runAt(ROOT, cache, [EXAMPLE]);
    assert.equal(clean.code, 1, clean.stderr);
    const [file] = codeCaches(cache);
    assert.ok(file);
    const code = plantedCode(cache);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(code));
    const plant = (bytes: Buffer, mode = 0o600) => {
      rmSync(file, { force: true });
      writeFileSync(file, bytes, { mode });
      chmodSync(file, mode);
    };
    const signed = () => Buffer.concat([macOf(file, code), code]);
    // The control: signed with this user's key, in this user's folder, the payload does run.
    plant(signed());
    const control = runAt(ROOT, cache, [EXAMPLE]);
    assert.deepEqual([control.code, control.stdout], [7, 'PLANTED\n'], 'the planted code is a working payload');
    // As the attacker wrote it: a CRC-32 header (what the old loader checked), or any MAC not made with the key.
    for (const bytes of [Buffer.concat([crc, code]), Buffer.concat([Buffer.alloc(32, 7), code])]) {
      plant(bytes);
      assert.deepEqual(runAt(ROOT, cache, [EXAMPLE]), clean);
      assert.ok(macHolds(file), 'replaced by a cache of its own');
    }
    // Signed right, but readable or writable by others: refused.
    plant(signed(), 0o644);
    assert.deepEqual(runAt(ROOT, cache, [EXAMPLE]), clean);
    // A link to a signed file elsewhere: not followed.
    const elsewhere = join(cache, 'elsewhere.v8');
    writeFileSync(elsewhere, signed(), { mode: 0o600 });
    rmSync(file);
    symlinkSync(elsewhere, file);
    assert.deepEqual(runAt(ROOT, cache, [EXAMPLE]), clean);
    // Restored in CI (CI=true): no cache is read or written unless PYC_AUDIT_CODE_CACHE=1 asks.
    rmSync(file, { force: true });
    plant(signed());
    assert.deepEqual(runAt(ROOT, cache, [EXAMPLE], { CI: 'true' }), clean);
    assert.deepEqual(runAt(ROOT, cache, [EXAMPLE], { PYC_AUDIT_CODE_CACHE: '0' }), clean);
    assert.equal(runAt(ROOT, cache, [EXAMPLE], { CI: 'true', PYC_AUDIT_CODE_CACHE: '1' }).stdout, 'PLANTED\n', 'asked for, the (signed) cache is used');
    // Another user's file, or a folder others can write: refused (needs root to give a file away).
    if (process.getuid?.() === 0) {
      plant(signed());
      chownSync(file, 65534, 65534);
      assert.deepEqual(runAt(ROOT, cache, [EXAMPLE]), clean);
      rmSync(file, { force: true });
      plant(signed());
      chmodSync(dirname(file), 0o777);
      assert.deepEqual(runAt(ROOT, cache, [EXAMPLE]), clean);
      chmodSync(dirname(file), 0o700);
    }
  });
});

test('no code cache with NODE_DISABLE_COMPILE_CACHE, and a cache folder that cannot be written is no error', () => {
  withTemp((dir) => {
    const cache = join(dir, 'cache');
    const r = runAt(ROOT, cache, [EXAMPLE], { NODE_DISABLE_COMPILE_CACHE: '1' });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(existsSync(cache), false);
    // XDG_CACHE_HOME is a file: nothing can be created below it.
    writeFileSync(cache, 'a file');
    const blocked = runAt(ROOT, cache, [EXAMPLE]);
    assert.equal(blocked.code, 1);
    assert.equal(blocked.stderr, '');
    assert.match(blocked.stdout, /^STALE /);
  });
});

test('an installed package runs its bundle whatever the files\' times (npm gives them the time of unpacking)', () => {
  withTemp((dir) => {
    // What the tarball holds: bin/, dist/src, dist/bundle, package.json (no src/); node_modules linked.
    const copy = join(dir, 'pkg');
    for (const part of ['bin', join('dist', 'src'), join('dist', 'bundle'), 'package.json']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const now = Date.now() / 1000;
    utimesSync(join(copy, 'dist', 'bundle', 'cli.cjs'), now - 60, now - 60);
    utimesSync(join(copy, 'dist', 'src', 'cli.js'), now, now);
    const cache = join(dir, 'cache');
    const r = runAt(copy, cache, [EXAMPLE]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(codeCaches(cache).length, 1, 'run from the bundle');
  });
});

test('in a checkout without a current bundle (missing, or older than dist/src after a bare tsc) the bin runs dist/src', () => {
  withTemp((dir) => {
    // A copy of the built checkout: bin/, src/, dist/src, dist/bundle, package.json; node_modules linked.
    const copy = join(dir, 'pkg');
    for (const part of ['bin', 'src', join('dist', 'src'), join('dist', 'bundle'), 'package.json']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const cache = join(dir, 'cache');
    const now = Date.now() / 1000;
    utimesSync(join(copy, 'dist', 'bundle', 'cli.cjs'), now - 60, now - 60);
    utimesSync(join(copy, 'dist', 'src', 'cli.js'), now, now);
    const stale = runAt(copy, cache, [EXAMPLE, '--format', 'json']);
    assert.equal(stale.code, 1, stale.stderr);
    assert.deepEqual(codeCaches(cache), [], 'dist/src ran: no bundle cache');
    assert.deepEqual(stale, runAt(ROOT, join(dir, 'other-cache'), [EXAMPLE, '--format', 'json']), 'the same report as the bundle');
    rmSync(join(copy, 'dist', 'bundle'), { recursive: true });
    assert.deepEqual(runAt(copy, cache, [EXAMPLE, '--format', 'json']), stale);
    assert.deepEqual(codeCaches(cache), []);
    // --version --verbose and a forced decoder go through the same module.
    const verbose = runAt(copy, cache, ['--version', '--verbose']);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stdout, /^pyc-audit \d+\.\d+\.\d+\nnode v/);
  });
});

test('an audit of a .conda loads neither node:tty nor node:fs/promises when stdout and stderr are not terminals, nor node:net for a stderr it does not write to', () => {
  assert.ok(bundleFresh(), 'run `npm run build`');
  withTemp((dir) => {
    const preload = join(dir, 'loaded.cjs');
    const loaded = join(dir, 'loaded.json');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(process.moduleLoadList)));`);
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, '');
    assert.equal(spawnSync(process.execPath, ['--require', preload, empty], { stdio: 'ignore' }).status, 0);
    const emptyLoads: string[] = JSON.parse(readFileSync(loaded, 'utf8'));
    const out = join(dir, 'out');
    const err = join(dir, 'err');
    for (const _ of ['without a code cache', 'with one']) {
      const stdout = openSync(out, 'w');
      const stderr = openSync(err, 'w');
      try {
        const r = spawnSync(process.execPath, ['--require', preload, join(ROOT, 'bin', 'pyc-audit.js'), EXAMPLE], {
          stdio: ['ignore', stdout, stderr],
          timeout: 60_000,
          env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined, XDG_CACHE_HOME: join(dir, 'cache') },
        });
        assert.equal(r.status, 1);
      } finally {
        closeSync(stdout);
        closeSync(stderr);
      }
      assert.match(readFileSync(out, 'utf8'), /^STALE /);
      assert.equal(readFileSync(err, 'utf8'), '');
      const modules: string[] = JSON.parse(readFileSync(loaded, 'utf8'));
      assert.ok(modules.includes('NativeModule zlib'), 'the list is of what loaded');
      // Node 20's loader of ES modules reads the bin with node:fs/promises itself.
      // node:v8 too: no V8 flags are set.
      for (const name of ['NativeModule tty', 'NativeModule internal/fs/promises', 'NativeModule v8']) assert.ok(!modules.includes(name) || emptyLoads.includes(name), `${name} loaded`);
    }
    // Nor for a folder: no V8 flags are set, whatever the audit.
    assert.equal(spawnSync(process.execPath, ['--require', preload, join(ROOT, 'bin', 'pyc-audit.js'), FIXTURES], { stdio: 'ignore', timeout: 60_000 }).status, 1);
    assert.ok(!(JSON.parse(readFileSync(loaded, 'utf8')) as string[]).includes('NativeModule v8') || emptyLoads.includes('NativeModule v8'), 'node:v8 for a folder');
    // stderr a pipe: process.stderr (a socket, node:net) is created only when a line is written to it.
    const env = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, XDG_CACHE_HOME: join(dir, 'cache') };
    for (const [inputs, line] of [[[EXAMPLE], ''], [[EXAMPLE, join(dir, 'missing.conda')], `pyc-audit: error: ${join(dir, 'missing.conda')}: no such file\n`]] as const) {
      const r = spawnSync(process.execPath, ['--require', preload, join(ROOT, 'bin', 'pyc-audit.js'), ...inputs], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, env });
      assert.equal(r.stderr, line);
      assert.equal(r.status, line ? 2 : 1);
      const modules: string[] = JSON.parse(readFileSync(loaded, 'utf8'));
      // Where zstd is a program (no sound zstd in node:zlib), child_process loads node:net for its pipes anyway.
      if (line) assert.ok(modules.includes('NativeModule net'), 'written to: created');
      else if (zstdInProcess) assert.ok(!modules.includes('NativeModule net') || emptyLoads.includes('NativeModule net'), 'node:net loaded');
    }
  });
});

const script = spawnSync('script', ['--version'], { stdio: 'ignore' }).error === undefined;

test('on a terminal the report is coloured as the terminal allows (TERM, NO_COLOR, --no-color)', { skip: script ? false : 'no script(1) to make a terminal' }, () => {
  const onTty = (env: Record<string, string | undefined>, extra = '') =>
    spawnSync('script', ['-qec', `${process.execPath} ${join(ROOT, 'bin', 'pyc-audit.js')} ${extra} ${EXAMPLE}`, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, COLORTERM: undefined, TERM_PROGRAM: undefined, ...env },
    }).stdout;
  assert.match(onTty({ TERM: 'xterm-256color' }), /^\x1b\[31mSTALE +\x1b\[39m {2}\x1b\[1m/);
  assert.match(onTty({ TERM: 'xterm' }), /^\x1b\[31mSTALE/);
  assert.doesNotMatch(onTty({ TERM: 'dumb' }), /\x1b\[/);
  assert.doesNotMatch(onTty({ TERM: 'xterm-256color', NO_COLOR: '1' }), /\x1b\[/);
  assert.doesNotMatch(onTty({ TERM: 'xterm-256color' }, '--no-color'), /\x1b\[/);
});
