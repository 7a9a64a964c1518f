// The GitHub Action (action.yml): its `run` steps executed as GitHub's runner executes them
// (bash --noprofile --norc -eo pipefail, ${{ }} expressions substituted, GITHUB_OUTPUT a file),
// from a build folder; and from a copy of what an action's checkout holds, with nothing installed
// or built, as it runs on a runner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAction, runStep as runStepAt } from './action-steps.js';
import { FIXTURES, ROOT } from './helpers.js';
import { sarifValidator } from './sarif-schema.js';

const action = readAction(ROOT);
const runStep = (id: string, inputs: Record<string, string>, o: { cwd: string }) => runStepAt(ROOT, id, inputs, o.cwd);

test('action.yml: a composite action that sets up Node, puts pyc-audit on PATH and runs it from its own checkout, installing and building nothing', () => {
  assert.equal(action.runs.using, 'composite');
  const [setup, install, audit] = action.runs.steps;
  assert.equal(setup!.uses, 'actions/setup-node@v4');
  assert.equal(setup!.with!['node-version'], '${{ inputs.node-version }}');
  assert.equal(action.inputs['node-version']!.default, '24');
  assert.equal(install!.id, 'install');
  assert.equal(audit!.id, 'audit');
  assert.equal((audit as { if?: string }).if, "inputs.paths != ''"); // no paths: install only
  assert.match(install!.run!, /echo "\$launcher" >> "\$GITHUB_PATH"\n/); // pyc-audit on PATH for later steps
  assert.doesNotMatch(readFileSync(join(ROOT, 'action.yml'), 'utf8'), /npm (ci|install)|npm run build/);
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

/** What a runner's checkout of the action holds that the action uses: no node_modules, no build. */
function actionCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-action-checkout-'));
  for (const part of ['action.yml', 'package.json', 'bin', join('dist', 'action')]) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  return dir;
}

test('action: from a checkout with nothing installed or built, the steps audit, and later steps find pyc-audit on PATH', () => {
  const checkout = actionCheckout();
  try {
    const install = runStepAt(checkout, 'install', {}, FIXTURES);
    assert.equal(install.code, 0, install.stderr);
    const launcher = install.path.trim();
    const later = spawnSync('pyc-audit', ['--version', '--verbose'], { encoding: 'utf8', env: { ...process.env, PATH: `${launcher}:${process.env.PATH}` } });
    assert.equal(later.status, 0, later.stderr);
    assert.match(later.stdout, /^pyc-audit \d+\.\d+\.\d+\n/);
    // A folder (a package cache here): archives, extracted packages and the comparison of the two.
    const r = runStepAt(checkout, 'audit', { paths: 'pkgs-cache', format: 'json' }, FIXTURES);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(JSON.parse(r.stdout).artifacts.map((a: { status: string }) => a.status).sort(), ['ok', 'ok', 'ok', 'stale']);
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
});

test('action: the committed bundle (dist/action/) is what the sources build: npm run build:action after a change', () => {
  const fresh = mkdtempSync(join(tmpdir(), 'pyc-audit-action-bundle-'));
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), '--action', fresh], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const committed = join(ROOT, 'dist', 'action');
    assert.deepEqual(readdirSync(committed).sort(), readdirSync(fresh).sort());
    for (const f of readdirSync(fresh)) assert.ok(readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f))), `dist/action/${f} is stale: npm run build:action`);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
});

test('action: no configuration file is read unless the config input names one (a pyc-audit.toml above the workspace changes nothing)', () => {
  const root = mkdtempSync(join(tmpdir(), 'pyc-audit-action-config-'));
  try {
    const work = join(root, 'workspace');
    mkdirSync(work);
    copyFileSync(join(FIXTURES, 'example-1.0-py314rc2_0.conda'), join(work, 'example-1.0-py314rc2_0.conda'));
    // Planted above the workspace: it would turn the stale package green.
    writeFileSync(join(root, 'pyc-audit.toml'), 'fail-on = "never"\nignore = ["PYC"]\n');
    const r = runStep('audit', { paths: 'example-1.0-py314rc2_0.conda' }, { cwd: work });
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /config/);
    const named = runStep('audit', { paths: 'example-1.0-py314rc2_0.conda', config: join(root, 'pyc-audit.toml') }, { cwd: work });
    assert.equal(named.code, 0, named.stderr);
    assert.equal(named.stderr, `pyc-audit: config: ${join(root, 'pyc-audit.toml')}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
