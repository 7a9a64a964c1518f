// CI-facing outputs: ndjson, GitHub annotations, the rebuild list, --output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FIXTURES, fixture, run } from './helpers.js';
import { sarifValidator } from './sarif-schema.js';



const all = readdirSync(FIXTURES).filter((f) => /\.(conda|tar\.bz2)$/.test(f)).sort().map((f) => fixture(f));

test('ndjson: one artifact per line as each finishes, with its input index; the same objects as the JSON report', () => {
  const nd = run(['--format', 'ndjson', ...all]);
  const doc = JSON.parse(run(['--format', 'json', ...all]).stdout);
  assert.equal(nd.code, 1);
  const lines = nd.stdout.trimEnd().split('\n');
  assert.equal(lines.length, all.length);
  const rows = lines.map((l) => JSON.parse(l) as { index: number; path: string });
  assert.deepEqual(Object.keys(rows[0]!).slice(0, 2), ['index', 'path']);
  assert.deepEqual(rows.map((r) => r.index).sort((a, b) => a - b), all.map((_, i) => i));
  for (const r of rows) assert.equal(r.path, all[r.index]);
  // Each line also has the input's identity (size:mtime), which --resume compares.
  const byIndex = rows.sort((a, b) => a.index - b.index).map(({ index: _index, identity, ...artifact }: { index: number; identity?: string }) => {
    assert.match(identity!, /^\d+:\d+(\.\d+)?$/);
    return artifact;
  });
  assert.deepEqual(byIndex, doc.artifacts);
});

test('--list-stale: exactly the builds to rebuild, once each', () => {
  const r = run(['--list-stale', ...all]);
  assert.equal(r.code, 1);
  const checks = ['37', '310', '311', '313'].map((v) => `checks-1.0-py${v}_0`).sort();
  // legacy-1.0-py27_0: 2.7 reads no __pycache__/, so its module is compiled at first import (PYC202).
  assert.equal(r.stdout, [...checks, 'example-1.0-py314rc1_0', 'example-1.0-py314rc2_0', 'legacy-1.0-py27_0', 'mixed-1.0-py314_0'].map((s) => `${s}\n`).join(''));
  // Warnings count too with --fail-on warning: noarchpyc (PYC204).
  const warnings = run(['--list-stale', '--fail-on', 'warning', ...all]);
  assert.equal(warnings.stdout, [...checks, 'example-1.0-py314rc1_0', 'example-1.0-py314rc2_0', 'legacy-1.0-py27_0', 'mixed-1.0-py314_0', 'noarchpyc-1.0-pyh_0'].map((s) => `${s}\n`).join(''));
  const clean = run(['--list-stale', fixture('example-1.0-py314_0.conda')]);
  assert.equal(clean.code, 0);
  assert.equal(clean.stdout, '');
});

test('github: an annotation per finding and per unreadable input, with a title and the fix, worst first', () => {
  const r = run(['--format', 'github', fixture('mixed-1.0-py314_0.conda'), join(tmpdir(), 'no-such.conda')], { GITHUB_STEP_SUMMARY: undefined });
  assert.equal(r.code, 2);
  const f = fixture('mixed-1.0-py314_0.conda').replace(/:/g, '%3A').replace(/,/g, '%2C');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    `::error file=${join(tmpdir(), 'no-such.conda')},title=pyc-audit%3A cannot read::no such file`,
    `::error file=${f},title=pyc-audit PYC003%3A cache tag and magic disagree::lib/python3.14/site-packages/mixed/__pycache__/__init__.cpython-314.pyc: cache tag cpython-314 but CPython 3.13 bytecode (3571, written by 3.13b2 onward)%0Afix: a build step copied or renamed .pyc between Python versions: recompile with the target Python and rebuild`,
    `::warning file=${f},title=pyc-audit PYC203%3A cache tag of another Python%3A never read::lib/python3.14/site-packages/mixed/__pycache__/__init__.cpython-312.pyc: cache tag cpython-312 in a package for 3.14 (which reads cpython-314): never read%0Afix: delete stray __pycache__ files before packaging (pytest and other Pythons leave them)`,
    '::notice title=pyc-audit::2 artifacts, 2 pyc: 2 findings (1 error, 1 warning); 1 artifact fails (--fail-on error); 1 module (0.1 KiB of source) compiled at first import; 1 could not be read',
  ]);
});

test('--output: the report to a file, the text summary to the terminal', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pyc-audit-out-')), 'report.json');
  const r = run(['--format', 'json', '--output', out, ...all]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `${all.length} artifacts, 100 pyc: 96 findings (49 errors, 37 warnings, 10 info); 17 artifacts fail (--fail-on error); 49 modules (2.8 KiB of source) compiled at first import\n`);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).artifacts.length, all.length);
  const bad = run(['--output', join(tmpdir(), 'no-such-dir', 'x.json'), fixture('example-py314rc2.conda')]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, `pyc-audit: error: --output ${join(tmpdir(), 'no-such-dir', 'x.json')}: no such folder ${join(tmpdir(), 'no-such-dir')}\n`);
});

test('sarif: valid against the SARIF 2.1.0 schema; a result per finding, at its member inside its artifact', () => {
  const missing = join(tmpdir(), 'no-such.conda');
  const r = run(['--format', 'sarif', ...all, missing]);
  assert.equal(r.code, 2);
  const doc = JSON.parse(r.stdout);
  const validate = sarifValidator();
  assert.ok(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors?.slice(0, 3)));
  const json = JSON.parse(run(['--format', 'json', ...all]).stdout);
  const findings = json.artifacts.flatMap((a: { path: string; findings: { code: string; member: string }[] }) => a.findings.map((f) => ({ ...f, artifact: a.path })));
  const [sarifRun] = doc.runs;
  assert.equal(sarifRun.results.length, findings.length);
  assert.deepEqual(sarifRun.tool.driver.rules.map((x: { id: string }) => x.id), JSON.parse(run(['rules', '--format', 'json']).stdout).map((x: { code: string }) => x.code));
  for (const res of sarifRun.results) {
    // Located at the artifact (relative to %SRCROOT% when inside the working directory); the member is a related location.
    const loc = res.relatedLocations[0].physicalLocation.artifactLocation;
    const member = sarifRun.artifacts[loc.index];
    const parent = sarifRun.artifacts[member.parentIndex];
    assert.equal(member.location.uri, loc.uri);
    assert.deepEqual(res.locations[0].physicalLocation.artifactLocation, { ...parent.location, index: member.parentIndex });
    assert.equal(new URL(parent.location.uri, parent.location.uriBaseId ? sarifRun.originalUriBaseIds[parent.location.uriBaseId].uri : undefined).href, pathToFileURL(res.properties.artifact).href);
    assert.equal(sarifRun.tool.driver.rules[res.ruleIndex].id, res.ruleId);
  }
  const stale = sarifRun.results.find((x: { ruleId: string; properties: { artifact: string } }) => x.ruleId === 'PYC001' && x.properties.artifact.endsWith('example-py314rc2.conda'));
  assert.equal(stale.level, 'error');
  assert.equal(stale.message.text, 'lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc: written by 3.14rc2; 3.14.0 expects 3627');
  assert.equal(sarifRun.invocations[0].executionSuccessful, false);
  assert.equal(sarifRun.invocations[0].toolExecutionNotifications[0].message.text, `${missing}: no such file`);
  // The validator is not a rubber stamp.
  sarifRun.results[0].level = 'fatal';
  assert.equal(validate(JSON.parse(JSON.stringify(doc))), false);
});

test('junit: one testcase per artifact, a failure listing the findings at or above --fail-on, errors for unreadable inputs', () => {
  const missing = join(tmpdir(), 'no-such.conda');
  const inputs = [fixture('mixed-1.0-py314_0.conda'), fixture('hashed-1.0-py313_0.conda'), fixture('example-1.0-py314_0.conda'), missing];
  const r = run(['--format', 'junit', ...inputs]);
  assert.equal(r.code, 2);
  assert.equal(XMLValidator.validate(r.stdout), true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testcase', 'failure'].includes(name) }).parse(r.stdout);
  const suite = doc.testsuites.testsuite;
  assert.deepEqual([suite.tests, suite.failures, suite.errors], ['4', '1', '1']);
  const [mixed, hashed, clean, unreadable] = suite.testcase;
  assert.equal(mixed.name, 'mixed-1.0-py314_0.conda');
  assert.equal(mixed.file, inputs[0]);
  assert.equal(mixed.failure.length, 1);
  assert.equal(mixed.failure[0].message, '1 finding at or above --fail-on error: PYC003');
  assert.match(mixed['system-out'], /^warning PYC203 /);
  assert.match(mixed.failure[0]['#text'], /^error PYC003 lib\/python3\.14\/site-packages\/mixed\/__pycache__\/__init__\.cpython-314\.pyc: cache tag cpython-314 but CPython 3\.13 bytecode.*\n  fix: a build step copied or renamed \.pyc between Python versions/);
  assert.equal(hashed.failure, undefined);
  assert.match(hashed['system-out'], /^info PYC104 /);
  assert.equal(clean.failure, undefined);
  assert.equal(unreadable.error.message, 'no such file');
  // --fail-on info: the unchecked-hash note becomes a failure too.
  const strict = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' }).parse(run(['--format', 'junit', '--fail-on', 'info', inputs[1]!]).stdout);
  assert.equal(strict.testsuites.testsuite.testcase[0].failure.type, 'PYC104');
});
