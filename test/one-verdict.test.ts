// One .pyc, one verdict: the same bytes reached as a .conda, a .tar.bz2, an extracted package
// folder, a package cache, an environment, a __pycache__ folder, the .pyc files themselves and a
// `find … | xargs pyc-audit` list give every .pyc the same status and codes, and the run the same
// exit code. Packages are built here, one per case and one with every case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceHash } from '../src/judge/source-hash.js';
import { BIN, run } from './helpers.js';
import { condaOf, extract, fullName, install, pycBytes, tarBz2Of, writeFiles, type Package, type PackageFile } from './package-builder.js';

const FINAL = 3627; // 3.14.0
const RC2 = 3626; // 3.14rc2: stale for 3.14
const SITE = 'lib/python3.14/site-packages/demo';
const MTIME = 1_700_000_000;

/** One module: its source (unless `sourceless`) and its __pycache__ .pyc(s). */
function module(name: string, pyc: (source: Buffer) => { magic: number; header: Parameters<typeof pycBytes>[1] }, opts: { sourceless?: boolean; sourceMtime?: number; opt1?: boolean } = {}): PackageFile[] {
  const source = Buffer.from(`# ${name}\nvalue = ${JSON.stringify(name)}\n`);
  const { magic, header } = pyc(source);
  const files: PackageFile[] = [];
  if (!opts.sourceless) files.push({ path: `${SITE}/${name}.py`, data: source, mtime: opts.sourceMtime ?? MTIME });
  files.push({ path: `${SITE}/__pycache__/${name}.cpython-314.pyc`, data: pycBytes(magic, header), mtime: MTIME + 10 });
  if (opts.opt1) files.push({ path: `${SITE}/__pycache__/${name}.cpython-314.opt-1.pyc`, data: pycBytes(magic, header), mtime: MTIME + 10 });
  return files;
}

const timestamp = (magic: number) => (source: Buffer) => ({ magic, header: { mtime: MTIME, size: source.length } });
const hashed = (magic: number, tamper = false) => (source: Buffer) => ({
  magic,
  header: { hash: Buffer.from(sourceHash(magic, '1-3', tamper ? Buffer.concat([source, Buffer.from('#')]) : source), 'hex') },
});

const CASES: Record<string, PackageFile[]> = {
  ok: module('fresh', timestamp(FINAL), { opt1: true }),
  stale: module('old', timestamp(RC2)),
  edited: module('edited', timestamp(FINAL), { sourceMtime: MTIME + 500 }),
  'checked-hash': module('hashed', hashed(FINAL)),
  'checked-hash, source changed': module('tampered', hashed(FINAL, true)),
  sourceless: module('orphan', timestamp(FINAL), { sourceless: true }),
};
CASES['all together'] = Object.values(CASES).flat();

const pkg = (files: PackageFile[]): Package => ({
  name: 'demo',
  version: '1.0',
  build: 'py314_0',
  files: [{ path: `${SITE}/__init__.py`, data: Buffer.alloc(0), mtime: MTIME }, { path: `${SITE}/__pycache__/__init__.cpython-314.pyc`, data: pycBytes(FINAL, { mtime: MTIME, size: 0 }), mtime: MTIME }, ...files],
  depends: ['python >=3.14,<3.15.0a0', 'python_abi 3.14.* *_cp314'],
});

interface Outcome {
  code: number | null;
  /** member -> "status CODE CODE" */
  pyc: Record<string, string>;
}

function outcome(args: string[], shell?: string): Outcome {
  const r = shell
    ? (() => {
        const s = spawnSync('sh', ['-c', shell], { encoding: 'utf8', timeout: 60_000 });
        return { code: s.status, stdout: s.stdout, stderr: s.stderr };
      })()
    : run(['--format', 'json', ...args]);
  assert.ok(r.stdout.startsWith('{'), `${args.join(' ')}: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { artifacts: { error: string | null; unreadable: string[]; pyc: { member: string; status: string }[]; findings: { member: string; code: string }[] }[] };
  const pyc: Record<string, string> = {};
  for (const a of doc.artifacts) {
    assert.equal(a.error, null, `${args.join(' ')}: ${a.error}`);
    assert.deepEqual(a.unreadable, []);
    for (const p of a.pyc) {
      const codes = a.findings.filter((f) => f.member === p.member).map((f) => f.code).sort();
      pyc[p.member] = [p.status, ...codes].join(' ');
    }
  }
  return { code: r.code, pyc };
}

for (const [name, files] of Object.entries(CASES)) {
  test(`one verdict whichever way it is reached: ${name}`, () => {
    const p = pkg(files);
    const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-one-verdict-'));
    const conda = join(dir, `${fullName(p)}.conda`);
    writeFileSync(conda, condaOf(p));
    const cache = join(dir, 'pkgs');
    mkdirSync(cache);
    const folder = extract(p, cache);
    writeFileSync(join(cache, `${fullName(p)}.conda`), condaOf(p));
    const bz2 = tarBz2Of(p);
    if (bz2) {
      writeFileSync(join(dir, `${fullName(p)}.tar.bz2`), bz2);
      writeFileSync(join(cache, `${fullName(p)}.tar.bz2`), bz2);
    }
    const env = join(dir, 'env');
    install(p, env, '3.14');
    const pycs = p.files.filter((f) => f.path.endsWith('.pyc')).map((f) => join(env, ...f.path.split('/')));

    const ways: Record<string, Outcome> = {
      '.conda': outcome([conda]),
      ...(bz2 ? { '.tar.bz2': outcome([join(dir, `${fullName(p)}.tar.bz2`)]) } : {}),
      'extracted package folder': outcome([folder]),
      'package cache (folder beside its archives)': outcome([cache]),
      environment: outcome([env]),
      '__pycache__ folder': outcome([join(env, SITE, '__pycache__')]),
      'the .pyc files': outcome(pycs),
      'find | xargs': outcome([], `find ${JSON.stringify(env)} -name '*.pyc' -print0 | xargs -0 ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --format json`),
    };
    const reference = ways['.conda']!;
    assert.equal(Object.keys(reference.pyc).length, pycs.length, 'every .pyc is judged');
    for (const [way, got] of Object.entries(ways)) {
      assert.deepEqual(got.pyc, reference.pyc, `${way}: per-.pyc status and codes`);
      // xargs exits 123 when the command it ran exited 1-125: the run fails all the same.
      assert.equal(got.code, way === 'find | xargs' && reference.code === 1 ? 123 : reference.code, `${way}: exit code`);
    }
    // The property holds over real verdicts, not one answer everywhere.
    const expected: Record<string, [string, number]> = {
      ok: ['ok', 0],
      stale: ['stale PYC001', 1],
      edited: ['ok PYC101', 1],
      'checked-hash': ['ok', 0],
      'checked-hash, source changed': ['ok PYC103', 1],
      sourceless: ['ok PYC209', 0], // a __pycache__ .pyc without its source is never read: a warning
    };
    const one = expected[name];
    if (one) {
      const member = Object.keys(reference.pyc).find((m) => !m.endsWith('__init__.cpython-314.pyc'))!;
      assert.equal(reference.pyc[member], one[0]);
      assert.equal(reference.code, one[1]);
    } else {
      assert.equal(reference.code, 1);
    }
  });
}

test('a stale loose .pyc fails the run and names its source on disk; --python and the cache tag set the target', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-loose-'));
  const files = module('old', timestamp(RC2)).map((f) => ({ ...f, path: f.path.replace(`${SITE}/`, 'proj/') }));
  writeFiles(dir, files);
  const pyc = join(dir, 'proj', '__pycache__', 'old.cpython-314.pyc');
  const r = run(['--format', 'json', pyc]);
  assert.equal(r.code, 1, r.stderr);
  const a = JSON.parse(r.stdout).artifacts[0];
  assert.equal(a.kind, 'pyc');
  assert.equal(a.pyc[0].member, '__pycache__/old.cpython-314.pyc');
  assert.equal(a.expected.from, 'cache-tag');
  assert.deepEqual(a.findings.map((f: { code: string }) => f.code), ['PYC001']);
  // --python outranks the cache tag: 3.13 calls the 3.14 bytecode another version.
  const other = JSON.parse(run(['--format', 'json', '--python', '3.13', pyc]).stdout).artifacts[0];
  assert.equal(other.expected.from, 'option');
  assert.equal(other.pyc[0].status, 'wrong-version');
});
