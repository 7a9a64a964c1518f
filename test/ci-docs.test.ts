// docs/ci.md stays true: its YAML parses and uses the action's real inputs, its options exist,
// and its conda-build, rattler-build and baseline lines run as written, on copies of the fixtures
// made here, with stand-ins for `conda` and `rattler-build` (which this machine does not have)
// that write what they would write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BIN, fixture, ROOT, run } from './helpers.js';
import { readAction } from './action-steps.js';

const doc = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
/** The sh block that follows a heading. */
const shAfter = (heading: string) => {
  const at = doc.indexOf(`## ${heading}`);
  assert.ok(at >= 0, heading);
  return /```sh\n([\s\S]*?)```/.exec(doc.slice(at))![1]!;
};

const BUILT = { 'linux-64': ['example-1.0-py314rc2_0.conda', 'example-1.0-py314_0.conda'], noarch: ['noarchpyc-1.0-pyh_0.conda'] };

/** A folder with stand-in programs and `pyc-audit` (this checkout) on PATH; returns the env. */
function tools(dir: string): NodeJS.ProcessEnv {
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
    JSON.stringify({ info: { subdir }, packages: {}, 'packages.conda': Object.fromEntries(files.map((f) => { const [name, version, build] = f.replace(/\.conda$/, '').split(/-(?=[^-]+-[^-]+$)|-(?=[^-]+$)/); return [f, { name, version, build, depends: [], subdir }]; })) });
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

function runBlock(script: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-ci-docs-'));
  const env = tools(dir);
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
  assert.equal(workflow.jobs.build.permissions['security-events'], 'write');
});

test('docs/ci.md: the GitLab job writes the Code Quality report it declares', () => {
  const job = parse(blocks('yaml')[1]!)['pyc-audit'];
  const audit = (job.script as string[]).find((l) => l.startsWith('pyc-audit '))!;
  assert.match(audit, new RegExp(`--format gitlab --output ${job.artifacts.reports.codequality}`));
  assert.equal(job.artifacts.when, 'always');
  assert.match(job.image, /^node:24/);
});

test('docs/ci.md: the conda-build lines audit exactly what the recipe built', () => {
  const r = runBlock(shAfter('conda-build'));
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, 'example-1.0-py314rc2_0\n');
});

test('docs/ci.md: the rattler-build lines audit every package in the output folder and nothing in its work folders', () => {
  const r = runBlock(shAfter('rattler-build'));
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, 'example-1.0-py314rc2_0\n');
  assert.match(r.stderr, /: 3 of 3 artifacts selected in linux-64\b.*, noarch\b/);
});

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
