// Issue 24: a magic newer than the table is placed, not condemned; PyPy 3.8/3.9 releases that wrote
// CPython's magics; bytecode outside every import location; bytecode of another package's modules.
// Packages built here, audited by the CLI as a user runs it, findings read from its JSON report.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { condaOf, fullName, pycBytes, type Package, type PackageFile } from './package-builder.js';
import { run } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-magic-newer-'));
// No update cache of the user's: the built-in table only.
const env = { XDG_CACHE_HOME: join(dir, 'cache') };
after(() => rmSync(dir, { recursive: true, force: true }));

const MTIME = 1_700_000_000;
const SOURCE = Buffer.from('x = 1\n');
const py = (path: string): PackageFile => ({ path, data: SOURCE, mtime: MTIME });
const pyc = (path: string, magic: number): PackageFile => ({ path, data: pycBytes(magic, { mtime: MTIME, size: SOURCE.length }), mtime: MTIME });

/** A 3.5 .pyc: the 12-byte header of its era (magic, mtime, source size). */
const pyc35 = (path: string): PackageFile => {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(3351, 0);
  b.write('\r\n', 2, 'latin1');
  b.writeUInt32LE(MTIME, 4);
  b.writeUInt32LE(SOURCE.length, 8);
  return { path, data: Buffer.concat([b, Buffer.from([0x63]), Buffer.alloc(20)]), mtime: MTIME };
};

interface Found { code: string; severity: string; member: string; message: string }
function audit(p: Package, ...args: string[]): { code: number | null; findings: Found[]; status: string; impact: { modules: number }; stderr: string } {
  const path = join(dir, `${fullName(p)}.conda`);
  writeFileSync(path, condaOf(p));
  const r = run(['--format', 'json', ...args, path], env);
  const doc = JSON.parse(r.stdout) as { artifacts: { status: string; findings: Found[]; impact: { modules: number } }[] };
  const a = doc.artifacts[0]!;
  return { code: r.code, findings: a.findings, status: a.status, impact: a.impact, stderr: r.stderr };
}

/** A CPython package for minor `v` (3.15: py315, cpython-315) with one module compiled with `magic`. */
function cpython(v: string, magic: number, build = 0): Package {
  const tag = `cpython-${v.replace('.', '')}`;
  const sp = `lib/python${v}/site-packages`;
  return {
    name: 'pkg', version: '1.0', build: `py${v.replace('.', '')}_${magic}_${build}`,
    files: [py(`${sp}/pkg/__init__.py`), pyc(`${sp}/pkg/__pycache__/__init__.${tag}.pyc`, magic)],
    depends: [`python >=${v},<${v.replace(/\d+$/, (m) => String(Number(m) + 1))}.0a0`, `python_abi ${v}.* *_cp${v.replace('.', '')}`],
  };
}

test('3666 with cpython-315: the newest 3.15 magic known, unconfirmed final (PYC007 warning, exit 0)', () => {
  const r = audit(cpython('3.15', 3666));
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['PYC007', 'warning']]);
  assert.equal(r.code, 0);
});

test('3667 with cpython-315: newer than the table, a warning that says what would settle it, no impact claim', () => {
  const r = audit(cpython('3.15', 3667));
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['PYC007', 'warning']], r.stderr);
  const message = r.findings[0]!.message;
  assert.match(message, /^magic 3667 is newer than this table: after 3\.15's newest known 3666 \(3\.15b1–3\.15rc1\): probably 3\.15 final or later/);
  for (const way of ['--interpreter', '--magic-table', 'magic --update', "channel's own python"]) assert.ok(message.includes(way), `${way} in: ${message}`);
  assert.doesNotMatch(message, /compiled at first import/);
  assert.equal(r.impact.modules, 0, 'no module is claimed to be compiled at first import');
  assert.equal(r.code, 0, 'a correct 3.15 package passes the default --fail-on error gate');
  assert.equal(audit(cpython('3.15', 3667, 1), '--fail-on', 'warning').code, 1, 'and is still seen with --fail-on warning');
});

test('3706 with cpython-316: newer than 3.16\'s newest known development number, a warning', () => {
  const r = audit(cpython('3.16', 3706));
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['PYC007', 'warning']]);
  assert.match(r.findings[0]!.message, /after 3\.16's newest known 3705/);
  assert.equal(r.code, 0);
});

test('a magic between 3.12\'s and 3.13\'s numbers stays an error (PYC004), placed in words', () => {
  const r = audit(cpython('3.12', 3540));
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['PYC004', 'error']]);
  assert.match(r.findings[0]!.message, /^magic 3540 is not in the table: after 3\.12's newest known 3531 .*before 3\.13's 3550/);
  assert.equal(r.code, 1);
  // a number past 3.16's first in a 3.15 file is no 3.15 release either
  assert.deepEqual(audit(cpython('3.15', 3710)).findings.map((f) => [f.code, f.severity]), [['PYC004', 'error']]);
});

test('`pyc-audit magic N` says where an unknown number falls', () => {
  const r = run(['magic', '3667'], env);
  assert.match(r.stdout, /^3667 → unknown to this table: after 3\.15's newest known 3666 \(3\.15b1–3\.15rc1\): probably 3\.15 final or later; 3\.16 starts at 3700; settle it with --interpreter/);
  assert.equal(r.code, 1);
  assert.match(run(['magic', '3540'], env).stdout, /^3540 → unknown to this table: after 3\.12's newest known 3531 \(3\.12b1 onward\), before 3\.13's 3550: no release in this table wrote it\n$/);
  assert.match(run(['magic', '3706'], env).stdout, /after 3\.16's newest known 3705 \(a development number\): probably a later 3\.16 pre-release/);
});

/** A PyPy package for minor `v` (pypy39) with one module compiled with `magic`. */
function pypy(v: string, magic: number): Package {
  const nodot = v.replace('.', '');
  const sp = `lib/pypy${v}/site-packages`;
  return {
    name: 'pkg', version: '1.0', build: `py${nodot}_pypy_${magic}`,
    files: [py(`${sp}/pkg/__init__.py`), pyc(`${sp}/pkg/__pycache__/__init__.pypy${nodot}.pyc`, magic)],
    depends: [`python >=${v},<3.${Number(v.split('.')[1]) + 1}.0a0 *_73_pypy`, `python_abi ${v} *_pypy${nodot}_pp73`],
  };
}

test('PyPy3.8 7.3.6–7.3.9 wrote 3413 under pypy38: judged by what PyPy loads (PYC006), not PYC003', () => {
  const r = audit(pypy('3.8', 3413));
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['PYC006', 'warning']], JSON.stringify(r.findings));
  assert.match(r.findings[0]!.message, /PyPy3\.8 7\.3\.6 – 7\.3\.9.*\(3413\); PyPy3\.8 7\.3\.10 and later load only 256/);
  assert.equal(r.code, 0);
  assert.deepEqual(audit(pypy('3.8', 256)).findings, [], '7.3.10 and later: their own number');
});

test('PyPy3.9 7.3.8–7.3.9 wrote 3425 under pypy39: PYC006 naming the releases; 320 (pycode.py at 7.3.8) was never written', () => {
  const r = audit(pypy('3.9', 3425));
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['PYC006', 'warning']]);
  assert.match(r.findings[0]!.message, /PyPy3\.9 7\.3\.8 – 7\.3\.9.*\(3425\); PyPy3\.9 7\.3\.10 and later load only 336/);
  assert.deepEqual(audit(pypy('3.9', 320)).findings.map((f) => f.code), ['PYC001']);
  assert.match(run(['magic', '3425'], env).stdout, /\n {2}also PyPy3\.9 7\.3\.8 – 7\.3\.9 \(Python 3\.9\): final-release bytecode for PyPy 3\.9; PyPy3\.9 7\.3\.10 and later load only 336\n/);
});

test('bytecode outside every import location: one PYC210 (info) that says so, not mtime advice', () => {
  const sp = 'lib/python3.12/site-packages';
  const launch = { path: 'share/audio_tools/launch/audio_vad.launch.py', data: SOURCE, mtime: MTIME + 60 };
  const p: Package = {
    name: 'ros-jazzy-audio-tools', version: '2.5', build: 'h0_0',
    files: [py(`${sp}/audio_tools/__init__.py`), pyc(`${sp}/audio_tools/__pycache__/__init__.cpython-312.pyc`, 3531), launch,
      pyc('share/audio_tools/launch/__pycache__/audio_vad.launch.cpython-312.pyc', 3531), py('bin/tool.py'), pyc('bin/__pycache__/tool.cpython-312.pyc', 3495),
      // colcon's prefix-root scripts, compiled by conda-build
      py('_local_setup_util_sh.py'), pyc('__pycache__/_local_setup_util_sh.cpython-312.pyc', 3531)],
    depends: ['python >=3.12,<3.13.0a0'],
  };
  const r = audit(p);
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity, f.member]), [
    ['PYC210', 'info', '__pycache__/_local_setup_util_sh.cpython-312.pyc'],
    ['PYC210', 'info', 'bin/__pycache__/tool.cpython-312.pyc'],
    ['PYC210', 'info', 'share/audio_tools/launch/__pycache__/audio_vad.launch.cpython-312.pyc'],
  ]);
  assert.match(r.findings[0]!.message, /^outside every import location \(the prefix root\): no import finds it/);
  assert.match(r.findings[2]!.message, /^outside every import location \(share\/\): no import finds it/);
  assert.equal(r.code, 0);
  assert.match(run(['rule', 'PYC210'], env).stdout, /Why this severity\n {2}Info: nothing is imported from it/);
});

test("bytecode of another package's modules: PYC211 (warning), not PYC209 'never read'", () => {
  const sp = 'lib/python3.5/site-packages';
  const files = [py(`${sp}/pip/__init__.py`), pyc35(`${sp}/pip/__pycache__/__init__.cpython-35.pyc`),
    pyc35(`${sp}/setuptools/__pycache__/dist.cpython-35.pyc`), pyc35(`${sp}/pkg_resources/__pycache__/__init__.cpython-35.pyc`),
    pyc35(`${sp}/gone/__pycache__/old.cpython-35.pyc`)];
  const r = audit({ name: 'pip', version: '9.0.1', build: 'py35_0', files, depends: ['python 3.5*', 'setuptools', 'wheel'] });
  assert.deepEqual(r.findings.map((f) => [f.code, f.severity, f.member.replace(`${sp}/`, '')]), [
    ['PYC209', 'warning', 'gone/__pycache__/old.cpython-35.pyc'],
    ['PYC211', 'warning', 'pkg_resources/__pycache__/__init__.cpython-35.pyc'],
    ['PYC211', 'warning', 'setuptools/__pycache__/dist.cpython-35.pyc'],
  ]);
  assert.match(r.findings[2]!.message, /^bytecode of setuptools\/ \(setuptools's, a dependency of pip\), not of pip: another package's file, which clashes with setuptools's own at install/);
  // six does not depend on setuptools: still setuptools' files
  const six = audit({ name: 'six', version: '1.10.0', build: 'py35_1', files: [py(`${sp}/six.py`), pyc35(`${sp}/__pycache__/six.cpython-35.pyc`), pyc35(`${sp}/pkg_resources/__pycache__/__init__.cpython-35.pyc`)], depends: ['python 3.5*'] });
  assert.deepEqual(six.findings.map((f) => f.code), ['PYC211']);
  assert.match(six.findings[0]!.message, /\(setuptools's\), not of six/);
  // setuptools' own package is not flagged for its own pkg_resources
  const own = audit({ name: 'setuptools', version: '27.2.0', build: 'py35_0', files: [py(`${sp}/pkg_resources/__init__.py`), pyc35(`${sp}/pkg_resources/__pycache__/__init__.cpython-35.pyc`)], depends: ['python 3.5*'] });
  assert.deepEqual(own.findings, []);
  const rule = run(['rule', 'PYC211'], env).stdout;
  assert.match(rule, /Default severity: warning/);
  assert.match(rule, /Why this severity\n {2}A warning: a packaging defect conda reports as a clobber/);
});
