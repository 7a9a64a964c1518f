// Folders never block, never follow a link, never read without a bound: FIFOs, links to
// /dev/zero, oversized metadata, broken conda-meta records and file names that are not UTF-8,
// each built here. Every run is bounded in time by run(), so a hang fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { displayName, readFolder } from '../src/sources/folders/folder.js';
import { fixture, run } from './helpers.js';
import { condaOf, extract, fullName, install, pycBytes, type Package } from './package-builder.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-folder-safety-'));
const mkfifo = (path: string) => execFileSync('mkfifo', [path]);
const json = (args: string[]) => {
  const r = run(['--format', 'json', ...args]);
  return { ...r, doc: JSON.parse(r.stdout) };
};

const SITE = 'lib/python3.14/site-packages/demo';
const demo = (): Package => {
  const source = Buffer.from('value = 1\n');
  return {
    name: 'demo',
    version: '1.0',
    build: 'py314_0',
    files: [
      { path: `${SITE}/__init__.py`, data: source, mtime: 1_700_000_000 },
      { path: `${SITE}/__pycache__/__init__.cpython-314.pyc`, data: pycBytes(3627, { mtime: 1_700_000_000, size: source.length }), mtime: 1_700_000_000 },
    ],
    depends: ['python_abi 3.14.* *_cp314'],
  };
};

test('a FIFO as info/index.json or info/paths.json is reported, not waited on; the .pyc are still judged', () => {
  const folder = extract(demo(), tmp());
  for (const meta of ['index.json', 'paths.json']) {
    rmSync(join(folder, 'info', meta));
    mkfifo(join(folder, 'info', meta));
  }
  const { code, doc, stderr } = json([folder]);
  assert.equal(code, 2, stderr);
  const [a] = doc.artifacts;
  assert.deepEqual(a.unreadable, ['info/index.json: not a regular file (a FIFO)', 'info/paths.json: not a regular file (a FIFO)']);
  assert.equal(a.pyc.length, 1);
  assert.equal(a.pyc[0].status, 'ok');
  assert.match(stderr, /: 2 entries could not be read: info\/index\.json: not a regular file \(a FIFO\); info\/paths\.json: not a regular file \(a FIFO\)\n$/);
});

test('a link to /dev/zero as info/paths.json is not followed; an oversized one is refused at its limit', () => {
  const folder = extract(demo(), tmp());
  rmSync(join(folder, 'info', 'paths.json'));
  symlinkSync('/dev/zero', join(folder, 'info', 'paths.json'));
  const linked = json([folder]);
  assert.equal(linked.code, 2);
  assert.deepEqual(linked.doc.artifacts[0].unreadable, ['info/paths.json: a symbolic link (not followed)']);

  rmSync(join(folder, 'info', 'paths.json'));
  writeFileSync(join(folder, 'info', 'paths.json'), '');
  truncateSync(join(folder, 'info', 'paths.json'), (64 << 20) + 1); // sparse: no disk used
  const big = json([folder]);
  assert.equal(big.code, 2);
  assert.deepEqual(big.doc.artifacts[0].unreadable, ['info/paths.json: larger than the 64 MiB this file may have']);
});

test('conda-meta: a FIFO, a malformed and an oversized record each give one error line; the other records still name owners', () => {
  const env = tmp();
  install(demo(), env, '3.14');
  mkfifo(join(env, 'conda-meta', 'fifo-1.0-0.json'));
  writeFileSync(join(env, 'conda-meta', 'broken-1.0-0.json'), '{"name": "broken", "files": [');
  writeFileSync(join(env, 'conda-meta', 'list-1.0-0.json'), '[]');
  writeFileSync(join(env, 'conda-meta', 'huge-1.0-0.json'), '');
  truncateSync(join(env, 'conda-meta', 'huge-1.0-0.json'), (64 << 20) + 1);
  const { code, doc, stderr } = json([env]);
  assert.equal(code, 2, stderr);
  const [a, part] = doc.artifacts;
  assert.equal(part.path, join(env, SITE));
  assert.deepEqual(part.unreadable, [], 'said once, with the rest of the environment');
  assert.deepEqual(
    a.unreadable.map((u: string) => u.replace(/ \(.*\)$/, '')),
    ['conda-meta/broken-1.0-0.json: not JSON', 'conda-meta/fifo-1.0-0.json: not a regular file', 'conda-meta/huge-1.0-0.json: larger than the 64 MiB this file may have', 'conda-meta/list-1.0-0.json: not a package record'],
  );
  assert.equal(part.pyc[0].owner, 'demo-1.0-py314_0');
  assert.equal(part.expected.from, 'env-python');
  assert.equal(stderr.split('\n').filter(Boolean).length, 1, 'one error line for the environment');
});

test('a .pyc that became a FIFO after the walk listed it is reported, not waited on', () => {
  const dir = tmp();
  mkdirSync(join(dir, '__pycache__'));
  mkfifo(join(dir, '__pycache__', 'x.cpython-314.pyc'));
  writeFileSync(join(dir, '__pycache__', 'y.cpython-314.pyc'), pycBytes(3627, { mtime: 0, size: 0 }));
  // The listing says "a file", as it did before the swap; the open must find out for itself.
  const { readdirSync } = fs;
  fs.readdirSync = ((...args: Parameters<typeof readdirSync>) => {
    const entries = (readdirSync as (...a: unknown[]) => fs.Dirent[])(...args);
    for (const e of entries) if (e.isFIFO()) Object.defineProperties(e, { isFile: { value: () => true }, isFIFO: { value: () => false } });
    return entries;
  }) as unknown as typeof readdirSync;
  syncBuiltinESMExports();
  let entries;
  try {
    entries = readFolder(dir, 'dir');
  } finally {
    fs.readdirSync = readdirSync;
    syncBuiltinESMExports();
  }
  assert.deepEqual(entries.unreadable, ['__pycache__/x.cpython-314.pyc: not a regular file (a FIFO)']);
  assert.deepEqual(entries.pyc.map((p) => p.path), ['__pycache__/y.cpython-314.pyc']);
});

test('a .pyc given by path that is a FIFO is refused at once; one that is missing says so', () => {
  const dir = tmp();
  mkdirSync(join(dir, '__pycache__'));
  mkfifo(join(dir, '__pycache__', 'x.cpython-314.pyc'));
  const r = run([join(dir, '__pycache__', 'x.cpython-314.pyc'), join(dir, 'gone.pyc')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /x\.cpython-314\.pyc: not a regular file \(a FIFO\)\n/);
  assert.match(r.stderr, /gone\.pyc: no such file\n/);
});

test('file names that are not UTF-8 are read, matched with their source and printed escaped', () => {
  const dir = tmp();
  const pkg = Buffer.from(join(dir, 'lib', 'python3.14', 'site-packages', 'p'));
  const source = Buffer.from('x = 1\n');
  mkdirSync(Buffer.concat([pkg, Buffer.from('/__pycache__')]), { recursive: true });
  const py = Buffer.concat([pkg, Buffer.from('/m\xff', 'latin1'), Buffer.from('.py')]);
  writeFileSync(py, source);
  utimesSync(py, 1_700_000_000, 1_700_000_000);
  writeFileSync(Buffer.concat([pkg, Buffer.from('/__pycache__/m\xff', 'latin1'), Buffer.from('.cpython-314.pyc')]), pycBytes(3626, { mtime: 1_700_000_000, size: source.length }));
  const { code, doc } = json([dir]);
  assert.equal(code, 1);
  const a = doc.artifacts[0]; // the rest of the tree holds no .pyc: no artifact
  assert.equal(a.path, join(dir, 'lib', 'python3.14', 'site-packages', 'p'));
  assert.deepEqual(a.unreadable, []);
  assert.equal(a.pyc[0].member, 'lib/python3.14/site-packages/p/__pycache__/m\\xff.cpython-314.pyc');
  assert.deepEqual(a.findings.map((f: { code: string }) => f.code), ['PYC001'], 'the source was found: no PYC201');
  assert.equal(displayName(Buffer.from('caf\xc3\xa9', 'latin1')), 'café');
  assert.equal(displayName(Buffer.from([0x61, 0xe9, 0x62])), 'a\\xe9b');
  assert.equal(displayName(Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0xc3])), '\u{1f600}\\xc3');
});

test('--max-bytes bounds the comparison with the archive beside an extracted folder', () => {
  const cache = tmp();
  const p = demo();
  extract(p, cache);
  writeFileSync(join(cache, `${fullName(p)}.conda`), condaOf(p));
  const free = json([cache]);
  assert.deepEqual(free.doc.artifacts[0].notes, [{ level: 'info', text: `read the extracted folder; ${fullName(p)}.conda beside it agrees (info/paths.json)` }]);
  const bounded = json(['--max-bytes', '100', cache]);
  assert.match(bounded.doc.artifacts[0].notes[0].text, /beside it could not be read to compare: --max-bytes reached/);
});

test('a package cache with both name.conda and name.tar.bz2: both audited, or both compared with the folder beside them', () => {
  const cache = tmp();
  const p = demo();
  const example = readFileSync(fixture('example-1.0-py314_0.conda'));
  writeFileSync(join(cache, 'example-1.0-py314_0.conda'), example);
  writeFileSync(join(cache, 'example-1.0-py314_0.tar.bz2'), readFileSync(fixture('example-1.0-py314_0.tar.bz2')));
  extract(p, cache);
  writeFileSync(join(cache, `${fullName(p)}.conda`), condaOf(p));
  writeFileSync(join(cache, `${fullName(p)}.tar.bz2`), readFileSync(fixture('example-1.0-py314_0.tar.bz2')));
  const { doc } = json([cache]);
  assert.deepEqual(
    doc.artifacts.map((a: { path: string; kind: string }) => [a.path.split('/').pop(), a.kind]),
    [
      [fullName(p), 'folder'],
      ['example-1.0-py314_0.conda', 'conda'],
      ['example-1.0-py314_0.tar.bz2', 'tar.bz2'],
    ],
  );
  const notes = (doc.artifacts[0].notes as { level: string; text: string }[]).map((n) => n.text);
  assert.equal(notes.length, 2);
  assert.equal(notes[0], `read the extracted folder; ${fullName(p)}.conda beside it agrees (info/paths.json)`);
  // The .tar.bz2 of that name holds another package: said, not dropped.
  assert.match(notes[1]!, new RegExp(`^read the extracted folder, which DISAGREES with ${fullName(p)}\\.tar\\.bz2 beside it: info/index\\.json differs`));
});

test('--hash-extracted finds a file edited in place that keeps its size; the default comparison does not read it', () => {
  const cache = tmp();
  const p = demo();
  const folder = extract(p, cache);
  writeFileSync(join(cache, `${fullName(p)}.conda`), condaOf(p));
  const py = join(folder, ...`${SITE}/__init__.py`.split('/'));
  writeFileSync(py, 'value = 2\n'); // same size
  utimesSync(py, 1_700_000_000, 1_700_000_000);
  assert.match(json([cache]).doc.artifacts[0].notes[0].text, /beside it agrees \(info\/paths\.json\)$/);
  const deep = json(['--hash-extracted', cache]).doc.artifacts[0].notes[0].text;
  assert.equal(deep, `read the extracted folder, which DISAGREES with ${fullName(p)}.conda beside it: 1 file differs (${SITE}/__init__.py) from their SHA-256 in ${fullName(p)}.conda`);
  writeFileSync(py, 'value = 22\n'); // another size: the walk sees it without hashing
  assert.match(json([cache]).doc.artifacts[0].notes[0].text, /DISAGREES .*: 1 file differs \(lib\/python3\.14\/site-packages\/demo\/__init__\.py\) in size on disk$/);
});

test('a FIFO, socket or device named *.pyc in a walked folder is reported (one line naming them, exit 2); a tree of only such entries is not a clean run', () => {
  const dir = tmp();
  mkdirSync(join(dir, '__pycache__'));
  mkfifo(join(dir, '__pycache__', 'a.cpython-314.pyc'));
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(dir, '__pycache__', 'b.cpython-314.pyc')]);
  const r = run([dir]);
  assert.equal(r.code, 2, r.stdout);
  assert.equal(
    r.stderr,
    `pyc-audit: error: ${dir}: 2 entries could not be read: __pycache__/a.cpython-314.pyc: not a regular file (a FIFO); __pycache__/b.cpython-314.pyc: not a regular file (a socket)\n`,
  );
  // Beside a good .pyc: still judged, the run still exit 2.
  writeFileSync(join(dir, '__pycache__', 'c.cpython-314.pyc'), pycBytes(3627, { mtime: 0, size: 0 }));
  const mixed = run([dir, '--format', 'json']);
  assert.equal(mixed.code, 2);
  const doc = JSON.parse(mixed.stdout);
  assert.deepEqual(doc.artifacts[0].unreadable, ['__pycache__/a.cpython-314.pyc: not a regular file (a FIFO)', '__pycache__/b.cpython-314.pyc: not a regular file (a socket)']);
  rmSync(dir, { recursive: true, force: true });
});

test('in a build folder, a link or FIFO named as an artifact is an artifact that could not be read (exit 2), not passed over; a link is not followed', () => {
  const dir = tmp();
  const build = join(dir, 'build');
  mkdirSync(build);
  writeFileSync(join(build, `${fullName(demo())}.conda`), condaOf(demo()));
  symlinkSync(fixture('example-py314rc2.conda'), join(build, 'stale-1.0-py314_0.conda')); // a stale artifact, linked
  mkfifo(join(build, 'fifo-1.0-py314_0.tar.bz2'));
  symlinkSync('loop-1.0-py314_0.conda', join(build, 'loop-1.0-py314_0.conda'));
  const notFollowed = 'a symbolic link, not followed in a folder (give its path to audit what it points to)';
  const r = json([build]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    [
      `pyc-audit: error: ${join(build, 'fifo-1.0-py314_0.tar.bz2')}: not a regular file (a FIFO)`,
      `pyc-audit: error: ${join(build, 'loop-1.0-py314_0.conda')}: ${notFollowed}`,
      `pyc-audit: error: ${join(build, 'stale-1.0-py314_0.conda')}: ${notFollowed}`,
      '',
    ].join('\n'),
  );
  const statuses = r.doc.artifacts.map((a: { path: string; status: string | null; error: string | null }) => [a.path.slice(build.length + 1), a.status ?? a.error]);
  assert.deepEqual(statuses, [
    [`${fullName(demo())}.conda`, 'ok'],
    ['fifo-1.0-py314_0.tar.bz2', 'not a regular file (a FIFO)'],
    ['loop-1.0-py314_0.conda', notFollowed],
    ['stale-1.0-py314_0.conda', notFollowed],
  ]);
  // Given by path, the link is followed and its artifact judged.
  assert.equal(run([join(build, 'stale-1.0-py314_0.conda')]).code, 1);
  rmSync(dir, { recursive: true, force: true });
});

test('a loop of symbolic links on the command line is one error line saying so; the other inputs are audited', () => {
  const dir = tmp();
  const loop = join(dir, 'loop.conda');
  symlinkSync('loop2.conda', loop);
  symlinkSync('loop.conda', join(dir, 'loop2.conda'));
  const why = `${loop}: too many levels of symbolic links (a loop)`;
  for (const args of [[loop, fixture('example-py314rc2.conda')], [fixture('example-py314rc2.conda'), loop]]) {
    const r = run(args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `pyc-audit: error: ${why}\n`);
    assert.match(r.stdout, /^STALE +\S*example-py314rc2\.conda /m);
  }
  const alone = run([loop]);
  assert.deepEqual([alone.code, alone.stderr], [2, `pyc-audit: error: ${why}\n`]);
  const baseline = run(['--baseline', loop, fixture('example-py314rc2.conda')]);
  assert.deepEqual([baseline.code, baseline.stderr], [2, `pyc-audit: error: --baseline ${why}\n`]);
  rmSync(dir, { recursive: true, force: true });
});
