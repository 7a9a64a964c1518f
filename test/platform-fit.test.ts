// Outputs that fit their platforms (issue 22.4) and stay valid whatever a package holds (27.5):
// SARIF, JUnit and GitLab group findings by artifact and cause as the text report does; SARIF
// keeps within GitHub's 1,000 locations per result and 25,000 results per run; XML and Markdown
// carry hostile names as text. Packages are built here, at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { run } from './helpers.js';
import { condaOf, fullName, pycBytes, type Package, type PackageFile } from './package-builder.js';
import { sarifValidator } from './sarif-schema.js';
import { MAX_LOCATIONS, SarifReportWriter } from '../src/report/sarif.js';
import { xmlEscape } from '../src/report/junit.js';
import { markdownText } from '../src/report/escape.js';
import type { ArtifactResult } from '../src/judge/artifact.js';

const MTIME = 1_700_000_000;
const SOURCE = Buffer.from('x = 1\n');
const SITE = 'lib/python3.14/site-packages';

/** `count` modules under `pkg`, their bytecode written by 3.14rc2 (3626): stale for 3.14. */
function staleModules(pkg: string, count: number): PackageFile[] {
  return Array.from({ length: count }, (_, i) => [
    { path: `${SITE}/${pkg}/m${String(i).padStart(4, '0')}.py`, data: SOURCE, mtime: MTIME },
    { path: `${SITE}/${pkg}/__pycache__/m${String(i).padStart(4, '0')}.cpython-314.pyc`, data: pycBytes(3626, { mtime: MTIME, size: SOURCE.length }), mtime: MTIME },
  ]).flat();
}

function write(dir: string, p: Package, file = `${fullName(p)}.conda`): string {
  const path = join(dir, file);
  writeFileSync(path, condaOf(p));
  return path;
}

const pkg = (name: string, files: PackageFile[]): Package => ({ name, version: '1.0', build: 'py314_0', files, depends: ['python >=3.14,<3.15.0a0', 'python_abi 3.14.* *_cp314'] });

test('sarif, junit, gitlab: one entry per artifact and cause, listing the members it covers (1,000 locations at most)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-fit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const many = write(dir, pkg('many', staleModules('many', 1200)));
  const sarif = run(['--isolated', '--format', 'sarif', many]);
  assert.equal(sarif.code, 1);
  const doc = JSON.parse(sarif.stdout) as { runs: { results: any[]; artifacts: any[] }[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const validate = sarifValidator();
  assert.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)));
  const [result, ...others] = doc.runs[0]!.results;
  assert.equal(others.length, 0, 'one result for the one cause, not one per .pyc');
  assert.equal(result.ruleId, 'PYC001');
  assert.match(result.message.text, /^1200 \.pyc: written by 3\.14rc2; 3\.14\.0 expects 3627: lib\/python3\.14\/site-packages\/many\/__pycache__\/m0000\.cpython-314\.pyc, .*m0001.*m0002[^,]*, … \(1197 more\)$/);
  assert.equal(result.relatedLocations.length, MAX_LOCATIONS);
  assert.equal(result.properties.members, 1200);
  assert.equal(result.properties.membersNotListed, 200);
  for (const loc of result.relatedLocations.slice(0, 3)) assert.equal(doc.runs[0]!.artifacts[loc.physicalLocation.artifactLocation.index].parentIndex, result.locations[0].physicalLocation.artifactLocation.index);

  const junit = run(['--isolated', '--format', 'junit', many]);
  assert.equal(XMLValidator.validate(junit.stdout), true);
  const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testcase', 'failure'].includes(n) }).parse(junit.stdout).testsuites.testsuite;
  const [failure] = suite.testcase[0].failure;
  assert.equal(suite.testcase[0].failure.length, 1);
  assert.equal(failure.message, '1200 findings at or above --fail-on error: PYC001');
  const lines = (failure['#text'] as string).split('\n');
  assert.equal(lines.length, 2, 'one line for the cause and its fix once');
  assert.match(lines[0]!, /^error PYC001 1200 \.pyc: written by 3\.14rc2/);
  assert.match(lines[1]!, /^ {2}fix: rebuild the package/);

  const gitlab = JSON.parse(run(['--isolated', '--format', 'gitlab', many]).stdout);
  assert.equal(gitlab.length, 1);
  assert.match(gitlab[0].description, /^PYC001 1200 \.pyc: written by 3\.14rc2/);
  assert.match(gitlab[0].fingerprint, /^[0-9a-f]{64}$/);
  // Stable: the same build audited again, from elsewhere, has the same fingerprints.
  assert.equal(JSON.parse(run(['--isolated', '--format', 'gitlab', many]).stdout)[0].fingerprint, gitlab[0].fingerprint);
  const again = JSON.parse(run(['--isolated', '--format', 'sarif', many]).stdout).runs[0].results[0];
  assert.deepEqual(again.partialFingerprints, result.partialFingerprints);
});

/** A result with `groups` causes of one finding each (no I/O: what a judged artifact looks like). */
function fakeResult(i: number, groups: number): ArtifactResult {
  const findings = Array.from({ length: groups }, (_, g) => ({ code: 'PYC001', severity: 'error' as const, member: `m${g}.pyc`, message: `cause ${g}`, cause: `cause ${g}` }));
  return {
    path: `a${i}.conda`,
    kind: 'conda',
    package: { name: `a${i}`, version: '1', build: '0' },
    expected: null,
    error: null,
    pyc: findings.map((f) => ({ member: f.member })),
    status: 'stale',
    notes: [],
    unreadable: [],
    findings,
    impact: { modules: 0, sourceBytes: 0 },
  } as unknown as ArtifactResult;
}

test('sarif: never more results than a run may hold; the rest counted in a notification and said on stderr', () => {
  const warnings: string[] = [];
  const w = new SarifReportWriter('0.0.0', { maxResults: 5, warn: (line) => warnings.push(line) });
  let text = w.begin();
  for (let i = 0; i < 3; i++) text += w.artifact(fakeResult(i, 2));
  text += w.end({ errors: 0, incomplete: 0 } as never);
  const doc = JSON.parse(text) as { runs: { results: unknown[]; invocations: { toolExecutionNotifications: { level: string; message: { text: string } }[] }[] }[] };
  assert.ok(sarifValidator()(doc));
  assert.equal(doc.runs[0]!.results.length, 5);
  const note = doc.runs[0]!.invocations[0]!.toolExecutionNotifications[0]!;
  assert.equal(note.level, 'warning');
  assert.equal(note.message.text, '1 more result (1 finding) not listed: GitHub code scanning accepts 5 results per run (the json format lists all)');
  assert.deepEqual(warnings, ['pyc-audit: warning: sarif: 1 more result (1 finding) not listed: GitHub code scanning accepts 5 results per run (the json format lists all)\n']);
});

test('junit: characters XML cannot carry (U+FFFE, U+FFFF, lone surrogates, controls) are escaped, also through merge', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-xml-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(xmlEscape('a\ufffeb\uffffc\ud800d\udc00e\u0001f'), 'a\\ufffeb\\uffffc\\ud800d\\udc00e\\x01f');
  assert.equal(xmlEscape('\ud83d\ude00'), '\ud83d\ude00', 'a surrogate pair is a character XML carries');
  const hostile = write(dir, pkg('hostile', staleModules('x\ufffe\uffff', 2)));
  const r = run(['--isolated', '--format', 'junit', hostile]);
  assert.equal(r.code, 1);
  assert.equal(XMLValidator.validate(r.stdout), true);
  assert.match(r.stdout, /x\\ufffe\\uffff/);
  const json = join(dir, 'a.json');
  run(['--isolated', '--format', 'json', '--output', json, hostile]);
  const merged = run(['merge', '--format', 'junit', json]);
  assert.equal(XMLValidator.validate(merged.stdout), true);
  assert.match(merged.stdout, /x\\ufffe\\uffff/);
});

test('github: artifact text in the job summary renders as text (no HTML, links, code or cell breaks)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-md-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(markdownText('<img src=x>|[a](b)`c`<!--'), '&lt;img src=x&gt;\\|\\[a\\]\\(b\\)\\`c\\`&lt;\\!\\-\\-');
  // The archive's own index.json gives the name the summary shows: a hostile one.
  const p = pkg('e<img src=x>[l](u)`|<!--', staleModules('evil', 1));
  const path = write(dir, p, 'evil-1.0-py314_0.conda');
  const summary = join(dir, 'summary.md');
  writeFileSync(summary, '');
  const r = run(['--isolated', '--format', 'github', path], { GITHUB_STEP_SUMMARY: summary });
  assert.equal(r.code, 1);
  const md = readFileSync(summary, 'utf8');
  // Outside the rebuild list's code block (whose fence no name can close), nothing is live Markdown or HTML.
  assert.doesNotMatch(md.replace(/```\n[\s\S]*?\n```\n/, ''), /<img|<!--|\]\(/);
  const row = md.split('\n').find((l) => l.startsWith('| e'))!;
  assert.equal(row, '| e&lt;img src=x&gt;\\[l\\]\\(u\\)\\`\\|&lt;\\!\\-\\-\\-1\\.0\\-py314\\_0 | STALE | 1 | 0 | 0 | PYC001 ×1 |');
  // A FIFO as the summary: a warning, never a hang.
  const fifo = join(dir, 'fifo');
  if (spawnSync('mkfifo', [fifo]).status === 0) {
    const f = run(['--isolated', '--format', 'github', path], { GITHUB_STEP_SUMMARY: fifo });
    assert.equal(f.code, 1);
    assert.match(f.stdout, /::warning title=pyc-audit%3A job summary::could not write .*fifo/);
  }
});
