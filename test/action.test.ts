// The GitHub Action (action.yml): its `run` steps executed as GitHub's runner executes them
// (bash --noprofile --norc -eo pipefail, ${{ }} expressions substituted, GITHUB_OUTPUT a file),
// from a build folder. The install step (npm ci in a fresh checkout) needs the registry, so
// scripts/install-check.sh runs it, with this same substitution, on a clean clone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAction, runStep as runStepAt } from './action-steps.js';
import { FIXTURES, ROOT } from './helpers.js';
import { sarifValidator } from './sarif-schema.js';

const action = readAction(ROOT);
const runStep = (id: string, inputs: Record<string, string>, o: { cwd: string }) => runStepAt(ROOT, id, inputs, o.cwd);

test('action.yml: a composite action that sets up Node 24, then installs and runs pyc-audit from its own checkout', () => {
  assert.equal(action.runs.using, 'composite');
  const [setup, install, audit] = action.runs.steps;
  assert.equal(setup!.uses, 'actions/setup-node@v4');
  assert.equal(setup!.with!['node-version'], '${{ inputs.node-version }}');
  assert.equal(action.inputs['node-version']!.default, '24');
  assert.equal(install!.id, 'install');
  assert.equal(install!['working-directory'], '${{ github.action_path }}');
  assert.equal(audit!.id, 'audit');
  assert.equal((audit as { if?: string }).if, "inputs.paths != ''"); // no paths: install only
  assert.match(install!.run!, /echo "\$GITHUB_ACTION_PATH\/bin" >> "\$GITHUB_PATH"\n/); // pyc-audit on PATH for later steps
  assert.equal(action.outputs['sarif-file']!.value, '${{ steps.audit.outputs.sarif-file }}');
  // Every input is used, and inputs reach the scripts only through env (never pasted into a script).
  const text = readFileSync(join(ROOT, 'action.yml'), 'utf8');
  for (const name of Object.keys(action.inputs)) assert.ok(text.includes(`inputs.${name} }}`), name);
  for (const step of action.runs.steps) assert.doesNotMatch(step.run ?? '', /\$\{\{/);
  assert.equal(action.inputs.paths!.default, '');
});

test('action: paths with globs from a build folder, annotations in the log, exit 1 on a stale build', () => {
  const r = runStep('audit', { paths: 'example-1.0-py314*.conda\n  legacy-*.tar.bz2' }, { cwd: FIXTURES });
  assert.equal(r.code, 1, r.stderr);
  const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error'));
  assert.deepEqual(errors.map((l) => /file=([^,]+)/.exec(l)![1]), ['example-1.0-py314rc1_0.conda', 'example-1.0-py314rc2_0.conda', 'legacy-1.0-py27_0.tar.bz2']);
  assert.match(r.stdout, /::notice title=pyc-audit::5 artifacts, /);
  assert.equal(r.outputs, 'sarif-file=\n');
});

test('action: select, fail-on and python inputs; a pattern that matches nothing is nothing to audit (exit 2)', () => {
  const selected = runStep('audit', { paths: 'mixed-1.0-py314_0.conda checks-1.0-py313_0.conda example-1.0-py314_0.conda', select: 'PYC203', 'fail-on': 'never', format: 'json' }, { cwd: FIXTURES });
  assert.equal(selected.code, 0, selected.stderr);
  const doc = JSON.parse(selected.stdout);
  assert.deepEqual(doc.artifacts.map((a: { findings: { code: string }[] }) => [...new Set(a.findings.map((f) => f.code))]), [['PYC203'], ['PYC203'], []]);
  const python = runStep('audit', { paths: 'example-1.0-py314rc2_0.conda', python: '3.13', format: 'json', 'fail-on': 'never' }, { cwd: FIXTURES });
  assert.equal(JSON.parse(python.stdout).artifacts[0].expected.from, 'option');
  const none = runStep('audit', { paths: 'nothing-*.conda' }, { cwd: FIXTURES });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^pyc-audit: error: nothing to audit: nothing-\*\.conda: matched nothing\n/);
});

test('action: sarif-file writes a valid SARIF report for upload-sarif and names it as an output; args passes more options', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pyc-audit-action-sarif-')), 'pyc-audit.sarif');
  const r = runStep('audit', { paths: 'example-1.0-py314rc2_0.conda mixed-1.0-py314_0.conda', 'sarif-file': out, args: '--ignore PYC003 --quiet' }, { cwd: FIXTURES });
  assert.equal(r.code, 1, r.stderr);
  // The log still has the annotations: one read, two reports.
  const annotated = (level: string) => r.stdout.split('\n').filter((l) => l.startsWith(`::${level}`)).map((l) => /file=([^,]+)/.exec(l)![1]);
  assert.deepEqual(annotated('error'), ['example-1.0-py314rc2_0.conda']);
  assert.deepEqual(annotated('warning'), ['mixed-1.0-py314_0.conda']);
  assert.equal(r.outputs, `sarif-file=${out}\n`);
  const sarif = JSON.parse(readFileSync(out, 'utf8')) as { runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId: string } } }[] }[] }[] };
  const validate = sarifValidator();
  assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.deepEqual(sarif.runs[0]!.results.map((x) => `${x.ruleId} ${x.locations[0]!.physicalLocation.artifactLocation.uriBaseId}/${x.locations[0]!.physicalLocation.artifactLocation.uri}`), [
    'PYC001 %SRCROOT%/example-1.0-py314rc2_0.conda',
    'PYC203 %SRCROOT%/mixed-1.0-py314_0.conda',
  ]);
});
