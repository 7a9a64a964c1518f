// Beyond the magic: source consistency (mtime, size, SipHash), stray and missing bytecode, impact,
// and the --select/--ignore/--fail-on interface. Fixtures: fixtures/make-fixtures.py (build_checks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pycLocation } from '../src/judge/pyc-paths.js';
import { CORPUS, fixture, haveCorpus, run, runAsync } from './helpers.js';

type Finding = { code: string; severity: string; member: string; message: string };
const json = (args: string[]) => {
  const r = run(['--format', 'json', ...args]);
  return { ...r, doc: JSON.parse(r.stdout) };
};
const codes = (findings: Finding[]) => findings.map((f) => `${f.code} ${f.member.split('/').pop()}`).sort();

test('a .pyc names its source: __pycache__ tags, .opt-N, dotted names, legacy', () => {
  assert.deepEqual(pycLocation('a/__pycache__/m.cpython-314.pyc'), { source: 'a/m.py', layout: 'pep3147', tag: 'cpython-314', optimization: 0 });
  assert.deepEqual(pycLocation('a/__pycache__/m.cpython-314.opt-2.pyc'), { source: 'a/m.py', layout: 'pep3147', tag: 'cpython-314', optimization: 2 });
  assert.deepEqual(pycLocation('share/x/__pycache__/vad.launch.cpython-312.pyc'), { source: 'share/x/vad.launch.py', layout: 'pep3147', tag: 'cpython-312', optimization: 0 });
  assert.deepEqual(pycLocation('__pycache__/m.pypy310.pyc'), { source: 'm.py', layout: 'pep3147', tag: 'pypy310', optimization: 0 });
  assert.deepEqual(pycLocation('lib/six.pyc'), { source: 'lib/six.py', layout: 'legacy', tag: null, optimization: 0 });
});

// ---- the checks, on packages built by the pyenv interpreters -------------------------------

/** What every checks-1.0-pyXY_0 package reports, by member (see build_checks in make-fixtures.py). */
const EXPECTED_CHECKS = [
  'PYC101 touched.cpython-XY.pyc', // same bytes, the shipped .py one hour newer
  'PYC102 resized.cpython-XY.pyc', // .py edited after compiling: 89 bytes, the header says 33
  'PYC103 tampered.cpython-XY.pyc', // checked-hash; .py edited after compiling
  'PYC104 good_unchecked.cpython-XY.pyc', // unchecked-hash: informational
  'PYC105 prefixed.cpython-XY.pyc', // prefix placeholder in info/paths.json
  'PYC202 bare.py', // no bare.cpython-XY.pyc
  'PYC203 good_ts.cpython-312.pyc', // a 3.12 .pyc in a 3.X package
  'PYC205 run_test.cpython-XY.pyc', // under info/
  'PYC206 old.pyo',
  'PYC209 gone.cpython-XY.pyc', // no gone.py: a __pycache__ .pyc is never read without it
];

for (const minor of ['3.7', '3.10', '3.11', '3.13']) {
  const xy = minor.replace('.', '');
  test(`checks on python${minor} bytecode: the same findings from .conda (.py first) and .tar.bz2 (.pyc first)`, () => {
    const r = json([fixture(`checks-1.0-py${xy}_0.conda`), fixture(`checks-1.0-py${xy}_0.tar.bz2`)]);
    assert.equal(r.code, 1);
    const [conda, bz2] = r.doc.artifacts;
    const expected = EXPECTED_CHECKS.map((s) => s.replace('XY', xy)).sort();
    assert.deepEqual(codes(conda.findings), expected);
    assert.deepEqual(conda.findings, bz2.findings);
    // touched, resized, tampered, prefixed and bare are compiled at first import: 228 bytes of source
    assert.deepEqual(conda.impact, { modules: 5, sourceBytes: 228 });
    const tampered = conda.findings.find((f: Finding) => f.code === 'PYC103');
    assert.match(tampered.message, new RegExp(`\\(SipHash-${Number(xy) >= 311 ? '1-3' : '2-4'}, key \\d+\\)$`));
    // good_ts, good_checked: consistent, so nothing is said of them
    assert.ok(!conda.findings.some((f: Finding) => /good_(ts|checked)\.cpython-3\d+\.pyc$/.test(f.member) && !f.member.includes('312')));
  });
}

test('a noarch: python package with a .pyc: warning, and exit 0 unless --fail-on warning', () => {
  const r = json([fixture('noarchpyc-1.0-pyh_0.conda')]);
  assert.equal(r.code, 0);
  assert.deepEqual(codes(r.doc.artifacts[0].findings), ['PYC204 __init__.cpython-313.pyc']);
  assert.equal(run(['--fail-on', 'warning', fixture('noarchpyc-1.0-pyh_0.conda')]).code, 1);
});

test('--select, --ignore and --fail-on', () => {
  const pkg = fixture('checks-1.0-py313_0.conda');
  assert.deepEqual(codes(json(['--select', 'PYC1', pkg]).doc.artifacts[0].findings), ['PYC101 touched.cpython-313.pyc', 'PYC102 resized.cpython-313.pyc', 'PYC103 tampered.cpython-313.pyc', 'PYC104 good_unchecked.cpython-313.pyc', 'PYC105 prefixed.cpython-313.pyc']);
  assert.deepEqual(codes(json(['--select', 'pyc2', '--ignore', 'PYC209,PYC203', pkg]).doc.artifacts[0].findings), ['PYC202 bare.py', 'PYC205 run_test.cpython-313.pyc', 'PYC206 old.pyo']);
  // With every error ignored, warnings do not fail the run by default, and do with --fail-on warning.
  const noErrors = ['--ignore', 'PYC10,PYC202', pkg];
  assert.equal(run(noErrors).code, 0);
  assert.equal(run(['--fail-on', 'warning', ...noErrors]).code, 1);
  assert.equal(run(['--fail-on', 'never', pkg]).code, 0);
  const text = run(['--select', 'PYC103', pkg]);
  assert.match(text.stdout, /\n {2}error {3}PYC103 {2}lib\/python3\.13\/site-packages\/checks\/__pycache__\/tampered\.cpython-313\.pyc {2}header has source hash [0-9a-f]{16}, .*tampered\.py hashes to [0-9a-f]{16} \(SipHash-1-3, key 3571\)\n/);
  const bad = run(['--select', 'PYC9', pkg]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--select.*PYC9 is not a code or the start of one/);
});

test('stdin: a source that came before its checked-hash .pyc cannot be hashed, and says so', async () => {
  // The .conda has the .py members first; standard input cannot be read a second time.
  const conda = await runAsync(['--format', 'json', '-'], {}, readFileSync(fixture('checks-1.0-py313_0.conda')));
  const findings: Finding[] = JSON.parse(conda.stdout).artifacts[0].findings;
  assert.deepEqual(codes(findings.filter((f) => f.code === 'PYC106')), ['PYC106 good_checked.cpython-313.pyc', 'PYC106 tampered.cpython-313.pyc']);
  assert.match(findings.find((f) => f.code === 'PYC106')!.message, /could not be hashed: it came before its \.pyc on standard input, which cannot be read twice/);
  // The .tar.bz2 has the .pyc first: hashed as the source streams past, even from stdin.
  const bz2 = await runAsync(['--format', 'json', '-'], {}, readFileSync(fixture('checks-1.0-py313_0.tar.bz2')));
  assert.deepEqual(codes(JSON.parse(bz2.stdout).artifacts[0].findings), EXPECTED_CHECKS.map((s) => s.replace('XY', '313')).sort());
});

const python3 = spawnSync('python3', ['-c', 'pass']).status === 0;

test('an extracted package folder gives the findings of its archive', { skip: python3 ? false : 'no python3 to extract with' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-extracted-'));
  const folder = join(dir, 'checks-1.0-py311_0');
  // tarfile keeps the members' mtimes, as conda's extraction does.
  const x = spawnSync('python3', ['-c', 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])', fixture('checks-1.0-py311_0.tar.bz2'), folder]);
  assert.equal(x.status, 0, String(x.stderr));
  const fromFolder = json([folder]).doc.artifacts[0];
  const fromArchive = json([fixture('checks-1.0-py311_0.tar.bz2')]).doc.artifacts[0];
  assert.equal(fromFolder.kind, 'folder');
  assert.deepEqual(fromFolder.findings, fromArchive.findings);
  assert.deepEqual(fromFolder.impact, fromArchive.impact);
});

// ---- what the real third-party artifacts report, and why ------------------------------------

const corpusCases: [string, Record<string, number>, string][] = [
  // The .conda of this package was written with every member's mtime 0; its .tar.bz2 kept 1508520023.
  ['conda+conda-index/conda-index-pkg-a-1.0-py27h5e241af_0.conda', { PYC101: 1 }, 'mtimes zeroed in the .conda'],
  ['conda+conda-index/conda-index-pkg-a-1.0-py27h5e241af_0.tar.bz2', {}, 'the same package, consistent'],
  ['conda+conda-package-handling/mock-2.0.0-py37_1000.conda', {}, 'consistent'],
  ['conda+conda-package-handling/mock-2.0.0-py37_1000.tar.bz2', {}, 'consistent'],
  ['venicegeo+conda-channel/pip-9.0.1-py27_0.tar.bz2', {}, 'Python 2 legacy .pyc beside each .py: consistent'],
  // py35 builds carry Python-2 style .pyc beside the .py (3.5 ignores them: each module is compiled
  // at first import) plus setuptools' and pkg_resources' __pycache__ .pyc without sources: another
  // package's files (PYC211), which clash with setuptools' own at install.
  ['venicegeo+conda-channel/pip-9.0.1-py35_0.tar.bz2', { PYC211: 48, PYC202: 242, PYC207: 242 }, 'legacy .pyc in a 3.5 package'],
  ['venicegeo+conda-channel/six-1.10.0-py35_1.tar.bz2', { PYC211: 44, PYC202: 1, PYC207: 1 }, 'six.pyc beside six.py; stray setuptools .pyc'],
  ['venicegeo+conda-channel/coverage-4.2-py35_0.tar.bz2', { PYC211: 43, PYC202: 31, PYC207: 31 }, 'legacy and __pycache__ mixed'],
  // 3.5.0–3.5.2 wrote 3350; 3.5.3 and later load only 3351.
  ['venicegeo+conda-channel/wheel-0.29.0-py35_0.tar.bz2', { PYC006: 34 }, '3.5.0–3.5.2 bytecode'],
  ['conda+conda-verify/testfile-0.0.23-py36_0.tar.bz2', { PYC005: 1, PYC206: 1 }, 'a 0-byte .pyc and a .pyo'],
  // Its launch file has a dotted name (audio_vad.launch.py -> audio_vad.launch.cpython-312.pyc), under
  // share/: outside every import location, one PYC210 (info) and no header checks.
  ['CLFML+conda_ros2_jazzy_channel/ros-jazzy-audio-tools-2.5-h738df08_0.tar.bz2', { PYC210: 1 }, 'a dotted module name under share/'],
  ['pex-tool+pex/aws_cfn_bootstrap-1.4-py2-none-any.whl', { PYC206: 108 }, 'a wheel of .pyo'],
];

for (const [file, want, why] of corpusCases) {
  test(`corpus ${file}: ${why}`, { skip: haveCorpus ? false : 'no corpus' }, () => {
    const a = json([join(CORPUS, 'conda', file)]).doc.artifacts[0];
    assert.equal(a.error, null);
    const got: Record<string, number> = {};
    for (const f of a.findings as Finding[]) got[f.code] = (got[f.code] ?? 0) + 1;
    assert.deepEqual(got, want);
  });
}
