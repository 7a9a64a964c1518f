// From stale artifacts to a rebuild plan: a channel built here whose .conda and .tar.bz2 carry the
// info/about.json extras of two feedstocks (and one build that records none), with build times in
// and out of an incident's window. The list by recipe, the window line, the selection by build
// time before any download (the HTTP request log), the rebuild-plan document, and shards merged
// equal to one unsharded run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildChannel } from './channel-builder.js';
import { condaOf, fullName, haveBzip2, pycBytes, tarBz2Of, type Package } from './package-builder.js';
import { serveFolder } from './http-server.js';
import { runAsync, type RunResult } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-plan-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ALPHA = 'https://github.com/conda-forge/alpha-feedstock';
const BETA = 'https://github.com/conda-forge/beta-feedstock';
const sha = (c: string) => c.repeat(40);

/** A py314 package whose one module's .pyc carries `magic`, built from `recipe` (about.json extras) at `built`. */
function pkg(name: string, build: string, magic: number, recipe: { url: string; sha: string } | null): Package {
  const site = 'lib/python3.14/site-packages';
  const source = Buffer.from(`# ${name}\n`);
  const mtime = 1_750_000_000;
  return {
    name,
    version: '1.0',
    build,
    depends: ['python >=3.14,<3.15.0a0', 'python_abi 3.14.* *_cp314'],
    files: [
      { path: `${site}/${name}/__init__.py`, data: source, mtime },
      { path: `${site}/${name}/__pycache__/__init__.cpython-314.pyc`, data: pycBytes(magic, { mtime, size: source.length }), mtime },
    ],
    about: recipe ? { home: 'https://example.org', extra: { remote_url: recipe.url.replace(/$/, '.git'), sha: recipe.sha, flow_run_id: 'azure_1' } } : { home: 'https://example.org', extra: {} },
  };
}

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
// name → [package, format, build time]
const BUILDS: [Package, 'conda' | 'tar.bz2', number][] = [
  [pkg('alpha', 'py314_0', 3626, { url: ALPHA, sha: sha('a') }), 'conda', day('2025-08-20')],
  [pkg('alpha', 'py314_1', 3626, { url: ALPHA, sha: sha('b') }), 'tar.bz2', day('2025-09-01')],
  [pkg('beta', 'py314_0', 3626, { url: BETA, sha: sha('c') }), 'conda', day('2025-09-10')],
  [pkg('gamma', 'py314_0', 3626, null), 'tar.bz2', day('2025-08-25')],
  // Outside the window: a build of the same recipe before the pre-release, and a clean later one.
  [pkg('beta', 'py314_9', 3626, { url: BETA, sha: sha('d') }), 'conda', day('2025-07-01')],
  [pkg('delta', 'py314_0', 3627, { url: 'https://github.com/conda-forge/delta-feedstock', sha: sha('e') }), 'conda', day('2025-10-01')],
];
const file = ([p, format]: (typeof BUILDS)[number]) => `${fullName(p)}.${format}`;

const source = join(dir, 'built');
const channel = join(dir, 'channel');
mkdirSync(source);
for (const b of BUILDS) writeFileSync(join(source, file(b)), b[1] === 'conda' ? condaOf(b[0]) : tarBz2Of(b[0]) ?? Buffer.alloc(0));
buildChannel(channel, { 'linux-64': BUILDS.map(file) }, { json: true, from: source, timestamp: (f) => BUILDS.find((b) => file(b) === f)?.[2] });

const WINDOW = ['--built-after', '2025-08-15', '--built-before', '2025-09-15'];
const skip = haveBzip2 ? false : 'no bzip2 program to build the .tar.bz2';
const audit = (...args: string[]): Promise<RunResult> => runAsync(['channel', ...args, '--no-learn-python', '-q']);

test('--list-stale --by recipe: each recipe once, with its commits and failing artifacts; builds without a recipe apart, by name', { skip }, async () => {
  const r = await audit(channel, '--list-stale', '--by', 'recipe');
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stdout,
    [
      `${ALPHA} ${sha('a')},${sha('b')} linux-64/alpha-1.0-py314_0 linux-64/alpha-1.0-py314_1`,
      `${BETA} ${sha('c')},${sha('d')} linux-64/beta-1.0-py314_0 linux-64/beta-1.0-py314_9`,
      'gamma - linux-64/gamma-1.0-py314_0',
      '',
    ].join('\n'),
  );
  assert.match(r.stderr, /--list-stale --by recipe: 1 package records no recipe/);
  // The default is a line per artifact, as before.
  assert.equal((await audit(channel, '--list-stale')).stdout, 'alpha-1.0-py314_0\nalpha-1.0-py314_1\nbeta-1.0-py314_0\nbeta-1.0-py314_9\ngamma-1.0-py314_0\n');
});

test('JSON carries each artifact\'s recipe and build time; the text summary says when the failing bytecode was built', { skip }, async () => {
  const doc = JSON.parse((await audit(channel, '--format', 'json')).stdout);
  const alpha = doc.artifacts.find((a: { path: string }) => a.path.endsWith('alpha-1.0-py314_1.tar.bz2'));
  assert.deepEqual(alpha.recipe, { url: ALPHA, sha: sha('b') });
  assert.equal(alpha.channel.timestamp, day('2025-09-01'));
  assert.equal(doc.artifacts.find((a: { path: string }) => a.path.endsWith('gamma-1.0-py314_0.tar.bz2')).recipe, null);
  assert.deepEqual(doc.summary.windows, [{ magic: 3626, artifacts: 5, firstBuilt: '2025-07-01T00:00:00.000Z', lastBuilt: '2025-09-10T00:00:00.000Z' }]);
  const text = await audit(channel);
  assert.match(text.stdout, /^ {2}magic 3626 \(3\.14rc2\) in 5 failing artifacts, built 2025-07-01T00:00:00Z to 2025-09-10T00:00:00Z/m);
});

test('--built-after/--built-before select by build time before anything is downloaded: the window line, and no request outside it', { skip }, async () => {
  const requests: string[] = [];
  const server = await serveFolder(() => channel, requests);
  try {
    const r = await audit(`${server.base}/`, ...WINDOW, '--list-stale', '--by', 'recipe');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /: 4 of 6 artifacts selected in linux-64 \(repodata\.json\); skipped 2 built outside --built-after\/--built-before/);
    assert.equal(r.stdout, [`${ALPHA} ${sha('a')},${sha('b')} linux-64/alpha-1.0-py314_0 linux-64/alpha-1.0-py314_1`, `${BETA} ${sha('c')} linux-64/beta-1.0-py314_0`, 'gamma - linux-64/gamma-1.0-py314_0', ''].join('\n'));
    const fetched = new Set(requests.filter((u) => /\.(conda|tar\.bz2)$/.test(u)).map((u) => u.split('/').pop()));
    assert.deepEqual([...fetched].sort(), ['alpha-1.0-py314_0.conda', 'alpha-1.0-py314_1.tar.bz2', 'beta-1.0-py314_0.conda', 'gamma-1.0-py314_0.tar.bz2']);
    // The same selection from the folder.
    assert.equal((await audit(channel, ...WINDOW, '--list-stale', '--by', 'recipe')).stdout, r.stdout);
  } finally {
    await server.close();
  }
  const bad = await audit(channel, '--built-after', '2025-09-15', '--built-before', '2025-08-15');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^pyc-audit: error: --built-after 2025-09-15T00:00:00\.000Z is not before --built-before 2025-08-15T00:00:00\.000Z\n/);
  const typo = await audit(channel, '--built-after', 'last week');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /--built-after.*expected a date/);
});

test('--format rebuild-plan: per recipe what a migration needs, sorted and fingerprinted, the same every run; shards merged give the same plan', { skip }, async () => {
  const plan = JSON.parse((await audit(channel, ...WINDOW, '--format', 'rebuild-plan')).stdout);
  assert.deepEqual(plan.tool.schema, 1);
  assert.deepEqual(plan.recipes.map((r: { url: string; commits: string[]; subdirs: string[] }) => [r.url, r.commits, r.subdirs]), [
    [ALPHA, [sha('a'), sha('b')], ['linux-64']],
    [BETA, [sha('c')], ['linux-64']],
  ]);
  assert.deepEqual(plan.recipes[0].artifacts[1], {
    id: 'alpha-1.0-py314_1',
    subdir: 'linux-64',
    path: join(channel, 'linux-64', 'alpha-1.0-py314_1.tar.bz2'),
    built: '2025-09-01T00:00:00.000Z',
    found: [3626],
    expected: { python: '3.14', implementation: 'CPython', magics: [3627] },
    codes: ['PYC001'],
  });
  assert.match(plan.recipes[0].fingerprint, /^[0-9a-f]{32}$/);
  assert.deepEqual(plan.unattributed.map((u: { name: string }) => u.name), ['gamma']);
  assert.deepEqual(plan.windows, [{ magic: 3626, artifacts: 4, firstBuilt: '2025-08-20T00:00:00.000Z', lastBuilt: '2025-09-10T00:00:00.000Z' }]);
  // Stable: a second run gives the same document.
  assert.deepEqual(JSON.parse((await audit(channel, ...WINDOW, '--format', 'rebuild-plan')).stdout), plan);
  // Shards, each written as ndjson, merged: the same plan and the same list as one run.
  const shards: string[] = [];
  for (const k of [1, 2, 3]) {
    const out = join(dir, `shard-${k}.ndjson`);
    const r = await audit(channel, ...WINDOW, '--shard', `${k}/3`, '--format', 'ndjson', '--output', out);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    shards.push(out);
  }
  const merged = await runAsync(['merge', '--format', 'rebuild-plan', ...shards]);
  assert.equal(merged.code, 1, merged.stderr);
  assert.deepEqual(JSON.parse(merged.stdout), plan);
  const list = await runAsync(['merge', '--list-stale', '--by', 'recipe', ...shards]);
  assert.equal(list.stdout, (await audit(channel, ...WINDOW, '--list-stale', '--by', 'recipe')).stdout);
});

test('an extracted package folder gives its recipe from info/about.json too', async () => {
  const cache = join(dir, 'pkgs');
  const p = pkg('zeta', 'py314_0', 3626, { url: BETA, sha: sha('f') });
  const { extract } = await import('./package-builder.js');
  extract(p, cache);
  const doc = JSON.parse((await runAsync(['--format', 'json', cache])).stdout);
  assert.deepEqual(doc.artifacts.map((a: { recipe: unknown }) => a.recipe), [{ url: BETA, sha: sha('f') }]);
  assert.equal(readFileSync(join(cache, fullName(p), 'info', 'about.json'), 'utf8').includes('beta-feedstock.git'), true);
});

test('the GitHub job summary groups what to rebuild by recipe', { skip }, async () => {
  const summary = join(dir, 'step-summary.md');
  writeFileSync(summary, '');
  const r = await runAsync(['channel', channel, ...WINDOW, '--no-learn-python', '-q', '--format', 'github'], { GITHUB_STEP_SUMMARY: summary });
  assert.equal(r.code, 1, r.stderr);
  const block = /### To rebuild \(4, --fail-on error\)\n\n```\n([\s\S]*?)\n```/.exec(readFileSync(summary, 'utf8'));
  assert.ok(block, readFileSync(summary, 'utf8'));
  assert.deepEqual(block[1]!.split('\n'), [`${ALPHA} ${sha('a')},${sha('b')}: alpha-1.0-py314_0 alpha-1.0-py314_1`, `${BETA} ${sha('c')}: beta-1.0-py314_0`, 'gamma-1.0-py314_0']);
});
