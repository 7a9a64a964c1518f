// Folders: a package cache, an environment, an extracted package, any tree; walked safely.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { readFolder, walkPyc } from '../src/sources/folders/folder.js';
import { expandPaths, findPackageCaches } from '../src/sources/folders/targets.js';
import { BIN, fixture, run } from './helpers.js';

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
  assert.deepEqual(example.notes, [{ level: 'warning', text: 'read the extracted folder, which DISAGREES with example-1.0-py314_0.conda beside it: 1 file differs (lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc)' }]);
  assert.equal(example.pyc[0].magic, 3626, 'the folder holds the old rc2 build');
  assert.equal(example.status, 'stale');
  assert.deepEqual(legacy27.notes, [{ level: 'info', text: 'read the extracted folder; legacy-1.0-py27_0.conda beside it agrees (info/paths.json)' }]);
  assert.equal(hashed.kind, 'folder');
  assert.deepEqual(hashed.notes, []);
  assert.equal(hashed.expected.version, '3.13');
  assert.equal(legacy36.kind, 'tar.bz2');
  assert.equal(doc.summary.artifacts, 4);
});

test('an environment: read one installed package at a time; each .pyc attributed to the package that installed it; strays reported', () => {
  const { code, doc, stdout } = { ...json([fixture('env')]), stdout: run([fixture('env')]).stdout };
  assert.equal(code, 1);
  const site = 'lib/python3.14/site-packages';
  assert.deepEqual(
    doc.artifacts.map((a: { path: string; kind: string }) => [a.path, a.kind]),
    // The rest of the environment (no .pyc outside site-packages) is no artifact: not listed.
    ['example', 'other', 'stray'].map((d) => join(fixture('env'), site, d)).map((p) => [p, 'env']),
  );
  for (const env of doc.artifacts) {
    assert.equal(env.expected.version, '3.14');
    assert.equal(env.expected.from, 'env-python');
  }
  const pyc = doc.artifacts.flatMap((a: { pyc: object[] }) => a.pyc);
  const owners = Object.fromEntries(pyc.map((p: { member: string; owner: string | null }) => [p.member.split('/').slice(-3)[0], p.owner]));
  assert.deepEqual(owners, { example: 'example-1.0-py314_0', other: 'other-2.0-py314_0', stray: null });
  assert.deepEqual(doc.artifacts[2].notes, [{ level: 'warning', text: '1 .pyc owned by no package in conda-meta (lib/python3.14/site-packages/stray/__pycache__/left.cpython-314.pyc)' }]);
  assert.match(stdout, /error {3}PYC001 {2}lib\/python3\.14\/site-packages\/example\/__pycache__\/__init__\.cpython-314\.pyc {2}\[example-1\.0-py314_0\] {2}written by 3\.14rc2/);
  // other/ and stray/ ship a .pyc without its source: never read.
  assert.match(stdout, /warning PYC209 {2}lib\/python3\.14\/site-packages\/stray\/__pycache__\/left\.cpython-314\.pyc {2}\[no package\] {2}no lib\/python3\.14\/site-packages\/stray\/left\.py in the artifact/);
});

test('a tree of many packages is read one package at a time: memory follows the largest package, not the tree', async () => {
  const dir = tmp();
  const pyc = readFileSync(fixture('pyc', 'greeting.3.13.timestamp.pyc'));
  for (let d = 0; d < 3; d++) {
    mkdirSync(join(dir, 'lib', 'python3.13', 'site-packages', `p${d}`, '__pycache__'), { recursive: true });
    writeFileSync(join(dir, 'lib', 'python3.13', 'site-packages', `p${d}`, '__pycache__', 'm.cpython-313.pyc'), pyc);
  }
  mkdirSync(join(dir, 'lib', 'python3.13', '__pycache__'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'python3.13', '__pycache__', 'os.cpython-313.pyc'), pyc);
  const targets = await expandPaths([dir]);
  assert.deepEqual(
    targets.map((t) => [t.path, t.part?.only ?? null, t.part?.skip ?? null]),
    [
      [dir, null, ['lib/python3.13/site-packages/p0', 'lib/python3.13/site-packages/p1', 'lib/python3.13/site-packages/p2']],
      ...[0, 1, 2].map((d) => [join(dir, 'lib', 'python3.13', 'site-packages', `p${d}`), `lib/python3.13/site-packages/p${d}`, null]),
    ],
  );
  const { doc } = json([dir]);
  assert.deepEqual(
    doc.artifacts.map((a: { pyc: { member: string }[]; expected: { from: string } }) => [a.pyc.map((p) => p.member), a.expected.from]),
    [
      [['lib/python3.13/__pycache__/os.cpython-313.pyc'], 'lib-path'],
      ...[0, 1, 2].map((d) => [[`lib/python3.13/site-packages/p${d}/__pycache__/m.cpython-313.pyc`], 'lib-path']),
    ],
  );
  // A site-packages given itself is split the same way; a __pycache__ folder is one part.
  assert.equal((await expandPaths([join(dir, 'lib', 'python3.13', 'site-packages')])).length, 4);
  assert.equal((await expandPaths([join(dir, 'lib', 'python3.13', '__pycache__')])).length, 1);
});

test('any other tree: walked for .pyc, version from paths and cache tags', () => {
  const { code, doc } = json([fixture('pyc')]);
  assert.equal(code, 1, 'two 3.14 pre-release .pyc among 3.x finals, judged by their own minor');
  assert.equal(doc.artifacts[0].kind, 'dir');
  assert.equal(doc.artifacts[0].expected.from, null);
  assert.equal(doc.artifacts[0].pyc.length, readdirSync(fixture('pyc')).filter((f) => f.endsWith('.pyc')).length);
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

/** Runs the CLI with at most `fds` descriptors open (ulimit -n). */
const runLimited = (fds: number, args: string[]) =>
  spawnSync('bash', ['-c', `ulimit -n ${fds} && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args.map((a) => JSON.stringify(a)).join(' ')}`], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });

test('tens of thousands of files: all read, one file open at a time', () => {
  const pyc = readFileSync(fixture('pyc', 'greeting.3.13.timestamp.pyc'));
  const one = tmp();
  mkdirSync(join(one, 'd', '__pycache__'), { recursive: true });
  writeFileSync(join(one, 'd', '__pycache__', 'm.cpython-313.pyc'), pyc);
  // The fewest descriptors with which a walk of one file succeeds: Node's own, plus that file.
  let fds = 8;
  while (runLimited(fds, ['--format', 'json', one]).status !== 0) {
    fds++;
    assert.ok(fds < 200, 'a one-file folder needs fewer than 200 descriptors');
  }
  const many = tmp();
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(many, `d${d}`, '__pycache__'), { recursive: true });
    for (let f = 0; f < 500; f++) writeFileSync(join(many, `d${d}`, '__pycache__', `m${f}.cpython-313.pyc`), pyc);
  }
  // 20,000 files read with the descriptors one needs (and a margin for Node's module loader,
  // which opens the CLI's modules several at a time): the walk does not hold files open.
  const r = runLimited(fds + 4, ['--format', 'json', many]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).artifacts[0].pyc.length, 20_000);
  // Exactly: every descriptor the walk opens is closed before the next is opened.
  let open = 0;
  let most = 0;
  const { openSync, closeSync } = fs;
  fs.openSync = ((...args: Parameters<typeof openSync>) => {
    const fd = openSync(...args);
    most = Math.max(most, ++open);
    return fd;
  }) as typeof openSync;
  fs.closeSync = ((fd: number) => {
    open--;
    closeSync(fd);
  }) as typeof closeSync;
  syncBuiltinESMExports();
  try {
    const entries = readFolder(many, 'dir');
    assert.equal(entries.pyc.length, 20_000);
  } finally {
    fs.openSync = openSync;
    fs.closeSync = closeSync;
    syncBuiltinESMExports();
  }
  assert.equal(most, 1, 'one file open at a time');
  assert.equal(open, 0, 'every file closed');
});

test('$CONDA_PKGS_DIRS (several, comma-separated) and $MAMBA_ROOT_PREFIX/pkgs are found and audited', async () => {
  const a = tmp();
  const b = tmp();
  const mamba = tmp();
  cpSync(fixture('pkgs-cache', 'hashed-1.0-py313_0'), join(a, 'hashed-1.0-py313_0'), { recursive: true });
  cpSync(fixture('pkgs-cache', 'legacy-1.0-py36_0.tar.bz2'), join(b, 'legacy-1.0-py36_0.tar.bz2'));
  cpSync(fixture('pkgs-cache', 'example-1.0-py314_0'), join(mamba, 'pkgs', 'example-1.0-py314_0'), { recursive: true });
  const env = { HOME: tmp(), CONDA_PKGS_DIRS: `${a},${b},${join(tmp(), 'missing')}`, MAMBA_ROOT_PREFIX: mamba };
  assert.deepEqual(await findPackageCaches(env), [a, b, join(mamba, 'pkgs')]);
  const r = run(['--pkgs-cache', '--format', 'json'], { ...env, CONDA_PREFIX: undefined, XDG_CACHE_HOME: undefined, PIXI_CACHE_DIR: undefined, RATTLER_CACHE_DIR: undefined });
  assert.equal(r.stderr, `pyc-audit: scanning ${a}, ${b}, ${join(mamba, 'pkgs')}\n`);
  assert.equal(r.code, 1, 'the stale example in the mamba cache fails the run');
  assert.deepEqual(
    JSON.parse(r.stdout).artifacts.map((x: { path: string; status: string }) => [x.path, x.status]),
    [
      [join(a, 'hashed-1.0-py313_0'), 'ok'],
      [join(b, 'legacy-1.0-py36_0.tar.bz2'), 'ok'],
      [join(mamba, 'pkgs', 'example-1.0-py314_0'), 'stale'],
    ],
  );
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
  assert.match(r.stdout, /^STALE +\S*example-1\.0-py314_0 /m);
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
    assert.match(r.stderr, /: 1 entry could not be read: locked: permission denied\n$/);
    // The rest is audited: the one .pyc is judged (a warning: its source is not beside it).
    assert.match(r.stdout, /^WARNING +\S+ {2}1 pyc .*\n {2}warning PYC209 {2}ok\/__pycache__\/m\.cpython-313\.pyc /m);
  } finally {
    chmodSync(join(dir, 'locked'), 0o755);
  }
});

test('a base installation (miniforge3/): its package cache is not read as installed files; environments under envs/ are audited as environments', () => {
  const base = tmp();
  cpSync(fixture('env'), base, { recursive: true });
  // The cache holds a stale extracted package and a 2.7 one: none of it is installed here.
  cpSync(fixture('pkgs-cache'), join(base, 'pkgs'), { recursive: true });
  cpSync(fixture('env'), join(base, 'envs', 'py314'), { recursive: true });
  mkdirSync(join(base, 'envs', 'not-an-env'), { recursive: true });
  const { code, doc } = json([base]);
  assert.equal(code, 1);
  const site = 'lib/python3.14/site-packages';
  // The rest of each environment holds no .pyc: no artifact, not listed.
  const parts = (prefix: string) => ['example', 'other', 'stray'].map((d) => join(prefix, site, d));
  assert.deepEqual(
    doc.artifacts.map((a: { path: string }) => a.path),
    [...parts(base), ...parts(join(base, 'envs', 'py314'))],
  );
  const members = doc.artifacts.flatMap((a: { pyc: { member: string }[] }) => a.pyc.map((p) => p.member));
  assert.ok(!members.some((m: string) => m.startsWith('pkgs/') || m.startsWith('envs/')), members.join('\n'));
  // The base environment's python is read from its own conda-meta, not guessed from the cache's lib/python2.7.
  assert.deepEqual([...new Set(doc.artifacts.map((a: { expected: { version: string; from: string } }) => `${a.expected.version} ${a.expected.from}`))], ['3.14 env-python']);
  assert.equal(doc.artifacts[3].status, 'stale', 'the nested environment\'s stale package is found');
});

test('a local channel or build output (linux-64/, noarch/ holding archives) audits every archive in it', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'linux-64'));
  mkdirSync(join(dir, 'noarch'));
  mkdirSync(join(dir, 'src_cache'));
  cpSync(fixture('example-1.0-py314rc2_0.conda'), join(dir, 'linux-64', 'example-1.0-py314rc2_0.conda'));
  cpSync(fixture('example-1.0-py314_0.tar.bz2'), join(dir, 'linux-64', 'example-1.0-py314_0.tar.bz2'));
  cpSync(fixture('noarchpyc-1.0-pyh_0.conda'), join(dir, 'noarch', 'noarchpyc-1.0-pyh_0.conda'));
  const { code, doc } = json([dir]);
  assert.equal(code, 1, 'the stale rc2 build fails the run (it passed as a tree with no .pyc before)');
  assert.deepEqual(
    doc.artifacts.map((a: { path: string; status: string }) => [a.path.slice(dir.length + 1), a.status]),
    [
      ['linux-64/example-1.0-py314_0.tar.bz2', 'ok'],
      ['linux-64/example-1.0-py314rc2_0.conda', 'stale'],
      ['noarch/noarchpyc-1.0-pyh_0.conda', doc.artifacts[2].status],
    ],
  );
  assert.equal(doc.artifacts[2].kind, 'conda');
});

test('a collection (CI artifacts one folder per job): subfolders that are caches or channels are audited as such, the rest walked as a tree', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'job-linux'));
  mkdirSync(join(dir, 'job-noarch', 'noarch'), { recursive: true });
  mkdirSync(join(dir, 'logs', '__pycache__'), { recursive: true });
  cpSync(fixture('example-1.0-py314rc2_0.conda'), join(dir, 'job-linux', 'example-1.0-py314rc2_0.conda'));
  cpSync(fixture('noarchpyc-1.0-pyh_0.conda'), join(dir, 'job-noarch', 'noarch', 'noarchpyc-1.0-pyh_0.conda'));
  writeFileSync(join(dir, 'logs', '__pycache__', 'm.cpython-314.pyc'), readFileSync(fixture('pyc', 'greeting.3.14rc2.timestamp.pyc')));
  const { code, doc } = json([dir]);
  assert.equal(code, 1, 'the stale rc2 build fails the run (it passed as a tree with no .pyc before)');
  assert.deepEqual(
    doc.artifacts.map((a: { path: string; kind: string; pyc: { member: string }[] }) => [a.path.slice(dir.length), a.kind, a.pyc.map((p) => p.member)]),
    [
      ['', 'dir', ['logs/__pycache__/m.cpython-314.pyc']],
      ['/job-linux/example-1.0-py314rc2_0.conda', 'conda', ['lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc']],
      ['/job-noarch/noarch/noarchpyc-1.0-pyh_0.conda', 'conda', doc.artifacts[2].pyc.map((p: { member: string }) => p.member)],
    ],
  );
  assert.equal(doc.artifacts[1].status, 'stale');
});
