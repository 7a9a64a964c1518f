// Reader threads are chosen by what the files hold, never by their names: a .conda package renamed
// without its extension still gets them, a .tar.bz2 named .conda does not. Inputs are the fixtures,
// copied here under other names, and zips built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstd } from '../src/sources/codecs/codecs.js';
import { isCondaPackage } from '../src/sources/formats/file-kind.js';
import { zipOf } from './archives.js';
import { fixture, run } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-reader-choice-'));
// Threads are for a zstd decoder that runs on the thread that reads (fzstd here): one that runs on
// libuv's thread pool or as a program uses the other core by itself.
const THREADED = { PYC_AUDIT_THREADS_MIN_BYTES: '0', PYC_AUDIT_DEBUG: 'threads', PYC_AUDIT_ZSTD: 'js' };
const POOL_USED = /^pyc-audit: debug: \d+ artifacts read on \d+ reader threads$/m;

test('a .conda package is told by its bytes: renamed, it is one; a .tar.bz2 or another zip named .conda is not', async () => {
  const dir = tmp();
  const renamed = join(dir, 'example');
  copyFileSync(fixture('example-1.0-py314_0.conda'), renamed);
  const bzip2 = join(dir, 'example-1.0-py314_0.conda');
  copyFileSync(fixture('example-1.0-py314_0.tar.bz2'), bzip2);
  const wheel = join(dir, 'wheel-1.0-0.conda');
  writeFileSync(wheel, zipOf({ 'm/__pycache__/a.cpython-314.pyc': Buffer.alloc(16), 'metadata.json': Buffer.from('{}') }));
  // Components first, as some tools write them (metadata.json is not always the first member).
  const infoFirst = join(dir, 'info-first');
  writeFileSync(infoFirst, zipOf({ 'info-x-1.0-0.tar.zst': Buffer.alloc(8), 'pkg-x-1.0-0.tar.zst': Buffer.alloc(8), 'metadata.json': Buffer.from('{}') }));
  const pkgFirst = join(dir, 'pkg-first');
  writeFileSync(pkgFirst, zipOf({ 'pkg-x-1.0-0.tar.zst': Buffer.alloc(8) }));
  const nearMiss = join(dir, 'near-miss.conda');
  writeFileSync(nearMiss, zipOf({ 'metadata.json.orig': Buffer.from('{}') }));
  mkdirSync(join(dir, 'folder.conda'));
  writeFileSync(join(dir, 'empty.conda'), '');
  assert.equal(await isCondaPackage(fixture('example-1.0-py314_0.conda')), true);
  assert.equal(await isCondaPackage(renamed), true);
  assert.equal(await isCondaPackage(infoFirst), true);
  assert.equal(await isCondaPackage(pkgFirst), true);
  assert.equal(await isCondaPackage(bzip2), false);
  assert.equal(await isCondaPackage(wheel), false);
  assert.equal(await isCondaPackage(nearMiss), false);
  assert.equal(await isCondaPackage(join(dir, 'folder.conda')), false);
  assert.equal(await isCondaPackage(join(dir, 'empty.conda')), false);
  assert.equal(await isCondaPackage(join(dir, 'missing.conda')), false);
});

test('reader threads for .conda packages whatever their names, never for .tar.bz2 named .conda', () => {
  const dir = tmp();
  const builds = ['example-1.0-py314_0', 'mixed-1.0-py314_0', 'legacy-1.0-py36_0'];
  // .conda packages without their extension: threads, and the same report as without them.
  const unnamed = builds.map((b) => {
    copyFileSync(fixture(`${b}.conda`), join(dir, b));
    return join(dir, b);
  });
  const threaded = run(['--format', 'json', '--jobs', '2', ...unnamed], THREADED);
  assert.match(threaded.stderr, POOL_USED);
  const plain = run(['--format', 'json', '--jobs', '2', ...unnamed], { PYC_AUDIT_DEBUG: 'threads' });
  assert.doesNotMatch(plain.stderr, POOL_USED, 'no threads below the size that repays them');
  assert.equal(threaded.code, plain.code);
  assert.deepEqual(JSON.parse(threaded.stdout).artifacts, JSON.parse(plain.stdout).artifacts);
  // .tar.bz2 artifacts named .conda: their decoders are programs that use the cores by themselves.
  const misnamed = builds.map((b) => {
    copyFileSync(fixture(`${b}.tar.bz2`), join(dir, `${b}.conda`));
    return join(dir, `${b}.conda`);
  });
  const bzip2 = run(['--format', 'json', '--jobs', '2', ...misnamed], THREADED);
  assert.doesNotMatch(bzip2.stderr, POOL_USED);
  assert.equal(JSON.parse(bzip2.stdout).artifacts.length, builds.length);
  assert.ok(JSON.parse(bzip2.stdout).artifacts.every((a: { kind: string }) => a.kind === 'tar.bz2'), bzip2.stdout);
});

test('no reader threads where zstd decodes on another core by itself (libuv\'s thread pool, zstd programs)', (t) => {
  if (!zstd().offThread) return t.skip(`zstd decodes on the reading thread here (${zstd().name})`);
  const dir = tmp();
  const files = ['example-1.0-py314_0', 'mixed-1.0-py314_0', 'legacy-1.0-py36_0'].map((b) => {
    copyFileSync(fixture(`${b}.conda`), join(dir, `${b}.conda`));
    return join(dir, `${b}.conda`);
  });
  const off = run(['--format', 'json', '--jobs', '2', ...files], { PYC_AUDIT_THREADS_MIN_BYTES: '0', PYC_AUDIT_DEBUG: 'threads' });
  assert.doesNotMatch(off.stderr, POOL_USED, `${zstd().name}: no threads`);
  const threaded = run(['--format', 'json', '--jobs', '2', ...files], THREADED);
  assert.match(threaded.stderr, POOL_USED, 'fzstd: threads');
  assert.equal(off.code, threaded.code);
  assert.deepEqual(JSON.parse(off.stdout).artifacts, JSON.parse(threaded.stdout).artifacts);
});
