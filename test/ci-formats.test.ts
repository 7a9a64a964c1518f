// What CI systems need of the reports: GitLab Code Quality issues, SARIF fingerprints and base
// URIs, unique JUnit testcase names. Run on every fixture, from different working directories.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { BIN, FIXTURES, fixture, ROOT, type RunResult } from './helpers.js';
import { sarifValidator } from './sarif-schema.js';

const names = readdirSync(FIXTURES).filter((f) => /\.(conda|tar\.bz2)$/.test(f)).sort();
const missing = join(tmpdir(), 'no-such-artifact.conda');
// A working directory that holds none of the inputs, wherever the checkout is (the temporary
// folder included): a folder made for it, removed at the end.
const outside = mkdtempSync(join(tmpdir(), 'pyc-audit-elsewhere-'));
const elsewhere = () => outside;
test.after(() => rmSync(outside, { recursive: true, force: true }));

function runIn(cwd: string, args: string[]): RunResult {
  const r = spawnSync(process.execPath, [BIN, '--isolated', ...args], { cwd, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface GitlabIssue {
  type: string;
  description: string;
  check_name: string;
  fingerprint: string;
  severity: string;
  location: { path: string; lines: { begin: number } };
}

test('gitlab: a Code Quality issue per finding and per unreadable input, fingerprints unique and stable across runs and working directories', () => {
  // Relative paths from fixtures/ (as a CI job in a build folder), and the same files by absolute path from elsewhere.
  const here = runIn(FIXTURES, ['--format', 'gitlab', ...names, names[0]!, missing]);
  const there = runIn(elsewhere(), ['--format', 'gitlab', ...names.map((n) => fixture(n)), fixture(names[0]!), missing]);
  assert.equal(here.code, 2);
  const issues = JSON.parse(here.stdout) as GitlabIssue[];
  const json = JSON.parse(runIn(FIXTURES, ['--format', 'json', ...names, names[0]!]).stdout);
  const findings = json.artifacts.reduce((n: number, a: { findings: unknown[] }) => n + a.findings.length, 0);
  assert.equal(issues.length, findings + 1);
  for (const i of issues) {
    assert.deepEqual(Object.keys(i).sort(), ['categories', 'check_name', 'description', 'fingerprint', 'location', 'severity', 'type']);
    assert.ok(['info', 'minor', 'major', 'critical', 'blocker'].includes(i.severity), i.severity);
    assert.match(i.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(i.location.lines.begin, 1);
  }
  assert.equal(new Set(issues.map((i) => i.fingerprint)).size, issues.length, 'unique, also for a build as .conda and .tar.bz2 and a file given twice');
  assert.deepEqual((JSON.parse(there.stdout) as GitlabIssue[]).map((i) => i.fingerprint), issues.map((i) => i.fingerprint));
  const stale = issues.find((i) => i.location.path === 'example-py314rc2.conda')!;
  assert.deepEqual(stale, {
    type: 'issue',
    description: 'PYC001 lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc: written by 3.14rc2; 3.14.0 expects 3627',
    check_name: 'PYC001',
    fingerprint: stale.fingerprint,
    severity: 'critical',
    categories: ['Performance'],
    location: { path: 'example-py314rc2.conda', lines: { begin: 1 } },
  });
  const unreadable = issues.at(-1)!;
  assert.equal(unreadable.severity, 'blocker');
  assert.equal(unreadable.location.path, missing);
  // From the repository root, paths are relative to it.
  assert.equal(JSON.parse(runIn(ROOT, ['--format', 'gitlab', fixture('example-py314rc2.conda')]).stdout)[0].location.path, 'fixtures/example-py314rc2.conda');
  // Nothing found: an empty array, which GitLab reads as no issues.
  assert.deepEqual(JSON.parse(runIn(FIXTURES, ['--format', 'gitlab', 'example-1.0-py314_0.conda']).stdout), []);
});

test('sarif: partialFingerprints unique and stable across runs; artifacts in the working directory are relative to %SRCROOT%', () => {
  const here = runIn(FIXTURES, ['--format', 'sarif', ...names, missing]);
  const there = runIn(elsewhere(), ['--format', 'sarif', ...names.map((n) => fixture(n)), missing]);
  const validate = sarifValidator();
  for (const r of [here, there]) assert.ok(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors?.slice(0, 3)));
  const [a] = JSON.parse(here.stdout).runs;
  const [b] = JSON.parse(there.stdout).runs;
  const prints = (run: { results: { partialFingerprints: Record<string, string> }[] }) => run.results.map((x) => x.partialFingerprints['pycAuditFinding/v1']);
  assert.equal(new Set(prints(a)).size, a.results.length);
  assert.deepEqual(prints(b), prints(a));
  assert.deepEqual(a.originalUriBaseIds, { '%SRCROOT%': { uri: pathToFileURL(`${FIXTURES}/`).href, description: { text: 'The working directory pyc-audit ran in' } } });
  const stale = a.results.find((x: { properties: { artifact: string } }) => x.properties.artifact === 'example-py314rc2.conda');
  assert.deepEqual(stale.locations[0].physicalLocation.artifactLocation, { uri: 'example-py314rc2.conda', uriBaseId: '%SRCROOT%', index: a.artifacts.findIndex((x: { location: { uri: string } }) => x.location.uri === 'example-py314rc2.conda') });
  // Outside the working directory: an absolute file: URI, no base id.
  const outside = b.results[0].locations[0].physicalLocation.artifactLocation;
  assert.equal(outside.uriBaseId, undefined);
  assert.match(outside.uri, /^file:\/\/\//);
  assert.equal(a.invocations[0].toolExecutionNotifications[0].locations[0].physicalLocation.artifactLocation.uri, pathToFileURL(missing).href);
});

test('junit: unique testcase names when a build exists as .conda and .tar.bz2, or is given twice', () => {
  const inputs = ['mixed-1.0-py314_0.conda', 'mixed-1.0-py314_0.tar.bz2', 'mixed-1.0-py314_0.conda'].map((n) => fixture(n));
  const r = runIn(elsewhere(), ['--format', 'junit', ...inputs]);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testcase', 'failure'].includes(name) }).parse(r.stdout);
  const cases = doc.testsuites.testsuite.testcase as { name: string; classname: string; failure: unknown[] }[];
  assert.deepEqual(cases.map((c) => `${c.classname} ${c.name}`), ['pyc-audit.linux-64 mixed-1.0-py314_0.conda', 'pyc-audit.linux-64 mixed-1.0-py314_0.tar.bz2', 'pyc-audit.linux-64 mixed-1.0-py314_0.conda (2)']);
  assert.ok(cases.every((c) => c.failure.length === 1));
});
