// The rules beyond the magic, in process: packages built here (a .conda of zstd tars, a wheel),
// read by the real readers, judged and checked; findings, severities, causes and the impact
// asserted one rule at a time. The CLI's view of the same rules is checks.test.ts and rules.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditArtifact } from '../src/run/audit-artifact.js';
import { checkArtifact, describeImpact, hashRoundsFor, isInstalled, placeholderPaths, ZIP_EPOCH, type Finding } from '../src/judge/checks.js';
import { MagicTable } from '../src/magic/table.js';
import { sourceHash } from '../src/judge/source-hash.js';
import { hashKey } from '../src/sources/formats/tar-members.js';
import { judgePyc } from '../src/judge/verdict.js';
import { zipOf, zstdFrame } from './archives.js';
import { pycBytes, tarOf, type PackageFile } from './package-builder.js';

const table = MagicTable.builtIn();
const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-check-rules-'));
const MTIME = 1_700_000_000;
const SP = 'lib/python3.13/site-packages';
const M313 = 3571; // 3.13 final
const SOURCE = Buffer.from('def greet(name):\n    return f"hello {name}"\n');

const file = (path: string, data: Buffer, mtime = MTIME): PackageFile => ({ path, data, mtime });
const py = (path: string, data = SOURCE, mtime = MTIME) => file(path, data, mtime);
/** A timestamp .pyc that matches `source` (mtime and size) unless told otherwise. */
const tsPyc = (path: string, magic = M313, header: { mtime?: number; size?: number } = {}) =>
  file(path, pycBytes(magic, { mtime: header.mtime ?? MTIME, size: header.size ?? SOURCE.length }));
/** A .pyc of the 8-byte (before 3.3) or 12-byte (3.3-3.6) era: magic, mtime, and the size if 12. */
const oldPyc = (path: string, magic: number, mtime: number, size?: number) => {
  const b = Buffer.alloc(size === undefined ? 8 : 12);
  b.writeUInt16LE(magic, 0);
  b.write('\r\n', 2, 'latin1');
  b.writeUInt32LE(mtime, 4);
  if (size !== undefined) b.writeUInt32LE(size, 8);
  return file(path, Buffer.concat([b, Buffer.from([0x63]), Buffer.alloc(20)]));
};
const hashPyc = (path: string, magic: number, hash: Buffer, checked: boolean) => {
  const b = pycBytes(magic, { hash });
  b.writeUInt32LE(checked ? 3 : 1, 4);
  return file(path, b);
};

let n = 0;
/** A .conda of `files` with this index.json (and a paths.json when given), written to disk. */
function conda(files: PackageFile[], index: Record<string, unknown> = {}, pathsJson?: unknown): string {
  const name = `pkg-1.0-py313_${n++}`;
  const info = [file('info/index.json', Buffer.from(JSON.stringify({ name: 'pkg', version: '1.0', build: 'py313_0', depends: ['python >=3.13,<3.14.0a0'], ...index })))];
  if (pathsJson !== undefined) info.push(file('info/paths.json', Buffer.from(JSON.stringify(pathsJson))));
  const bytes = zipOf([
    { name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') },
    { name: `info-${name}.tar.zst`, data: zstdFrame(tarOf(info.concat(files.filter((f) => f.path.startsWith('info/'))))) },
    { name: `pkg-${name}.tar.zst`, data: zstdFrame(tarOf(files.filter((f) => !f.path.startsWith('info/')))) },
  ]);
  const path = join(dir, `${name}.conda`);
  writeFileSync(path, bytes);
  return path;
}

async function audit(path: string, python?: string) {
  const r = await auditArtifact(path, { table, python: python ?? null });
  assert.equal(r.error, null, r.error ?? '');
  return r;
}
const brief = (fs: Finding[]) => fs.map((f) => `${f.code} ${f.severity} ${f.member}`);
const only = (fs: Finding[], code: string) => {
  const found = fs.filter((f) => f.code === code);
  assert.equal(found.length, 1, `one ${code} in ${JSON.stringify(brief(fs))}`);
  return found[0]!;
};

test('a consistent package has no findings and no impact', async () => {
  const r = await audit(conda([py(`${SP}/m.py`), tsPyc(`${SP}/__pycache__/m.cpython-313.pyc`)]));
  assert.deepEqual(r.findings, []);
  assert.deepEqual(r.impact, { modules: 0, sourceBytes: 0 });
});

test('placement: info/ (PYC205), another cache tag (PYC203), no source (PYC209), a legacy .pyc beside its source (PYC207)', async () => {
  const r = await audit(
    conda([
      py(`${SP}/a.py`),
      tsPyc(`${SP}/__pycache__/a.cpython-312.pyc`, 3531),
      tsPyc(`${SP}/__pycache__/gone.cpython-313.pyc`),
      py(`${SP}/b.py`),
      tsPyc(`${SP}/b.pyc`),
      tsPyc(`${SP}/__pycache__/b.cpython-313.pyc`),
      tsPyc('info/test/__pycache__/run_test.cpython-313.pyc'),
    ]),
  );
  // errors first, then by member
  assert.deepEqual(brief(r.findings), [
    `PYC202 error ${SP}/a.py`,
    'PYC205 warning info/test/__pycache__/run_test.cpython-313.pyc',
    `PYC203 warning ${SP}/__pycache__/a.cpython-312.pyc`,
    `PYC209 warning ${SP}/__pycache__/gone.cpython-313.pyc`,
    `PYC207 warning ${SP}/b.pyc`,
  ]);
  assert.equal(only(r.findings, 'PYC203').message, 'cache tag cpython-312 in a package for 3.13 (which reads cpython-313): never read');
  assert.equal(only(r.findings, 'PYC209').message, 'no lib/python3.13/site-packages/gone.py in the artifact: a __pycache__ .pyc is only read beside its source, so this one never is');
  assert.equal(only(r.findings, 'PYC209').cause, 'no source in the artifact: a __pycache__ .pyc is only read beside its source, so these never are');
  assert.equal(only(r.findings, 'PYC207').message, '3.13 reads __pycache__/, not a .pyc beside its source: never read');
  assert.equal(only(r.findings, 'PYC205').message, 'conda never installs info/: dead weight in the package');
  // a.py has only a .pyc of another tag: compiled at first import (PYC202), with b.py's fine one not
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: SOURCE.length });
});

test('PYC205 alone: a stale .pyc under info/ says nothing of its magic', async () => {
  const r = await audit(conda([py(`${SP}/m.py`), tsPyc(`${SP}/__pycache__/m.cpython-313.pyc`), tsPyc('info/x/__pycache__/t.cpython-313.pyc', 3531)]));
  assert.deepEqual(brief(r.findings), ['PYC205 warning info/x/__pycache__/t.cpython-313.pyc']);
});

test('noarch: python: every shipped .pyc is PYC204, and no PYC202 for its sources', async () => {
  const r = await audit(
    conda([py('site-packages/m.py'), py('site-packages/n.py'), tsPyc('site-packages/__pycache__/m.cpython-313.pyc', 3531)], { noarch: 'python', depends: ['python >=3.8'], build: 'pyh_0' }),
    '3.13',
  );
  assert.deepEqual(brief(r.findings), ['PYC204 warning site-packages/__pycache__/m.cpython-313.pyc']);
  assert.equal(r.findings[0]!.message, 'noarch: python packages are compiled at install for the Python there; a shipped .pyc fits at most one');
  assert.deepEqual(r.impact, { modules: 0, sourceBytes: 0 });
});

test('Python 2: a __pycache__ .pyc is never read (PYC208); a legacy one beside its source is the one checked', async () => {
  const lib = 'lib/python2.7/site-packages';
  const r = await audit(
    conda([py(`${lib}/m.py`), oldPyc(`${lib}/m.pyc`, 62211, MTIME), oldPyc(`${lib}/__pycache__/m.cpython-27.pyc`, 62211, 1), py(`${lib}/n.py`)], { depends: ['python >=2.7,<2.8.0a0'], build: 'py27_0' }),
  );
  assert.equal(r.expected?.version, '2.7');
  assert.deepEqual(brief(r.findings), [`PYC202 error ${lib}/n.py`, `PYC208 warning ${lib}/__pycache__/m.cpython-27.pyc`]);
  assert.equal(only(r.findings, 'PYC208').message, '2.7 reads a .pyc beside its source, not __pycache__/: never read');
  assert.equal(only(r.findings, 'PYC202').message, `no ${lib}/n.pyc: compiled at first import`);
  assert.equal(only(r.findings, 'PYC202').cause, 'no x.pyc beside x.py for 2.7: compiled at first import');
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: SOURCE.length });
});

test('the magic: a rejected one ends the checks of its .pyc; a legacy one without a source says importing fails', async () => {
  const r = await audit(
    conda([
      py(`${SP}/m.py`),
      tsPyc(`${SP}/__pycache__/m.cpython-313.pyc`, 3570, { mtime: 1 }), // a 3.13 pre-release magic: stale, mtime never looked at
      tsPyc(`${SP}/lone.pyc`, 3531), // 3.12 bytecode, no source
      tsPyc(`${SP}/fine.pyc`), // sourceless but loadable
    ]),
  );
  assert.deepEqual(brief(r.findings), [`PYC001 error ${SP}/__pycache__/m.cpython-313.pyc`, `PYC002 error ${SP}/lone.pyc`, `PYC201 info ${SP}/fine.pyc`]);
  assert.match(only(r.findings, 'PYC002').message, /; no source beside it, so importing it fails$/);
  assert.doesNotMatch(only(r.findings, 'PYC001').message, /importing it fails/);
  assert.equal(only(r.findings, 'PYC201').message, 'sourceless module: imported from this .pyc as it is (no source in the artifact)');
  // m.py's default .pyc is unusable: compiled at first import; lone.pyc has no source to compile
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: SOURCE.length });
});

test('a superseded magic (PYC006) is still checked against its source', async () => {
  const lib = 'lib/python3.5/site-packages';
  const r = await audit(conda([py(`${lib}/m.py`), oldPyc(`${lib}/__pycache__/m.cpython-35.pyc`, 3350, MTIME, 5)], { depends: ['python >=3.5,<3.6.0a0'], build: 'py35_0' }));
  assert.deepEqual(r.findings.map((f) => f.code).sort(), ['PYC006', 'PYC102']);
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: SOURCE.length });
});

test('timestamps: PYC101 (mtime), PYC102 (size); one mtime on every .py is the cause they share', async () => {
  const r = await audit(
    conda([
      py(`${SP}/a.py`),
      tsPyc(`${SP}/__pycache__/a.cpython-313.pyc`, M313, { mtime: MTIME - 3600 }),
      py(`${SP}/b.py`),
      tsPyc(`${SP}/__pycache__/b.cpython-313.pyc`, M313, { size: SOURCE.length + 2 ** 32 + 1 }),
      py(`${SP}/c.py`),
      tsPyc(`${SP}/__pycache__/c.cpython-313.pyc`, M313, { size: SOURCE.length + 2 ** 32 }), // size mod 2**32: matches
    ]),
  );
  assert.deepEqual(brief(r.findings), [`PYC101 error ${SP}/__pycache__/a.cpython-313.pyc`, `PYC102 error ${SP}/__pycache__/b.cpython-313.pyc`]);
  const mtime = only(r.findings, 'PYC101');
  assert.equal(mtime.message, `header says the source was modified at ${MTIME - 3600} (2023-11-14T21:13:20Z), ${SP}/a.py at ${MTIME} (2023-11-14T22:13:20Z)`);
  assert.equal(mtime.cause, 'every .py has mtime 2023-11-14T22:13:20Z, the headers their compile time');
  assert.equal(only(r.findings, 'PYC102').message, `header says the source is ${SOURCE.length + 1} bytes, ${SP}/b.py is ${SOURCE.length}`);
  assert.deepEqual(r.impact, { modules: 2, sourceBytes: 2 * SOURCE.length });
});

test('PYC101 with sources of different mtimes: each finding is its own cause', async () => {
  const r = await audit(conda([py(`${SP}/a.py`, SOURCE, MTIME + 7), tsPyc(`${SP}/__pycache__/a.cpython-313.pyc`), py(`${SP}/b.py`, SOURCE, MTIME + 9), tsPyc(`${SP}/__pycache__/b.cpython-313.pyc`)]));
  assert.deepEqual(r.findings.map((f) => f.code), ['PYC101', 'PYC101']);
  for (const f of r.findings) assert.equal(f.cause, f.message);
  // one source alone is no pattern either
  const one = await audit(conda([py(`${SP}/a.py`, SOURCE, MTIME + 7), tsPyc(`${SP}/__pycache__/a.cpython-313.pyc`)]));
  assert.equal(one.findings[0]!.cause, one.findings[0]!.message);
});

test('hash-based .pyc: PYC103 for a hash that differs, nothing for one that matches, PYC104 for unchecked', async () => {
  const good = Buffer.from(sourceHash(M313, '1-3', SOURCE), 'hex');
  const r = await audit(
    conda([
      py(`${SP}/ok.py`),
      hashPyc(`${SP}/__pycache__/ok.cpython-313.pyc`, M313, good, true),
      py(`${SP}/bad.py`, Buffer.from('print(1)\n')),
      hashPyc(`${SP}/__pycache__/bad.cpython-313.pyc`, M313, good, true),
      py(`${SP}/u.py`),
      hashPyc(`${SP}/__pycache__/u.cpython-313.pyc`, M313, Buffer.alloc(8), false),
    ]),
  );
  assert.deepEqual(brief(r.findings), [`PYC103 error ${SP}/__pycache__/bad.cpython-313.pyc`, `PYC104 info ${SP}/__pycache__/u.cpython-313.pyc`]);
  const want = sourceHash(M313, '1-3', Buffer.from('print(1)\n'));
  assert.equal(only(r.findings, 'PYC103').message, `header has source hash ${good.toString('hex')}, ${SP}/bad.py hashes to ${want} (SipHash-1-3, key ${M313})`);
  assert.equal(only(r.findings, 'PYC104').message, `unchecked-hash .pyc: used as it is even after ${SP}/u.py changes`);
  assert.equal(only(r.findings, 'PYC104').cause, 'unchecked-hash .pyc: used as they are even after their source changes');
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: 9 });
});

test('a prefix placeholder in paths.json: PYC105, and the header is not compared', async () => {
  const paths = { paths: [{ _path: `${SP}/p.py`, path_type: 'hardlink', prefix_placeholder: '/opt/anaconda1anaconda2anaconda3', file_mode: 'text' }, { _path: `${SP}/q.py`, path_type: 'hardlink' }], paths_version: 1 };
  const r = await audit(conda([py(`${SP}/p.py`), tsPyc(`${SP}/__pycache__/p.cpython-313.pyc`, M313, { mtime: 5 }), py(`${SP}/q.py`), tsPyc(`${SP}/__pycache__/q.cpython-313.pyc`)], {}, paths));
  assert.deepEqual(brief(r.findings), [`PYC105 error ${SP}/__pycache__/p.cpython-313.pyc`]);
  assert.equal(r.findings[0]!.message, `${SP}/p.py has a prefix placeholder: conda rewrites it at install, so this .pyc no longer matches it`);
  assert.equal(r.findings[0]!.cause, 'the source has a prefix placeholder: conda rewrites it at install, so the .pyc no longer matches it');
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: SOURCE.length });
});

test('a .pyo is PYC206; .opt-1 bytecode is checked but is no default .pyc', async () => {
  const r = await audit(conda([py(`${SP}/m.py`), tsPyc(`${SP}/__pycache__/m.cpython-313.opt-1.pyc`, M313, { size: 1 }), file(`${SP}/old.pyo`, Buffer.alloc(20))]));
  assert.deepEqual(brief(r.findings), [`PYC102 error ${SP}/__pycache__/m.cpython-313.opt-1.pyc`, `PYC202 error ${SP}/m.py`, `PYC206 warning ${SP}/old.pyo`]);
  assert.equal(only(r.findings, 'PYC206').message, 'Python 3.5+ never reads .pyo files (PEP 488); Python 2 reads them only under -O');
  assert.equal(only(r.findings, 'PYC202').message, `no ${SP}/__pycache__/m.cpython-313.pyc: compiled at first import, and at every start where the environment is read-only`);
  assert.equal(only(r.findings, 'PYC202').cause, 'no __pycache__/*.cpython-313.pyc for 3.13: compiled at first import, and at every start where the environment is read-only');
  // m.py counts once: it has no default .pyc (PYC202); the .opt-1 one's PYC102 adds nothing
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: SOURCE.length });
});

test('outside every import location: one PYC210 (info), no header advice, out of the impact; scripts need no .pyc', async () => {
  const r = await audit(conda([py('bin/tool.py'), tsPyc('bin/__pycache__/tool.cpython-313.pyc', M313, { size: 1 }), py('share/x/data.py')]));
  assert.deepEqual(brief(r.findings), ['PYC210 info bin/__pycache__/tool.cpython-313.pyc']);
  assert.deepEqual(r.impact, { modules: 0, sourceBytes: 0 });
  // a sourceless legacy .pyc there is run by path (python x.pyc): its magic still counts, as a warning
  const sourceless = await audit(conda([tsPyc('bin/run.pyc', 3626)]));
  assert.deepEqual(brief(sourceless.findings), ['PYC002 warning bin/run.pyc']);
});

test('a wheel: zip times before 1980 are PYC107, and the sources carry no mtime to compare', async () => {
  const pyc = pycBytes(M313, { mtime: 0, size: SOURCE.length });
  const later = pycBytes(M313, { mtime: ZIP_EPOCH, size: SOURCE.length });
  const path = join(dir, 'pkg-1.0-py3-none-any.whl');
  writeFileSync(path, zipOf({ 'pkg/m.py': SOURCE, 'pkg/__pycache__/m.cpython-313.pyc': pyc, 'pkg/n.py': SOURCE, 'pkg/__pycache__/n.cpython-313.pyc': later, 'pkg-1.0.dist-info/METADATA': Buffer.from('Name: pkg\n'), 'pkg-1.0.dist-info/WHEEL': Buffer.from('Wheel-Version: 1.0\n') }));
  const r = await audit(path, '3.13');
  assert.equal(r.kind, 'whl');
  assert.deepEqual(brief(r.findings), ['PYC107 error pkg/__pycache__/m.cpython-313.pyc']);
  assert.equal(r.findings[0]!.message, 'header says the source was modified at 0 (1970-01-01T00:00:00Z): before 1980, which no file installed from a zip has');
  assert.equal(r.findings[0]!.cause, 'the headers record source mtimes before 1980, which no file installed from a zip has');
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: SOURCE.length });
});

test('ZIP_EPOCH is 1980-01-01T00:00 at UTC+14', () => {
  assert.equal(new Date(ZIP_EPOCH * 1000).toISOString(), '1979-12-31T10:00:00.000Z');
});

// ---- the rules on verdicts built here: cases no reader produces from one archive --------------

const pkgInfo = { name: 'pkg', version: '1.0', build: 'py313_0', subdir: null, noarch: null, depends: [] };
const expected313 = { version: '3.13', implementation: 'CPython' as const, from: 'option' as const, clues: [], conflict: null };
const verdict = (path: string, head: Buffer, expected: { version: string | null; implementation: 'CPython' | 'PyPy' | 'GraalPy' } = expected313) =>
  judgePyc({ path, size: head.length, head: head.subarray(0, 16) }, expected, table);
const check = (over: Partial<Parameters<typeof checkArtifact>[0]>) =>
  checkArtifact({ kind: 'conda', package: pkgInfo, expected: expected313, pyc: [], sources: [], pyo: [], pathsJson: undefined, table, hashesUnavailable: null, ...over });

test('PYC106: a checked-hash .pyc whose source could not be hashed says why', () => {
  const head = hashPyc('x', M313, Buffer.alloc(8, 1), true).data;
  const pyc = [verdict(`${SP}/__pycache__/m.cpython-313.pyc`, head)];
  const sources = [{ path: `${SP}/m.py`, size: 10, mtime: MTIME }];
  const unavailable = check({ pyc, sources, hashesUnavailable: 'standard input cannot be read twice' });
  assert.deepEqual(unavailable.findings.map((f) => [f.code, f.severity, f.message, f.cause]), [
    ['PYC106', 'info', `${SP}/m.py could not be hashed: standard input cannot be read twice`, 'the sources could not be hashed: standard input cannot be read twice'],
  ]);
  assert.equal(check({ pyc, sources }).findings[0]!.message, `${SP}/m.py could not be hashed: it was not read`);
  // a hash for other rounds than 3.13's is no hash of this .pyc
  const wrongRounds = check({ pyc, sources: [{ ...sources[0]!, hashes: new Map([[hashKey(M313, '2-4'), '0101010101010101']]) }] });
  assert.equal(wrongRounds.findings[0]!.code, 'PYC106');
  const matching = check({ pyc, sources: [{ ...sources[0]!, hashes: new Map([[hashKey(M313, '1-3'), '0101010101010101']]) }] });
  assert.deepEqual(matching.findings, []);
  assert.deepEqual(unavailable.impact, { modules: 0, sourceBytes: 0 });
});

test('PYC106: a checked-hash .pyc of an implementation whose hash is not computed', () => {
  const head = hashPyc('x', 336, Buffer.alloc(8, 1), true).data;
  const pypy = { ...expected313, version: '3.9', implementation: 'PyPy' as const };
  const r = check({ expected: pypy, pyc: [verdict('lib/pypy3.9/site-packages/__pycache__/m.pypy39.pyc', head, pypy)], sources: [{ path: 'lib/pypy3.9/site-packages/m.py', size: 10, mtime: MTIME }] });
  assert.deepEqual(r.findings.map((f) => [f.code, f.message]), [['PYC106', 'checked-hash .pyc of PyPy, whose source hash pyc-audit does not compute']]);
});

test('PYC202 for PyPy names its implementation; a loose .pyc (only the sources it names) has none', () => {
  const pypy = { ...expected313, version: '3.10', implementation: 'PyPy' as const };
  const r = check({ expected: pypy, sources: [{ path: 'lib/pypy3.10/site-packages/m.py', size: 10, mtime: MTIME }] });
  assert.deepEqual(r.findings.map((f) => [f.code, f.message, f.cause]), [
    ['PYC202', 'no lib/pypy3.10/site-packages/__pycache__/m.pypy310.pyc: compiled at first import, and at every start where the environment is read-only', 'no __pycache__/*.pypy310.pyc for PyPy 3.10: compiled at first import, and at every start where the environment is read-only'],
  ]);
  assert.deepEqual(r.impact, { modules: 1, sourceBytes: 10 });
  assert.deepEqual(check({ expected: pypy, sources: [{ path: 'lib/pypy3.10/site-packages/m.py', size: 10, mtime: MTIME }], onlyPycSources: true }).findings, []);
  // no target version: nothing says which .pyc is missing
  assert.deepEqual(check({ expected: { ...expected313, version: null }, sources: [{ path: `${SP}/m.py`, size: 10, mtime: MTIME }] }).findings, []);
});

test('PYC203 for a PyPy target names PyPy', () => {
  const pypy = { ...expected313, version: '3.9', implementation: 'PyPy' as const };
  const r = check({ expected: pypy, pyc: [verdict('lib/pypy3.9/site-packages/__pycache__/m.cpython-39.pyc', pycBytes(3425, { mtime: 1, size: 1 }), pypy)], sources: [{ path: 'lib/pypy3.9/site-packages/m.py', size: 1, mtime: 1 }] });
  assert.equal(r.findings.find((f) => f.code === 'PYC203')?.message, 'cache tag cpython-39 in a package for PyPy 3.9 (which reads pypy39): never read');
});

test('without a target version the bytecode\'s own version decides the layout rules', () => {
  const noTarget = { ...expected313, version: null };
  // a 2.7 .pyc in __pycache__: 2.7 never reads it there
  const r = check({ expected: noTarget, pyc: [verdict('lib/python2.7/__pycache__/m.cpython-27.pyc', pycBytes(62211, { mtime: 1, size: 1 }), noTarget)], sources: [{ path: 'lib/python2.7/m.py', size: 1, mtime: 1 }] });
  assert.deepEqual(r.findings.map((f) => f.code), ['PYC208']);
  // a legacy .pyc of unknown magic, beside its source: no version, so no layout rule; the magic speaks
  const unknown = check({ expected: noTarget, pyc: [verdict('lib/python3.13/m.pyc', pycBytes(9999, { mtime: 1, size: 1 }), noTarget)], sources: [{ path: 'lib/python3.13/m.py', size: 1, mtime: 1 }] });
  assert.deepEqual(unknown.findings.map((f) => f.code), ['PYC004']);
});

test('hash rounds follow the Python that wrote the magic', () => {
  const row = (magic: number, implementation = 'CPython') => table.lookup(magic, implementation);
  assert.deepEqual(hashRoundsFor(undefined), []);
  assert.deepEqual(hashRoundsFor(row(336, 'PyPy')), []);
  assert.deepEqual(hashRoundsFor(row(62211)), ['2-4']); // 2.7
  assert.deepEqual(hashRoundsFor(row(3439)), ['2-4']); // 3.10
  assert.deepEqual(hashRoundsFor(row(3495)), ['1-3']); // 3.11 final
  assert.deepEqual(hashRoundsFor(row(M313)), ['1-3']);
  const a1 = table.entries.find((e) => e.implementation === 'CPython' && e.releases === '3.11a1')!;
  assert.deepEqual(hashRoundsFor(a1), ['2-4']);
  const dev311 = table.entries.find((e) => e.implementation === 'CPython' && e.version === '3.11' && e.releases === null)!;
  assert.deepEqual(hashRoundsFor(dev311), ['2-4', '1-3']);
  const a2 = table.entries.find((e) => e.implementation === 'CPython' && e.version === '3.11' && e.releases?.startsWith('3.11a2'))!;
  assert.deepEqual(hashRoundsFor(a2), ['1-3']);
  assert.deepEqual(hashRoundsFor({ ...row(M313)!, version: '4.0' }), ['1-3']);
});

test('placeholders come from paths.json entries that carry one; a broken paths.json names none', () => {
  assert.deepEqual(placeholderPaths(undefined), new Set());
  assert.deepEqual(placeholderPaths(Buffer.from('{"paths": [{"_path": "a.py", "path_type": "hardlink"}], "paths_version": 1}')), new Set());
  assert.deepEqual(placeholderPaths(Buffer.from('{"paths": [{"_path": "a.py", "prefix_placeholder": "/opt/x"}, {"_path": "b.py"}], "paths_version": 1}')), new Set(['a.py']));
  assert.deepEqual(placeholderPaths(Buffer.from('{"paths": [ prefix_placeholder')), new Set());
});

test('what conda installs: everything but info/', () => {
  assert.equal(isInstalled('info/index.json'), false);
  assert.equal(isInstalled('lib/info/x.pyc'), true);
  assert.equal(isInstalled('information/x.pyc'), true);
});

test('the impact in words', () => {
  assert.equal(describeImpact({ modules: 0, sourceBytes: 0 }), '0 modules (0 bytes of source) compiled at first import');
  assert.equal(describeImpact({ modules: 1, sourceBytes: 1 }), '1 module (1 byte of source) compiled at first import');
  assert.equal(describeImpact({ modules: 1, sourceBytes: 1536 }), '1 module (1.5 KiB of source) compiled at first import');
  assert.equal(describeImpact({ modules: 2, sourceBytes: 1024 * 1024 - 1 }), '2 modules (1024.0 KiB of source) compiled at first import');
  assert.equal(describeImpact({ modules: 3, sourceBytes: 3 * 1024 * 1024 }), '3 modules (3.0 MiB of source) compiled at first import');
});

test('findings are sorted by member, then code', () => {
  const pyc = [verdict(`${SP}/__pycache__/b.cpython-313.pyc`, pycBytes(M313, { mtime: 1, size: 1 })), verdict(`${SP}/__pycache__/a.cpython-313.pyc`, pycBytes(M313, { mtime: 1, size: 1 }))];
  const sources = [{ path: `${SP}/b.py`, size: 2, mtime: 2 }, { path: `${SP}/a.py`, size: 2, mtime: 2 }];
  const r = check({ pyc, sources, pyo: [`${SP}/a.pyo`] });
  assert.deepEqual(r.findings.map((f) => `${f.member.split('/').pop()} ${f.code}`), ['a.cpython-313.pyc PYC101', 'a.cpython-313.pyc PYC102', 'b.cpython-313.pyc PYC101', 'b.cpython-313.pyc PYC102', 'a.pyo PYC206']);
  // two sources, one mtime: the cause is shared
  assert.match(r.findings[0]!.cause, /^every \.py has mtime 1970-01-01T00:00:02Z/);
});

test('a wheel .pyc with several findings lists them by code; a pre-1980 header is also compared with the source', () => {
  const pyc = [verdict('pkg/__pycache__/m.cpython-313.pyc', pycBytes(M313, { mtime: 0, size: 1 }))];
  const r = check({ kind: 'whl', pyc, sources: [{ path: 'pkg/m.py', size: 2, mtime: 5 }] });
  assert.deepEqual(r.findings.map((f) => f.code), ['PYC101', 'PYC102', 'PYC107']);
  assert.equal(r.findings[0]!.message, 'header says the source was modified at 0 (1970-01-01T00:00:00Z), pkg/m.py at 5 (1970-01-01T00:00:05Z)');
  // a conda package's mtimes are not zip times: no PYC107
  assert.deepEqual(check({ kind: 'conda', pyc: [verdict(`${SP}/__pycache__/m.cpython-313.pyc`, pycBytes(M313, { mtime: 0, size: 2 }))], sources: [{ path: `${SP}/m.py`, size: 2, mtime: 0 }] }).findings, []);
});

test('mtimes compare modulo 2**32, as the header stores them; a time past what a Date holds is said so', () => {
  const pyc = [verdict(`${SP}/__pycache__/m.cpython-313.pyc`, pycBytes(M313, { mtime: MTIME, size: 2 }))];
  assert.deepEqual(check({ pyc, sources: [{ path: `${SP}/m.py`, size: 2, mtime: MTIME + 2 ** 32 }] }).findings, []);
  const far = check({ pyc, sources: [{ path: `${SP}/m.py`, size: 2, mtime: 1e13 }] });
  assert.equal(far.findings[0]!.message, `header says the source was modified at ${MTIME} (2023-11-14T22:13:20Z), ${SP}/m.py at ${1e13 >>> 0} (invalid time)`);
});

test('a source without an mtime means the sources share none', () => {
  const head = pycBytes(M313, { mtime: 1, size: 2 });
  const pyc = [verdict(`${SP}/__pycache__/b.cpython-313.pyc`, head)];
  const sources = [{ path: `${SP}/a.py`, size: 2, mtime: null }, { path: `${SP}/b.py`, size: 2, mtime: 7 }, { path: `${SP}/c.py`, size: 2, mtime: 7 }];
  const r = check({ pyc, sources, onlyPycSources: true });
  assert.deepEqual(r.findings.map((f) => f.code), ['PYC101']);
  assert.equal(r.findings[0]!.cause, r.findings[0]!.message);
  const shared = check({ pyc, sources: sources.slice(1), onlyPycSources: true });
  assert.equal(shared.findings[0]!.cause, 'every .py has mtime 1970-01-01T00:00:07Z, the headers their compile time');
});

test('the impact switches to MiB at exactly 1 MiB', () => {
  assert.equal(describeImpact({ modules: 1, sourceBytes: 1024 * 1024 }), '1 module (1.0 MiB of source) compiled at first import');
});
