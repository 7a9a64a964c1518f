// pyc-audit channel learns each minor's final magic from the channel's own python builds: a
// python-3.15.0 build whose standard library's bytecode carries 3667 (a magic the table does not
// know as 3.15's final) makes a py315 package with 3667 OK and one with 3666 (3.15b1–rc1) STALE.
// Channels built here at test time, as folders and over HTTP, with a request log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildChannel, depends, type BuildOptions, type Layout } from './channel-builder.js';
import { condaOf, fullName, pycBytes, type Package, type PackageFile } from './package-builder.js';
import { runAsync } from './helpers.js';
import { serveFolder } from './http-server.js';
import { PythonBuilds } from '../src/channel/python-builds.js';
import { RecordSelector } from '../src/channel/repodata.js';

const MTIME = 1_700_000_000;
const SOURCE = Buffer.from('x = 1\n');

/** A source and its __pycache__ bytecode (magic given) under `dir`. */
function module(dir: string, name: string, minor: string, magic: number): PackageFile[] {
  return [
    { path: `${dir}/${name}.py`, data: SOURCE, mtime: MTIME },
    { path: `${dir}/__pycache__/${name}.cpython-${minor.replace('.', '')}.pyc`, data: pycBytes(magic, { mtime: MTIME, size: SOURCE.length }), mtime: MTIME },
  ];
}

/** A py3XX package whose one module's bytecode carries `magic`. */
function pkg(name: string, minor: string, magic: number): Package {
  return { name, version: '1.0', build: `py${minor.replace('.', '')}_0`, files: module(`lib/python${minor}/site-packages/${name}`, 'm', minor, magic), depends: depends(`py${minor.replace('.', '')}_0`) };
}

/** A conda python build: its standard library's bytecode, compiled by that interpreter, carries `magic`. */
function python(version: string, build: string, magic: number): Package {
  const minor = /^(\d+\.\d+)/.exec(version)![1]!;
  const stdlib = `lib/python${minor}`;
  return { name: 'python', version, build, files: [...module(stdlib, 'os', minor, magic), ...module(stdlib, 're', minor, magic)], depends: [] };
}

const PY315 = python('3.15.0', 'h1_0_cpython', 3667);
const PY315RC1 = python('3.15.0rc1', 'h1_0_cpython', 3666);
const OLD = pkg('old', '3.15', 3666);
const NEW = pkg('new', '3.15', 3667);
const PLAIN = pkg('plain', '3.14', 3627);
const file = (p: Package) => `${fullName(p)}.conda`;

let artifacts = '';
let root = '';
let base = '';
let close: () => Promise<void>;
const requests: string[] = [];

/** A channel folder under root/NAME of these packages (linux-64), in the forms asked for. */
function channel(name: string, packages: Package[], options: BuildOptions = { json: true }): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  const layout: Layout = { 'linux-64': packages.map(file) };
  buildChannel(dir, layout, { ...options, from: artifacts, depends: (n, b) => (n === 'python' ? [] : depends(b)) });
  return dir;
}

before(async () => {
  artifacts = mkdtempSync(join(tmpdir(), 'pyc-audit-learn-artifacts-'));
  for (const p of [PY315, PY315RC1, OLD, NEW, PLAIN]) writeFileSync(join(artifacts, file(p)), condaOf(p));
  root = mkdtempSync(join(tmpdir(), 'pyc-audit-learn-'));
  const server = await serveFolder(() => root, requests);
  base = server.base;
  close = server.close;
});

after(async () => {
  await close();
  rmSync(root, { recursive: true, force: true });
  rmSync(artifacts, { recursive: true, force: true });
});

async function channelRun(args: string[]) {
  const r = await runAsync(['channel', ...args, '--format', 'json', '--quiet']);
  assert.ok(r.code === 0 || r.code === 1 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
  const doc = r.code === 2 && !r.stdout ? { artifacts: [] } : JSON.parse(r.stdout);
  const status = Object.fromEntries((doc.artifacts as { channel: { file: string }; status: string }[]).map((a) => [a.channel.file, a.status]));
  return { ...r, status };
}

/** The artifacts (not index files) the server was asked for, each once. */
const fetched = () => [...new Set(requests.map((u) => decodeURIComponent(u).split('/').pop()!).filter((f) => /\.(conda|tar\.bz2)$/.test(f)))].sort();

test('over HTTP: the newest final python-3.15.0 is read, only it; its stdlib magic 3667 makes 3667 OK and 3666 STALE', async () => {
  channel('http', [PY315, PY315RC1, OLD, NEW, PLAIN]);
  requests.length = 0;
  const r = await channelRun([`${base}/http`, '--name', 'old,new']);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(r.status, { [file(NEW)]: 'ok', [file(OLD)]: 'stale' });
  assert.match(r.stderr, /^pyc-audit: learned 3\.15 final magic 3667 from python-3\.15\.0-h1_0_cpython\.conda \(linux-64\): the table has no 3\.15 final$/m);
  // Only the minors audited are learned: no py314 package here, so python 3.14 is not looked for.
  assert.doesNotMatch(r.stderr, /3\.14/);
  // The rc1 build (a pre-release) is never read; the final is, and only it.
  assert.deepEqual(fetched(), [file(NEW), file(OLD), file(PY315)].sort());
  const old = JSON.parse(r.stdout).artifacts.find((a: { channel: { file: string } }) => a.channel.file === file(OLD));
  assert.match(JSON.stringify(old.findings), /PYC001/);

  // --no-learn-python: the table alone (3666 is the newest known 3.15 magic, 3667 unknown); nothing of python fetched.
  requests.length = 0;
  const alone = await channelRun([`${base}/http`, '--name', 'old,new', '--no-learn-python']);
  assert.notEqual(alone.status[file(OLD)], 'stale');
  assert.notEqual(alone.status[file(NEW)], 'ok');
  assert.doesNotMatch(alone.stderr, /learned|no final python/);
  assert.deepEqual(fetched(), [file(NEW), file(OLD)].sort());
});

test('a python build that is also audited is fetched once; a minor without a final build is said, with its pre-release', async () => {
  channel('all', [PY315, PY315RC1, OLD, NEW, PLAIN]);
  requests.length = 0;
  const r = await channelRun([`${base}/all`]);
  assert.equal(r.status[file(OLD)], 'stale');
  assert.equal(r.status[file(NEW)], 'ok');
  assert.equal(r.status[file(PY315)], 'ok');
  assert.match(r.stderr, /^pyc-audit: the channel has no final python build of 3\.14: judged with the magic table$/m);
  // The python build is read as often as any other .conda of the run: once (tail, then its two tarballs).
  const count = (f: string) => requests.filter((u) => u.endsWith(`/${f}`)).length;
  assert.ok(count(file(NEW)) > 0);
  assert.equal(count(file(PY315)), count(file(NEW)), requests.join('\n'));

  channel('rconly', [PY315RC1, OLD, NEW]);
  const rc = await channelRun([join(root, 'rconly'), '--name', 'old,new']);
  assert.match(rc.stderr, /^pyc-audit: the channel has no final python build of 3\.15 \(3\.15: only python-3\.15\.0rc1-h1_0_cpython\.conda\): judged with the magic table$/m);
  assert.notEqual(rc.status[file(OLD)], 'stale');
});

test('a local channel with shards: the python shard is read for its builds though --name does not match it, and not counted', async () => {
  const dir = channel('shards', [PY315, PY315RC1, OLD, NEW, PLAIN], { shards: true });
  const r = await channelRun([dir, '--name', 'old,new']);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(r.status, { [file(NEW)]: 'ok', [file(OLD)]: 'stale' });
  assert.match(r.stderr, /: 2 of 2 artifacts selected in linux-64 \(shards: 3 of 4 names\)\n/);
  assert.match(r.stderr, /learned 3\.15 final magic 3667 from python-3\.15\.0-h1_0_cpython\.conda/);
});

test('--cache: a result judged without the learned magic is not reused once the channel has a python build; what was learned is kept', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-learn-cache-'));
  const hits = (stderr: string) => Number(/--cache: (\d+) of \d+ artifacts were already audited/.exec(stderr)?.[1] ?? NaN);
  channel('cached', [OLD, NEW]);
  const first = await channelRun([`${base}/cached`, '--cache', cache]);
  assert.equal(hits(first.stderr), 0);
  assert.notEqual(first.status[file(OLD)], 'stale');
  assert.equal(hits((await channelRun([`${base}/cached`, '--cache', cache])).stderr), 2);
  // The channel publishes its python 3.15.0: the cached verdicts were judged without it.
  channel('cached', [PY315, OLD, NEW]);
  const second = await channelRun([`${base}/cached`, '--cache', cache, '--name', 'old,new']);
  assert.equal(hits(second.stderr), 0, 'a result cached without the learned magic was reused');
  assert.deepEqual(second.status, { [file(NEW)]: 'ok', [file(OLD)]: 'stale' });
  assert.match(second.stderr, /learned 3\.15 final magic 3667 from python-3\.15\.0-h1_0_cpython\.conda \(linux-64\): the table/);
  // Unchanged channel: results and what was learned come from the cache; no artifact is fetched.
  requests.length = 0;
  const third = await channelRun([`${base}/cached`, '--cache', cache, '--name', 'old,new']);
  assert.equal(hits(third.stderr), 2);
  assert.deepEqual(third.status, second.status);
  assert.match(third.stderr, /learned 3\.15 final magic 3667 from python-3\.15\.0-h1_0_cpython\.conda \(linux-64\), kept in --cache/);
  assert.deepEqual(fetched(), []);
  // No copies left behind.
  assert.deepEqual(readdirSync(cache).filter((n) => n.startsWith('.copies-')), []);
});

test('a python build that cannot be read: one error line naming it, the audit goes on with the table, exit 2', async () => {
  const dir = channel('broken', [PY315, OLD, NEW]);
  writeFileSync(join(dir, 'linux-64', file(PY315)), Buffer.from('not a zip at all'));
  const r = await channelRun([dir, '--name', 'old,new']);
  assert.equal(r.code, 2, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => /error/.test(l));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, /^pyc-audit: error: .*\/linux-64\/python-3\.15\.0-h1_0_cpython\.conda: cannot learn 3\.15's final magic from it: .+; 3\.15 judged with the magic table$/);
  assert.notEqual(r.status[file(OLD)], 'stale');
  assert.equal(Object.keys(r.status).length, 2);
  // With --cache the copy is checked against repodata's SHA-256 before anything is read of it.
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-learn-cache-'));
  const c = await channelRun([dir, '--name', 'old,new', '--cache', cache]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /^pyc-audit: error: .*python-3\.15\.0-h1_0_cpython\.conda: cannot learn 3\.15's final magic from it: (its SHA-256 is [0-9a-f]{64}, not the [0-9a-f]{64} repodata gives|larger than the \d+ bytes repodata gives): not read; 3\.15 judged with the magic table$/m);
});

test('a python build without standard-library bytecode is a warning; one missing from the server an error naming its URL', async () => {
  const bare: Package = { ...python('3.15.0', 'h2_0_cpython', 3667), files: [{ path: 'bin/python3.15', data: Buffer.from('ELF'), mtime: MTIME }] };
  writeFileSync(join(artifacts, file(bare)), condaOf(bare));
  channel('bare', [bare, OLD, NEW]);
  const r = await channelRun([`${base}/bare`, '--name', 'old,new']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  assert.match(r.stderr, /^pyc-audit: warning: python-3\.15\.0-h2_0_cpython\.conda \(linux-64\) has no standard-library bytecode \(lib\/python3\.15\/__pycache__\/\*\.pyc\): 3\.15 judged with the magic table$/m);
  assert.notEqual(r.status[file(OLD)], 'stale');
  const dir = channel('gone', [PY315, OLD, NEW]);
  rmSync(join(dir, 'linux-64', file(PY315)));
  const gone = await channelRun([`${base}/gone`, '--name', 'old,new']);
  assert.equal(gone.code, 2, gone.stderr);
  assert.match(gone.stderr, new RegExp(`^pyc-audit: error: ${base}/gone/linux-64/python-3\\.15\\.0-h1_0_cpython\\.conda: cannot learn 3\\.15's final magic from it: HTTP 404.*; 3\\.15 judged with the magic table$`, 'm'));
  assert.equal(Object.keys(gone.status).length, 2);
});

test('precedence: learned over --magic-table; --interpreter over learned (the channel\'s python is then not read)', { skip: process.platform === 'win32' }, async () => {
  channel('precedence', [PY315, OLD, NEW]);
  const table = join(root, 'table.json');
  writeFileSync(table, JSON.stringify([{ magic: 3666, version: '3.15', releases: '3.15.0', final: true, note: 'a table that is wrong about 3.15' }]));
  const told = await channelRun([`${base}/precedence`, '--name', 'old,new', '--magic-table', table]);
  assert.deepEqual(told.status, { [file(NEW)]: 'ok', [file(OLD)]: 'stale' });
  assert.match(told.stderr, /learned 3\.15 final magic 3667 from .*: expected instead of the table's 3666/);
  // An interpreter that says it is 3.15 and writes 3666 (0x0e52).
  const py = join(root, 'python3.15');
  writeFileSync(py, `#!/bin/sh\necho '{"magic": [82, 14, 13, 10], "version_info": [3, 15, 0, "final", 0], "name": "cpython", "cache_tag": "cpython-315"}'\n`);
  chmodSync(py, 0o755);
  requests.length = 0;
  const interp = await channelRun([`${base}/precedence`, '--name', 'old,new', '--interpreter', py]);
  assert.deepEqual(interp.status, { [file(NEW)]: 'unknown-magic', [file(OLD)]: 'ok' });
  assert.doesNotMatch(interp.stderr, /learned|no final python/);
  assert.deepEqual(fetched(), [file(NEW), file(OLD)].sort());
});

test('PythonBuilds: per minor the newest final CPython build, whatever the order; pre-releases and PyPy never', () => {
  const records: [string, string, Record<string, unknown>][] = [
    ['linux-64', 'python-3.15.0rc3-h1_0_cpython.conda', { name: 'python', version: '3.15.0rc3', build: 'h1_0_cpython' }],
    ['linux-64', 'python-3.15.1-h1_0_cpython.tar.bz2', { name: 'python', version: '3.15.1', build: 'h1_0_cpython' }],
    ['linux-64', 'python-3.15.1-h1_0_cpython.conda', { name: 'python', version: '3.15.1', build: 'h1_0_cpython' }],
    ['linux-64', 'python-3.15.0-h1_0_cpython.conda', { name: 'python', version: '3.15.0', build: 'h1_0_cpython' }],
    ['linux-64', 'python-3.10.16-0_73_pypy.conda', { name: 'python', version: '3.10.16', build: '0_73_pypy' }],
    ['linux-64', 'python-3.9.2-h1_0_cpython.conda', { name: 'python', version: '3.9.2', build: 'h1_0_cpython' }],
    ['linux-64', 'python-3.9.10-h1_0_cpython.conda', { name: 'python', version: '3.9.10', build: 'h1_0_cpython' }],
    ['linux-64', 'python-dateutil-2.9.0-pyhd8ed1ab_0.conda', { name: 'python-dateutil', version: '2.9.0', build: 'pyhd8ed1ab_0' }],
    ['linux-64', 'python-3.16.0a1-h1_0_cpython.conda', { name: 'python', version: '3.16.0a1', build: 'h1_0_cpython' }],
    ['linux-64', 'python-3.16.0b2-h1_0_cpython.conda', { name: 'python', version: '3.16.0b2', build: 'h1_0_cpython' }],
  ];
  const chosen = (order: typeof records) => {
    const b = new PythonBuilds();
    for (const [s, f, r] of order) b.offer(s, f, r, null, null);
    return b.choose(['3.16', '3.9', '3.15', '3.10', '3.14']);
  };
  const expected = {
    builds: [
      { subdir: 'linux-64', file: 'python-3.9.10-h1_0_cpython.conda', sha256: null, size: null, version: '3.9.10', minor: '3.9' },
      { subdir: 'linux-64', file: 'python-3.15.1-h1_0_cpython.conda', sha256: null, size: null, version: '3.15.1', minor: '3.15' },
    ],
    missing: [
      { minor: '3.10', prerelease: null },
      { minor: '3.14', prerelease: null },
      { minor: '3.16', prerelease: 'python-3.16.0b2-h1_0_cpython.conda' },
    ],
  };
  assert.deepEqual(chosen(records), expected);
  assert.deepEqual(chosen([...records].reverse()), expected);

  // The selector notes python builds whatever --name selects, and the minors of what it selects.
  const selector = new RecordSelector({ names: ['old'], python: null, learnPython: true });
  for (const [s, f, r] of records) selector.offer(s, f, r);
  selector.offer('linux-64', 'old-1.0-py315_0.conda', { name: 'old', version: '1.0', build: 'py315_0', depends: depends('py315_0') });
  selector.offer('linux-64', 'other-1.0-py312_0.conda', { name: 'other', version: '1.0', build: 'py312_0', depends: depends('py312_0') });
  assert.deepEqual([...selector.minors], ['3.15']);
  assert.equal(selector.pythons!.choose(selector.minors).builds[0]!.file, 'python-3.15.1-h1_0_cpython.conda');
  assert.equal(selector.counts.considered, records.length + 2);
  // Without learnPython nothing is kept for it.
  const plain = new RecordSelector({ names: ['old'], python: null });
  plain.offer('linux-64', 'python-3.15.1-h1_0_cpython.conda', { name: 'python', version: '3.15.1' });
  assert.equal(plain.pythons, null);
  assert.equal(plain.wantsShard('python'), false);
  assert.equal(selector.wantsShard('python'), true);
});
