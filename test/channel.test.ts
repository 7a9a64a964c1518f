// pyc-audit channel and merge, on a channel this test builds (three subdirs, repodata.json with
// sha256, stale and clean builds) and serves on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parseShard, shardOf } from '../src/channel/shard.js';
import { RecordSelector } from '../src/channel/repodata.js';
import { RepodataScanner } from '../src/channel/repodata-scan.js';
import { loadChannel } from '../src/channel/source.js';
import { fixture, runAsync } from './helpers.js';
import { serveFolder } from './http-server.js';
import { zstdFrame } from './archives.js';
import { sarifValidator } from './sarif-schema.js';

const CHANNEL: Record<string, string[]> = {
  'linux-64': [
    'example-1.0-py314rc2_0.conda',
    'example-1.0-py314rc2_0.tar.bz2', // the same build in both formats: the .conda is audited
    'example-1.0-py314_0.conda',
    'mixed-1.0-py314_0.tar.bz2',
    'legacy-1.0-py27_0.conda',
    'hashed-1.0-py313_0.tar.bz2',
    'checks-1.0-py311_0.conda',
  ],
  noarch: ['noarchpyc-1.0-pyh_0.conda'],
  'osx-arm64': ['example-1.0-py314rc1_0.conda', 'legacy-1.0-py36_0.tar.bz2'],
};
/**
 * The builds with an error-level finding: what --list-stale must print, in channel order.
 * legacy-1.0-py27_0 ships only __pycache__ bytecode, which 2.7 never reads (PYC202).
 */
const STALE = ['checks-1.0-py311_0', 'example-1.0-py314rc2_0', 'legacy-1.0-py27_0', 'mixed-1.0-py314_0', 'example-1.0-py314rc1_0'];

/** depends as conda-build writes them: python_abi and python for pyXY builds, python alone for noarch. */
function depends(build: string): string[] {
  const m = /^py(\d)(\d+)/.exec(build);
  if (!m) return ['python >=3.8'];
  const [major, minor] = [m[1], Number(m[2])];
  return [`python >=${major}.${minor},<${major}.${minor + 1}.0a0`, `python_abi ${major}.${minor}.* *_cp${major}${minor}`];
}

let dir = '';
let base = '';
let close: () => Promise<void>;
const requests: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pyc-audit-channel-'));
  for (const [subdir, files] of Object.entries(CHANNEL)) {
    mkdirSync(join(dir, subdir));
    const packages: Record<string, object> = {};
    const condaPackages: Record<string, object> = {};
    for (const file of files) {
      copyFileSync(fixture(file), join(dir, subdir, file));
      const bytes = readFileSync(fixture(file));
      const [, name, version, build] = /^(.+)-([^-]+)-([^-]+)\.(?:conda|tar\.bz2)$/.exec(file)!;
      const record = { name, version, build, build_number: 0, depends: depends(build!), sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, subdir };
      (file.endsWith('.conda') ? condaPackages : packages)[file] = record;
    }
    const repodata = JSON.stringify({ info: { subdir }, packages, 'packages.conda': condaPackages, repodata_version: 1 });
    writeFileSync(join(dir, subdir, 'repodata.json'), repodata);
    // As conda-forge does, beside the plain one: read first over HTTP (noarch has none here).
    if (subdir !== 'noarch') writeFileSync(join(dir, subdir, 'repodata.json.zst'), zstdFrame(Buffer.from(repodata)));
  }
  writeFileSync(join(dir, 'channeldata.json'), JSON.stringify({ channeldata_version: 1, subdirs: Object.keys(CHANNEL) }));
  const server = await serveFolder(() => dir, requests);
  base = server.base;
  close = server.close;
});

after(() => close());

const lines = (s: string) => s.trimEnd().split('\n').filter(Boolean);

test('a channel over HTTP: every selected artifact audited, in channel order; --list-stale lists exactly the stale builds', async () => {
  const r = await runAsync(['channel', base, '--format', 'json']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /: 9 of 10 artifacts selected in linux-64 \(repodata\.json\.zst\), noarch \(repodata\.json\), osx-arm64 \(repodata\.json\.zst\); skipped 1 \.tar\.bz2 beside the \.conda of the same build\n/);
  const doc = JSON.parse(r.stdout);
  const files = doc.artifacts.map((a: { channel: { subdir: string; file: string } }) => `${a.channel.subdir}/${a.channel.file}`);
  const expected = Object.entries(CHANNEL)
    .flatMap(([s, fs]) => fs.filter((f) => f !== 'example-1.0-py314rc2_0.tar.bz2').map((f) => `${s}/${f}`))
    .sort();
  assert.deepEqual(files, expected);
  assert.equal(doc.artifacts[0].path, `${base}/${expected[0]}`);
  assert.deepEqual(doc.artifacts[0].channel.shard, { index: 1, count: 1, size: 9, total: 9 });
  const stale = await runAsync(['channel', base, '--list-stale']);
  assert.deepEqual(lines(stale.stdout), STALE);
});

test('over HTTP, shards are looked for first, then repodata.json.zst, then repodata.json', async () => {
  requests.length = 0;
  const r = await runAsync(['channel', base, '--format', 'ndjson']);
  assert.ok(r.code === 1, r.stderr);
  assert.equal(lines(r.stdout).length, 9);
  const index = requests.filter((u) => /repodata/.test(u)).sort();
  assert.deepEqual(index, [
    '/linux-64/repodata.json.zst',
    '/linux-64/repodata_shards.msgpack.zst',
    '/noarch/repodata.json',
    '/noarch/repodata.json.zst',
    '/noarch/repodata_shards.msgpack.zst',
    '/osx-arm64/repodata.json.zst',
    '/osx-arm64/repodata_shards.msgpack.zst',
  ]);
});

test('--subdir, --name globs and --python choose the artifacts', async () => {
  const pick = async (...args: string[]) => {
    const r = await runAsync(['channel', base, '--format', 'ndjson', ...args]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    // ndjson lines come as artifacts finish; `index` is each one's place in channel order.
    const rows = lines(r.stdout).map((l) => JSON.parse(l) as { index: number; channel: { file: string } });
    return rows.sort((a, b) => a.index - b.index).map((row) => row.channel.file);
  };
  assert.deepEqual(await pick('--subdir', 'osx-arm64'), ['example-1.0-py314rc1_0.conda', 'legacy-1.0-py36_0.tar.bz2']);
  assert.deepEqual(await pick('--name', 'ex*,legacy', '--subdir', 'linux-64'), ['example-1.0-py314_0.conda', 'example-1.0-py314rc2_0.conda', 'legacy-1.0-py27_0.conda']);
  assert.deepEqual(await pick('--python', '3.14'), ['example-1.0-py314_0.conda', 'example-1.0-py314rc2_0.conda', 'mixed-1.0-py314_0.tar.bz2', 'example-1.0-py314rc1_0.conda']);
  const missing = await runAsync(['channel', base, '--subdir', 'win-64']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /win-64\/repodata\.json: not found \(is win-64 a subdir of this channel\?\)/);
});

test('4 shards, each run alone and merged, equal one unsharded run; a missing shard is a gap', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pyc-audit-shards-'));
  const whole = JSON.parse((await runAsync(['channel', base, '--format', 'json'])).stdout);
  const files: string[] = [];
  let sizes = 0;
  for (let k = 1; k <= 4; k++) {
    const file = join(out, `shard-${k}.ndjson`);
    const r = await runAsync(['channel', base, '--shard', `${k}/4`, '--format', 'ndjson', '--output', file]);
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const shard = lines(readFileSync(file, 'utf8')).map((l) => JSON.parse(l));
    for (const a of shard) assert.equal(shardOf(a.channel.subdir, a.channel.file, 4), k);
    sizes += shard.length;
    files.push(file);
  }
  assert.equal(sizes, 9);
  const merged = await runAsync(['merge', ...files, '--format', 'json']);
  assert.equal(merged.code, 1, merged.stderr);
  assert.equal(merged.stderr, '');
  const strip = (a: { channel: { shard: unknown } }) => ({ ...a, channel: { ...a.channel, shard: null } });
  assert.deepEqual(JSON.parse(merged.stdout).artifacts.map(strip), whole.artifacts.map(strip));
  assert.deepEqual(JSON.parse(merged.stdout).summary, whole.summary);
  // The same in text, and the rebuild list.
  const text = await runAsync(['merge', ...files, '--no-color']);
  assert.equal(text.stdout, (await runAsync(['channel', base, '--no-color'])).stdout);
  assert.deepEqual(lines((await runAsync(['merge', ...files, '--list-stale'])).stdout), STALE);
  // A shard left out (one that holds artifacts), and one given twice.
  const nonEmpty = files.filter((f) => readFileSync(f, 'utf8').length > 0);
  const gap = await runAsync(['merge', ...files.filter((f) => f !== nonEmpty[0]), nonEmpty[1]!]);
  assert.equal(gap.code, 2);
  assert.match(gap.stderr, /pyc-audit: error: gap: .*: \d of 9 artifacts are in shards no input has \(\d\/4/);
  assert.match(gap.stderr, /pyc-audit: warning: overlap: /);
  // A shard cut short: its last line lost.
  const cut = join(out, 'cut.ndjson');
  writeFileSync(cut, lines(readFileSync(nonEmpty[0]!, 'utf8')).slice(0, -1).join('\n'));
  const short = await runAsync(['merge', ...files.filter((f) => f !== nonEmpty[0]), cut]);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /gap: .*: shard \d\/4 has \d+ of its \d+ artifacts \(a run that stopped early\?\)/);
  const junk = join(out, 'junk.ndjson');
  writeFileSync(junk, 'not json\n');
  const bad = await runAsync(['merge', junk]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /junk\.ndjson: line 1 is not JSON/);
});

test('a channel run in SARIF validates; in JUnit it parses, a testcase per artifact', async () => {
  const sarif = await runAsync(['channel', base, '--format', 'sarif']);
  const doc = JSON.parse(sarif.stdout);
  const validate = sarifValidator();
  assert.ok(validate(JSON.parse(sarif.stdout)), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.ok(doc.runs[0].results.every((r: { properties: { artifact: string } }) => r.properties.artifact.startsWith(base)));
  const junit = await runAsync(['channel', base, '--format', 'junit']);
  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'testcase' }).parse(junit.stdout);
  const cases = xml.testsuites.testsuite.testcase;
  assert.equal(cases.length, 9);
  assert.deepEqual(cases.filter((c: { failure?: unknown }) => c.failure).map((c: { name: string }) => c.name.replace(/\.(conda|tar\.bz2)$/, '')), STALE); // testcases are named by file
});

test('--cache: a second run of an unchanged channel reads only repodata, and reports the same', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-cache-'));
  requests.length = 0;
  const first = await runAsync(['channel', base, '--cache', cache, '--format', 'json']);
  const artifactRequests = (rs: string[]) => rs.filter((u) => /\.(conda|tar\.bz2)$/.test(u));
  assert.ok(artifactRequests(requests).length >= 9);
  assert.match(first.stderr, /--cache: 0 of 9 artifacts were already audited/);
  requests.length = 0;
  const second = await runAsync(['channel', base, '--cache', cache, '--format', 'json']);
  assert.deepEqual(artifactRequests(requests), []);
  assert.match(second.stderr, /--cache: 9 of 9 artifacts were already audited/);
  assert.equal(second.code, first.code);
  assert.deepEqual(JSON.parse(second.stdout), JSON.parse(first.stdout));
  // Other options, other results: --python is part of the key.
  requests.length = 0;
  const other = await runAsync(['channel', base, '--cache', cache, '--python', '3.14', '--format', 'json']);
  assert.match(other.stderr, /--cache: 0 of 4 artifacts were already audited/);
  assert.equal(artifactRequests(requests).length > 0, true);
  // A new sha256 in repodata for an artifact: that one is read again (and, its bytes being the
  // old ones, reported as not matching repodata rather than audited).
  const repodata = join(dir, 'osx-arm64', 'repodata.json');
  const original = readFileSync(repodata, 'utf8');
  const originalZst = readFileSync(`${repodata}.zst`);
  const doc = JSON.parse(original);
  doc['packages.conda']['example-1.0-py314rc1_0.conda'].sha256 = 'f'.repeat(64);
  writeFileSync(repodata, JSON.stringify(doc));
  writeFileSync(`${repodata}.zst`, zstdFrame(Buffer.from(JSON.stringify(doc))));
  try {
    requests.length = 0;
    const third = await runAsync(['channel', base, '--cache', cache, '--format', 'json']);
    assert.match(third.stderr, /--cache: 8 of 9 artifacts were already audited/);
    assert.deepEqual(artifactRequests(requests).map((u) => u.split('/').pop()), ['example-1.0-py314rc1_0.conda']);
    assert.equal(third.code, 2);
    const changed = JSON.parse(third.stdout).artifacts.find((a: { channel: { file: string } }) => a.channel.file === 'example-1.0-py314rc1_0.conda');
    assert.match(changed.error, new RegExp(`^its SHA-256 is [0-9a-f]{64}, not the ${'f'.repeat(64)} repodata gives: not audited$`));
  } finally {
    writeFileSync(repodata, original);
    writeFileSync(`${repodata}.zst`, originalZst);
  }
  assert.ok(readdirSync(cache).length > 0);
});

test('a local channel folder works the same, and bad channels and shards are one error line', async () => {
  const local = JSON.parse((await runAsync(['channel', dir, '--format', 'json'])).stdout);
  assert.equal(local.artifacts.length, 9);
  assert.equal(local.artifacts[0].path, join(dir, 'linux-64', 'checks-1.0-py311_0.conda'));
  const empty = mkdtempSync(join(tmpdir(), 'pyc-audit-nochannel-'));
  const r = await runAsync(['channel', empty]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pyc-audit: error: .*: no <subdir>\/repodata\.json \(nor its \.zst, nor repodata_shards\.msgpack\.zst\): not a conda channel\n$/);
  const shard = await runAsync(['channel', dir, '--shard', '5/4']);
  assert.equal(shard.code, 2);
  assert.match(shard.stderr, /--shard 5\/4: K must be between 1 and N/);
});

test('shards: a fixed partition by subdir and file name; repodata parsing keeps to file names', () => {
  assert.deepEqual(parseShard('2/8'), { index: 2, count: 8 });
  assert.throws(() => parseShard('0/8'), /between 1 and N/);
  assert.throws(() => parseShard('2'), /expected K\/N/);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[shardOf('linux-64', `pkg${i}-1.0-0.conda`, 4) - 1]!++;
  for (const c of counts) assert.ok(c > 900 && c < 1100, `balanced: ${counts}`);
  assert.equal(shardOf('linux-64', 'a-1-0.conda', 4), shardOf('linux-64', 'a-1-0.conda', 4));
  const selector = new RecordSelector({ names: ['o?'], python: '3.14' });
  const scanner = new RepodataScanner((_table, file, value) => selector.offer('linux-64', file, value));
  scanner.push(Buffer.from(JSON.stringify({ packages: { '../../etc-1-0.tar.bz2': {}, 'ok-1-0.tar.bz2': { name: 'ok', version: '1', build: '0', depends: ['python_abi 3.14.* *_cp314'] } } })));
  scanner.end();
  assert.deepEqual([...selector.records()].map((r) => r.file), ['ok-1-0.tar.bz2']);
  assert.equal(selector.counts.badName, 1);
});

test('--resume: a report cut short by a crash is continued, not redone', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pyc-audit-resume-')), 'run.ndjson');
  const full = await runAsync(['channel', base, '--format', 'ndjson', '--output', out]);
  const all = lines(readFileSync(out, 'utf8'));
  assert.equal(all.length, 9, full.stderr);
  // The run died while writing its fourth line.
  writeFileSync(out, `${all.slice(0, 3).join('\n')}\n${all[3]!.slice(0, 40)}`);
  requests.length = 0;
  const resumed = await runAsync(['channel', base, '--format', 'ndjson', '--output', out, '--resume']);
  assert.equal(resumed.code, full.code, resumed.stderr);
  assert.match(resumed.stderr, /--resume: 3 of 9 artifacts are in .*run\.ndjson already/);
  const after = lines(readFileSync(out, 'utf8'));
  assert.equal(after.length, 9);
  assert.deepEqual(after.slice(0, 3), all.slice(0, 3));
  assert.deepEqual([...after].sort(), [...all].sort());
  const fetched = new Set(requests.filter((u) => /\.(conda|tar\.bz2)$/.test(u)).map((u) => u.split('/').pop()));
  for (const line of all.slice(0, 3)) assert.ok(!fetched.has(JSON.parse(line).channel.file), 'a finished artifact was read again');
  // The summary on the terminal counts all nine.
  assert.match(resumed.stdout, /^9 artifacts, /);
  const misuse = await runAsync(['channel', base, '--resume']);
  assert.equal(misuse.code, 2);
  assert.match(misuse.stderr, /--resume needs --format ndjson and --output FILE/);
});

test('a repodata.json of 200,000 records loads (no argument-count limits on the way)', async () => {
  const big = mkdtempSync(join(tmpdir(), 'pyc-audit-bigchannel-'));
  mkdirSync(join(big, 'linux-64'));
  const packages: Record<string, object> = {};
  for (let i = 0; i < 200_000; i++) packages[`p${i}-1-0.conda`] = { name: `p${i}`, version: '1', build: '0' };
  writeFileSync(join(big, 'linux-64', 'repodata.json'), JSON.stringify({ 'packages.conda': packages }));
  const all = await loadChannel(big, [], { timeoutSeconds: 5, selection: { names: [], python: null } });
  assert.equal(all.records.length, 200_000);
  const some = await loadChannel(big, [], { timeoutSeconds: 5, selection: { names: ['p1999?'], python: null } });
  assert.equal(some.records.length, 10);
  assert.deepEqual(some.counts, { ...some.counts, considered: 200_000, selected: 10, otherName: 199_990 });
});

test('--cache on a local channel whose repodata has no sha256: the files are hashed', async () => {
  const copy = mkdtempSync(join(tmpdir(), 'pyc-audit-nosha-'));
  for (const subdir of Object.keys(CHANNEL)) {
    mkdirSync(join(copy, subdir));
    for (const file of readdirSync(join(dir, subdir))) copyFileSync(join(dir, subdir, file), join(copy, subdir, file));
    const doc = JSON.parse(readFileSync(join(dir, subdir, 'repodata.json'), 'utf8'));
    for (const table of [doc.packages, doc['packages.conda']]) for (const r of Object.values(table) as { sha256?: string }[]) delete r.sha256;
    writeFileSync(join(copy, subdir, 'repodata.json'), JSON.stringify(doc));
  }
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-cache-'));
  const first = await runAsync(['channel', copy, '--cache', cache, '--format', 'json']);
  assert.match(first.stderr, /--cache: 0 of 9 artifacts were already audited/);
  const second = await runAsync(['channel', copy, '--cache', cache, '--format', 'json']);
  assert.match(second.stderr, /--cache: 9 of 9 artifacts were already audited/);
  const strip = (s: string) => JSON.parse(s).artifacts.map((a: { channel: { sha256: string } }) => a.channel.sha256);
  assert.deepEqual(strip(second.stdout), strip(first.stdout));
  assert.ok(strip(first.stdout).every((h: string) => /^[0-9a-f]{64}$/.test(h)));
});
