// Folders: a package cache, an environment, an extracted package, any tree; walked safely.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkPyc } from '../src/sources/folder.js';
import { expandPaths, findPackageCaches } from '../src/sources/targets.js';
import { BIN, CORPUS, fixture, haveCorpus, run } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-folders-'));
const json = (args: string[], env = {}) => {
  const r = run(['--format', 'json', ...args], env);
  return { ...r, doc: JSON.parse(r.stdout) };
};

test('a package cache: archives and extracted folders, one artifact per package', async () => {
  const targets = await expandPaths([fixture('pkgs-cache')]);
  assert.deepEqual(targets.map((t) => [t.path.split('/').pop(), t.kind, t.pairedArchives?.map((a) => a.split('/').pop()).join(',')]), [
    ['example-1.0-py314_0', 'folder', 'example-1.0-py314_0.conda'],
    ['hashed-1.0-py313_0', 'folder', undefined],
    ['legacy-1.0-py27_0', 'folder', 'legacy-1.0-py27_0.conda'],
    ['legacy-1.0-py36_0.tar.bz2', 'file', undefined],
  ]);
});

test('a package cache: the folder is read, the archive compared, a disagreement reported', () => {
  const { code, doc } = json([fixture('pkgs-cache')]);
  assert.equal(code, 1);
  const [example, hashed, legacy27, legacy36] = doc.artifacts;
  assert.equal(example.kind, 'folder');
  assert.deepEqual(example.notes, ['read the extracted folder, which DISAGREES with example-1.0-py314_0.conda beside it: 1 file differs (lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc)']);
  assert.equal(example.pyc[0].magic, 3626, 'the folder holds the old rc2 build');
  assert.equal(example.status, 'stale');
  assert.deepEqual(legacy27.notes, ['read the extracted folder; legacy-1.0-py27_0.conda beside it agrees (info/paths.json)']);
  assert.equal(hashed.kind, 'folder');
  assert.deepEqual(hashed.notes, []);
  assert.equal(hashed.expected.version, '3.13');
  assert.equal(legacy36.kind, 'tar.bz2');
  assert.equal(doc.summary.artifacts, 4);
});

test('an environment: each .pyc attributed to the package that installed it; strays reported', () => {
  const { code, doc, stdout } = { ...json([fixture('env')]), stdout: run([fixture('env')]).stdout };
  assert.equal(code, 1);
  const env = doc.artifacts[0];
  assert.equal(env.kind, 'env');
  assert.equal(env.expected.version, '3.14');
  assert.equal(env.expected.from, 'env-python');
  const owners = Object.fromEntries(env.pyc.map((p: { member: string; owner: string | null }) => [p.member.split('/').slice(-3)[0], p.owner]));
  assert.deepEqual(owners, { example: 'example-1.0-py314_0', other: 'other-2.0-py314_0', stray: null });
  assert.match(env.notes[0], /^1 \.pyc owned by no package in conda-meta \(lib\/python3\.14\/site-packages\/stray\/__pycache__\/left\.cpython-314\.pyc\)$/);
  assert.match(stdout, /error {3}PYC001 {2}lib\/python3\.14\/site-packages\/example\/__pycache__\/__init__\.cpython-314\.pyc {2}\[example-1\.0-py314_0\] {2}written by 3\.14rc2/);
  // other/ and stray/ ship a .pyc without its source: never read.
  assert.match(stdout, /info {4}PYC201 {2}lib\/python3\.14\/site-packages\/stray\/__pycache__\/left\.cpython-314\.pyc {2}\[no package\] {2}no lib\/python3\.14\/site-packages\/stray\/left\.py in the artifact/);
});

test('any other tree: walked for .pyc, version from paths and cache tags', { skip: haveCorpus ? false : 'no corpus' }, () => {
  const { code, doc } = json([join(CORPUS, 'pyc')]);
  assert.equal(code, 0);
  assert.equal(doc.artifacts[0].kind, 'dir');
  assert.equal(doc.artifacts[0].pyc.length, 156);
  const dir = tmp();
  mkdirSync(join(dir, 'lib', 'python3.14', 'site-packages', '__pycache__'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'python3.14', 'site-packages', '__pycache__', 'm.cpython-314.pyc'), readFileSync(fixture('pyc', 'greeting.3.14rc2.timestamp.pyc')));
  const prefix = json([dir]).doc.artifacts[0];
  assert.equal(prefix.expected.from, 'lib-path');
  assert.equal(prefix.pyc[0].status, 'stale');
});

test('symbolic link loops are not followed; every real .pyc is read once', async () => {
  const dir = tmp();
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'b', 'x.cpython-313.pyc'), readFileSync(fixture('pyc', 'greeting.3.13.timestamp.pyc')));
  symlinkSync(dir, join(dir, 'a', 'b', 'loop'));
  symlinkSync('..', join(dir, 'a', 'up'));
  symlinkSync(join(dir, 'a', 'b', 'x.cpython-313.pyc'), join(dir, 'link.cpython-313.pyc'));
  const walked = await walkPyc(dir);
  assert.deepEqual(walked.pyc, ['a/b/x.cpython-313.pyc']);
  const r = run([dir]);
  assert.equal(r.code, 0, r.stderr);
});

test('tens of thousands of files: all read, with a bounded number open at once', () => {
  const dir = tmp();
  const pyc = readFileSync(fixture('pyc', 'greeting.3.13.timestamp.pyc'));
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(dir, `d${d}`, '__pycache__'), { recursive: true });
    for (let f = 0; f < 500; f++) writeFileSync(join(dir, `d${d}`, '__pycache__', `m${f}.cpython-313.pyc`), pyc);
  }
  // At most 128 files open: more than the walk's 32 plus Node's own, far fewer than 20,000.
  const r = spawnSync('bash', ['-c', `ulimit -n 128 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --format json ${JSON.stringify(dir)}`], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).artifacts[0].pyc.length, 20_000);
});

test('--pkgs-cache finds the usual caches and says which it scanned', async () => {
  const home = tmp();
  cpSync(fixture('pkgs-cache'), join(home, 'miniforge3', 'pkgs'), { recursive: true });
  mkdirSync(join(home, '.conda', 'pkgs'), { recursive: true });
  const env = { HOME: home, CONDA_PKGS_DIRS: undefined, MAMBA_ROOT_PREFIX: undefined, CONDA_PREFIX: undefined, XDG_CACHE_HOME: undefined, PIXI_CACHE_DIR: undefined, RATTLER_CACHE_DIR: undefined };
  assert.deepEqual(await findPackageCaches({ HOME: home }), [join(home, 'miniforge3', 'pkgs'), join(home, '.conda', 'pkgs')]);
  const r = run(['--pkgs-cache'], env);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `pyc-audit: scanning ${join(home, 'miniforge3', 'pkgs')}, ${join(home, '.conda', 'pkgs')}\n`);
  assert.match(r.stdout, /example-1\.0-py314_0 .* STALE/);
  const none = run(['--pkgs-cache'], { ...env, HOME: tmp() });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^pyc-audit: error: --pkgs-cache: no package cache found/);
});

const root = process.getuid?.() === 0;
test('an unreadable folder entry is reported (exit 2) after the rest is audited', { skip: root ? 'permissions do not bind root' : false }, () => {
  const dir = tmp();
  mkdirSync(join(dir, 'ok', '__pycache__'), { recursive: true });
  writeFileSync(join(dir, 'ok', '__pycache__', 'm.cpython-313.pyc'), readFileSync(fixture('pyc', 'greeting.3.13.timestamp.pyc')));
  mkdirSync(join(dir, 'locked'));
  chmodSync(join(dir, 'locked'), 0o000);
  try {
    const r = run([dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /: 1 entry could not be read: locked: EACCES\n$/);
    assert.match(r.stdout, /1 pyc .* OK/);
  } finally {
    chmodSync(join(dir, 'locked'), 0o755);
  }
});
