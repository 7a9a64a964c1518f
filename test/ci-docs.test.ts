// docs/ci.md stays true: its YAML parses and uses the action's real inputs, its options exist,
// and its GitHub, GitLab, conda-build, rattler-build and baseline recipes run as written — on a
// build that wrote only .conda (as conda-forge and rattler-build do) and on a mixed one — on
// copies of the fixtures made here, with stand-ins for `conda` and `rattler-build` (which this
// machine does not have) that write what they would write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BIN, fixture, ROOT, run } from './helpers.js';
import { readAction, runStep } from './action-steps.js';
import { sarifValidator } from './sarif-schema.js';

const doc = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
/** The sh block that follows a heading. */
const shAfter = (heading: string) => {
  const at = doc.indexOf(`## ${heading}`);
  assert.ok(at >= 0, heading);
  return /```sh\n([\s\S]*?)```/.exec(doc.slice(at))![1]!;
};

type Built = Record<string, string[]>;
/** What a build writes: only .conda (conda-forge, rattler-build), or .conda and .tar.bz2. */
const BUILDS: Record<string, Built> = {
  '.conda only': { 'linux-64': ['example-1.0-py314rc2_0.conda', 'example-1.0-py314_0.conda'], noarch: ['noarchpyc-1.0-pyh_0.conda'] },
  mixed: { 'linux-64': ['example-1.0-py314rc2_0.conda', 'example-1.0-py314rc2_0.tar.bz2', 'example-1.0-py314_0.tar.bz2'], noarch: ['noarchpyc-1.0-pyh_0.conda'] },
};

/** A folder with stand-in programs and `pyc-audit` (this checkout) on PATH; returns the env. */
function tools(dir: string, BUILT: Built): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const write = (name: string, text: string) => {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  };
  write('pyc-audit', `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  const copies = Object.entries(BUILT)
    .map(([subdir, files]) => `mkdir -p "$out/${subdir}"\n${files.map((f) => `cp "${fixture(f)}" "$out/${subdir}/"`).join('\n')}`)
    .join('\n');
  const repodata = (subdir: string, files: string[]) =>
    JSON.stringify({ info: { subdir }, ...Object.fromEntries(['packages', 'packages.conda'].map((key) => [key, Object.fromEntries(files.filter((f) => f.endsWith('.conda') === (key === 'packages.conda')).map((f) => { const [name, version, build] = f.replace(/\.(conda|tar\.bz2)$/, '').split(/-(?=[^-]+-[^-]+$)|-(?=[^-]+$)/); return [f, { name, version, build, depends: [], subdir }]; }))])) });
  // conda build RECIPE --output-folder DIR [--output]: builds into DIR/<subdir>/, or prints the paths.
  write('conda', `#!/usr/bin/env bash
out=; print=
while [ $# -gt 0 ]; do case "$1" in --output-folder) out="$2"; shift;; --output) print=1;; esac; shift; done
if [ -n "$print" ]; then
${Object.entries(BUILT).flatMap(([s, fs]) => fs.map((f) => `  echo "$PWD/$out/${s}/${f}"`)).join('\n')}
  exit 0
fi
${copies}
`);
  // rattler-build build --recipe R --output-dir DIR: artifacts, their index, and the work folders beside them.
  write('rattler-build', `#!/usr/bin/env bash
out=
while [ $# -gt 0 ]; do case "$1" in --output-dir) out="$2"; shift;; esac; shift; done
${copies}
${Object.entries(BUILT).map(([s, fs]) => `cat > "$out/${s}/repodata.json" <<'JSON'\n${repodata(s, fs)}\nJSON`).join('\n')}
mkdir -p "$out/bld/rattler-build_example/work/__pycache__" "$out/src_cache"
cp "${fixture('pyc', 'greeting.3.10.timestamp.pyc')}" "$out/bld/rattler-build_example/work/__pycache__/greeting.cpython-314.pyc"
cp "${fixture('example-1.0-py314rc1_0.conda')}" "$out/src_cache/"
`);
  return { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
}

const made: string[] = [];
test.after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

function runBlock(script: string, built: Built = BUILDS['.conda only']!) {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-ci-docs-'));
  made.push(dir);
  const env = tools(dir, built);
  mkdirSync(join(dir, 'recipe'));
  // -e: a line that fails stops the block (the last line's status is the block's).
  const r = spawnSync('bash', ['-e', '-c', script], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, dir };
}

test('docs/ci.md: the GitHub workflow parses and gives the action only inputs it has', () => {
  const workflow = parse(blocks('yaml')[0]!);
  const steps = workflow.jobs.build.steps as { uses?: string; with?: Record<string, string>; if?: string }[];
  const audit = steps.find((s) => s.uses?.includes('/pyc-audit@'))!;
  const inputs = readAction(ROOT).inputs;
  for (const key of Object.keys(audit.with!)) assert.ok(inputs[key], `no input ${key}`);
  const upload = steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))!;
  assert.equal(upload.with!.sarif_file, audit.with!['sarif-file']);
  assert.equal(upload.if, 'always()');
  // What GitHub documents for actions/checkout and upload-sarif.
  assert.deepEqual(workflow.jobs.build.permissions, { contents: 'read', 'security-events': 'write', actions: 'read' });
});

for (const [kind, built] of Object.entries(BUILDS)) {
  test(`docs/ci.md: the GitHub workflow's audit, as written, on a build of ${kind}: exit 1 on the stale build, a valid SARIF file`, () => {
    const steps = parse(blocks('yaml')[0]!).jobs.build.steps as { uses?: string; with?: Record<string, string> }[];
    const inputs = steps.find((s) => s.uses?.includes('/pyc-audit@'))!.with!;
    const { dir } = runBlock('conda build recipe/ --output-folder build_artifacts', built);
    const r = runStep(ROOT, 'audit', inputs, dir);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^::error file=build_artifacts\/linux-64\/example-1\.0-py314rc2_0\.(conda|tar\.bz2),/m);
    const sarif = JSON.parse(readFileSync(join(dir, inputs['sarif-file']!), 'utf8')) as { runs: { results: unknown[] }[] };
    const validate = sarifValidator();
    assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
    assert.ok(sarif.runs[0]!.results.length >= 1);
  });

  test(`docs/ci.md: the GitLab job's audit line, as written, on a build of ${kind}: the Code Quality report, exit 1`, () => {
    const job = parse(blocks('yaml')[1]!)['pyc-audit'];
    const line = (job.script as string[]).find((l) => l.startsWith('pyc-audit '))!;
    const r = runBlock(`conda build recipe/ --output-folder build_artifacts\nset +e\n${line}\necho "exit $?" >&2`, built);
    assert.match(r.stderr, /^exit 1$/m);
    const report = JSON.parse(readFileSync(join(r.dir, job.artifacts.reports.codequality), 'utf8')) as { check_name: string; location: { path: string } }[];
    assert.ok(report.some((i) => i.check_name === 'PYC001' && /^build_artifacts\/linux-64\/example-1\.0-py314rc2_0\./.test(i.location.path)), JSON.stringify(report));
  });
}

test('docs/ci.md: the GitLab job writes the Code Quality report it declares', () => {
  const job = parse(blocks('yaml')[1]!)['pyc-audit'];
  const audit = (job.script as string[]).find((l) => l.startsWith('pyc-audit '))!;
  assert.match(audit, new RegExp(`--format gitlab --output ${job.artifacts.reports.codequality}`));
  assert.equal(job.artifacts.when, 'always');
  assert.match(job.image, /^node:24/);
});

for (const [kind, built] of Object.entries(BUILDS)) {
  test(`docs/ci.md: the conda-build lines audit exactly what the recipe built (${kind})`, () => {
    const r = runBlock(shAfter('conda-build'), built);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, 'example-1.0-py314rc2_0\n');
  });

  test(`docs/ci.md: the rattler-build lines audit every package in the output folder and nothing in its work folders (${kind})`, () => {
    const r = runBlock(shAfter('rattler-build'), built);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, 'example-1.0-py314rc2_0\n');
    // A build that exists as .conda and .tar.bz2 is audited once (the .conda).
    assert.match(r.stderr, kind === 'mixed' ? /: 3 of 4 artifacts selected in linux-64\b.*, noarch\b.*; skipped 1 \.tar\.bz2 beside the \.conda of the same build/ : /: 3 of 3 artifacts selected in linux-64\b.*, noarch\b/);
  });
}

test('docs/ci.md: the baseline lines: record (exit 0), compare (exit 0), update (exit 0)', () => {
  const script = shAfter('Adopting it on a channel with findings: a baseline')
    .split('\n')
    .filter(Boolean)
    .map((line) => `${line.replace(/\s+#.*$/, '')}; echo "exit $?" >&2`)
    .join('\n');
  const r = runBlock(`conda build recipe/ --output-folder build_artifacts\nset +e\n${script}`);
  assert.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('exit')), ['exit 0', 'exit 0', 'exit 0']);
  assert.match(r.stderr, /recorded 2 findings; later runs report only new ones/);
  assert.match(r.stderr, /2 known findings not reported/);
});

test('every pyc-audit option used in docs/ci.md exists', () => {
  const help = [[], ['audit'], ['channel']].map((c) => run([...c, '--help']).stdout).join('\n');
  const known = new Set([...help.matchAll(/--[a-z][a-z-]+/g)].map((m) => m[0]));
  const used = new Set<string>();
  for (const line of doc.split('\n')) if (/pyc-audit /.test(line)) for (const m of line.matchAll(/(?<![\w-])--[a-z][a-z-]+/g)) used.add(m[0]);
  const foreign = new Set(['--output-folder', '--recipe', '--output-dir', '--global', '--ignore-scripts']);
  assert.deepEqual([...used].filter((o) => !known.has(o) && !foreign.has(o)), []);
});
