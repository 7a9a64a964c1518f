// --cache on channel runs: the key covers every option that changes a result (a test per option
// that fails if it is dropped), and results are stored under the SHA-256 of the bytes audited,
// per artifact location, so channels that disagree about a SHA-256 cannot poison each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runAsync } from './helpers.js';
import { buildChannel } from './channel-builder.js';

const LAYOUT = {
  'linux-64': ['example-1.0-py314rc2_0.conda', 'example-1.0-py314_0.conda', 'mixed-1.0-py314_0.tar.bz2', 'checks-1.0-py311_0.conda', 'hashed-1.0-py313_0.tar.bz2'],
};
const COUNT = 5;

const hits = (stderr: string) => Number(/--cache: (\d+) of \d+ artifacts were already audited/.exec(stderr)?.[1] ?? NaN);
const artifacts = (stdout: string) => JSON.parse(stdout).artifacts as unknown[];

test('--cache: --select, --ignore and --magic-table are in the key (a cached result never answers for other options)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-cachekey-'));
  buildChannel(dir, LAYOUT, { json: true });
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-cache-'));
  const table = join(dir, 'extra.json');
  writeFileSync(table, JSON.stringify([{ magic: 3667, version: '3.15', releases: '3.15.0', final: true, note: 'hypothetical' }]));
  const populate = await runAsync(['channel', dir, '--cache', cache, '--format', 'json']);
  assert.equal(hits(populate.stderr), 0);
  assert.equal(hits((await runAsync(['channel', dir, '--cache', cache, '--format', 'json'])).stderr), COUNT);
  for (const options of [['--select', 'PYC0'], ['--ignore', 'PYC001'], ['--select', 'PYC1,PYC2', '--ignore', 'PYC106'], ['--magic-table', table]]) {
    const first = await runAsync(['channel', dir, '--cache', cache, '--format', 'json', ...options]);
    assert.equal(hits(first.stderr), 0, `${options.join(' ')}: a result cached without it was used`);
    // What the cache then gives is what a run without the cache reports.
    const again = await runAsync(['channel', dir, '--cache', cache, '--format', 'json', ...options]);
    assert.equal(hits(again.stderr), COUNT, options.join(' '));
    const fresh = await runAsync(['channel', dir, '--format', 'json', ...options]);
    assert.deepEqual(artifacts(again.stdout), artifacts(fresh.stdout), options.join(' '));
  }
  // The selection changes what is reported, so a key without it would have reported wrongly.
  const ignored = artifacts((await runAsync(['channel', dir, '--cache', cache, '--format', 'json', '--ignore', 'PYC001'])).stdout);
  assert.notDeepEqual(ignored, artifacts(populate.stdout));
  // Another table's content is another key, even under the same file name.
  writeFileSync(table, JSON.stringify([{ magic: 3668, version: '3.15', releases: '3.15.1', final: true, note: 'hypothetical too' }]));
  assert.equal(hits((await runAsync(['channel', dir, '--cache', cache, '--format', 'json', '--magic-table', table])).stderr), 0);
});

test('--cache: a channel listing its file under another file\'s SHA-256 gets an error, and plants nothing for the honest one', async () => {
  const honest = mkdtempSync(join(tmpdir(), 'pyc-audit-honest-'));
  const liar = mkdtempSync(join(tmpdir(), 'pyc-audit-liar-'));
  buildChannel(honest, { 'linux-64': ['example-1.0-py314_0.conda'] }, { json: true });
  buildChannel(liar, { 'linux-64': ['example-1.0-py314_0.conda'] }, { json: true });
  // The liar's file is a stale build under the good build's name and SHA-256.
  copyFileSync(fixture('example-1.0-py314rc2_0.conda'), join(liar, 'linux-64', 'example-1.0-py314_0.conda'));
  const lie = (edit: (record: Record<string, unknown>) => void) => {
    const doc = JSON.parse(readFileSync(join(liar, 'linux-64', 'repodata.json'), 'utf8'));
    edit(doc['packages.conda']['example-1.0-py314_0.conda']);
    writeFileSync(join(liar, 'linux-64', 'repodata.json'), JSON.stringify(doc));
  };
  lie((r) => (r.size = statSync(fixture('example-1.0-py314rc2_0.conda')).size));
  const honestRun = await runAsync(['channel', honest, '--format', 'json']);
  assert.equal(honestRun.code, 0, honestRun.stderr);
  for (const order of [['honest', 'liar'], ['liar', 'honest']]) {
    const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-cache-'));
    for (const who of order) {
      const r = await runAsync(['channel', who === 'honest' ? honest : liar, '--cache', cache, '--format', 'json']);
      if (who === 'honest') {
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout).artifacts.map((a: { path: string }) => a.path), JSON.parse(honestRun.stdout).artifacts.map((a: { path: string }) => a.path));
        assert.deepEqual(JSON.parse(r.stdout).summary, JSON.parse(honestRun.stdout).summary);
      } else {
        assert.equal(r.code, 2, `${order.join(' then ')}: ${r.stderr}`);
        assert.equal(hits(r.stderr), 0);
        const [artifact] = JSON.parse(r.stdout).artifacts;
        assert.match(artifact.error, /^its SHA-256 is [0-9a-f]{64}, not the [0-9a-f]{64} repodata gives: not audited$/);
      }
    }
  }
  // A file longer than repodata's size is not read past it.
  lie((r) => (r.size = 100));
  const short = await runAsync(['channel', liar, '--cache', mkdtempSync(join(tmpdir(), 'pyc-audit-cache-')), '--format', 'json']);
  assert.equal(JSON.parse(short.stdout).artifacts[0].error, 'larger than the 100 bytes repodata gives: not audited');
  // The liar's repodata, put right, gets its file audited (stale), not the honest channel's result.
  lie((r) => {
    delete r.sha256;
    delete r.size;
  });
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-cache-'));
  await runAsync(['channel', honest, '--cache', cache]);
  const fixed = await runAsync(['channel', liar, '--cache', cache, '--format', 'json']);
  assert.equal(fixed.code, 1, fixed.stderr);
  assert.equal(hits(fixed.stderr), 0);
});

test('--cache: what `magic --update` wrote is in the key (a result judged with another table is not reused)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-cachekey-update-'));
  buildChannel(dir, LAYOUT, { json: true });
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-cache-'));
  const home = mkdtempSync(join(tmpdir(), 'pyc-audit-xdg-'));
  const env = { XDG_CACHE_HOME: home };
  assert.equal(hits((await runAsync(['channel', dir, '--cache', cache, '--format', 'json'], env)).stderr), 0);
  assert.equal(hits((await runAsync(['channel', dir, '--cache', cache, '--format', 'json'], env)).stderr), COUNT);
  // an update file as `magic --update` writes it
  mkdirSync(join(home, 'pyc-audit'), { recursive: true });
  const update = { format: 'pyc-audit-magic-update/1', fetchedAt: '2026-12-06T00:00:00.000Z', tagsUrl: 'https://api.github.com', rawUrl: 'https://raw.githubusercontent.com', tagsListed: 700, after: '3.15rc1', releases: [{ tag: 'v3.15.0', version: '3.15', magic: 3667, file: 'Include/internal/pycore_magic_number.h', line: 313 }] };
  writeFileSync(join(home, 'pyc-audit', 'magic-update.json'), JSON.stringify(update));
  assert.equal(hits((await runAsync(['channel', dir, '--cache', cache, '--format', 'json'], env)).stderr), 0, 'a result cached before the update was used');
  assert.equal(hits((await runAsync(['channel', dir, '--cache', cache, '--format', 'json'], env)).stderr), COUNT);
  for (const d of [dir, cache, home]) rmSync(d, { recursive: true, force: true });
});
