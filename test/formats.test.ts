// CI-facing outputs: ndjson, GitHub annotations, the rebuild list, --output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, fixture, run } from './helpers.js';

const all = readdirSync(FIXTURES).filter((f) => /\.(conda|tar\.bz2)$/.test(f)).sort().map((f) => fixture(f));

test('ndjson: one artifact per line, in order, the same objects as the JSON report', () => {
  const nd = run(['--format', 'ndjson', ...all]);
  const doc = JSON.parse(run(['--format', 'json', ...all]).stdout);
  assert.equal(nd.code, 1);
  const lines = nd.stdout.trimEnd().split('\n');
  assert.equal(lines.length, all.length);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), doc.artifacts);
});

test('--list-stale: exactly the builds to rebuild, once each', () => {
  const r = run(['--list-stale', ...all]);
  assert.equal(r.code, 1);
  const checks = ['37', '310', '311', '313'].map((v) => `checks-1.0-py${v}_0`).sort();
  assert.equal(r.stdout, [...checks, 'example-1.0-py314rc1_0', 'example-1.0-py314rc2_0', 'mixed-1.0-py314_0'].map((s) => `${s}\n`).join(''));
  // Warnings count too with --fail-on warning: legacy-1.0-py27_0 (PYC208) and noarchpyc (PYC204).
  const warnings = run(['--list-stale', '--fail-on', 'warning', ...all]);
  assert.equal(warnings.stdout, [...checks, 'example-1.0-py314rc1_0', 'example-1.0-py314rc2_0', 'legacy-1.0-py27_0', 'mixed-1.0-py314_0', 'noarchpyc-1.0-pyh_0'].map((s) => `${s}\n`).join(''));
  const clean = run(['--list-stale', fixture('example-1.0-py314_0.conda')]);
  assert.equal(clean.code, 0);
  assert.equal(clean.stdout, '');
});

test('github: an annotation per finding and per unreadable input, with a title', () => {
  const r = run(['--format', 'github', fixture('mixed-1.0-py314_0.conda'), join(tmpdir(), 'no-such.conda')]);
  assert.equal(r.code, 2);
  const f = fixture('mixed-1.0-py314_0.conda').replace(/:/g, '%3A').replace(/,/g, '%2C');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    `::error file=${f},title=pyc-audit PYC203%3A cache tag of another Python%3A never read::lib/python3.14/site-packages/mixed/__pycache__/__init__.cpython-312.pyc: cache tag cpython-312 in a package for 3.14 (which reads cpython-314): never read`,
    `::error file=${f},title=pyc-audit PYC003%3A cache tag and magic disagree::lib/python3.14/site-packages/mixed/__pycache__/__init__.cpython-314.pyc: cache tag cpython-314 but CPython 3.13 bytecode (3571, written by 3.13b2 onward)`,
    `::error file=${join(tmpdir(), 'no-such.conda')},title=pyc-audit%3A cannot read::no such file`,
    '::notice title=pyc-audit::2 artifacts, 2 pyc: 2 findings (2 errors); 1 artifact fails (--fail-on error); 1 module (0.1 KiB of source) compiled at first import; 1 could not be read',
  ]);
});

test('--output: the report to a file, the text summary to the terminal', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pyc-audit-out-')), 'report.json');
  const r = run(['--format', 'json', '--output', out, ...all]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `${all.length} artifacts, 100 pyc: 96 findings (49 errors, 29 warnings, 18 info); 15 artifacts fail (--fail-on error); 49 modules (2.8 KiB of source) compiled at first import\n`);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).artifacts.length, all.length);
  const bad = run(['--output', join(tmpdir(), 'no-such-dir', 'x.json'), fixture('example-py314rc2.conda')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^pyc-audit: error: --output .*x\.json: ENOENT\n$/);
});
