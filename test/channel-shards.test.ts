// Channel runs at scale: CEP-16 shards (only the wanted ones fetched, verified, cached), the
// preference between index forms, --shard agreement whichever form was read, and the bounds on
// what a channel's index may cost. Channels are built here, in a folder and served on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runAsync } from './helpers.js';
import { serveFolder } from './http-server.js';
import { zstdFrame } from './archives.js';
import { buildChannel, type Built, type Layout } from './channel-builder.js';

const LAYOUT: Layout = {
  'linux-64': [
    'example-1.0-py314rc2_0.conda',
    'example-1.0-py314rc2_0.tar.bz2',
    'example-1.0-py314_0.conda',
    'mixed-1.0-py314_0.tar.bz2',
    'legacy-1.0-py27_0.conda',
    'hashed-1.0-py313_0.tar.bz2',
    'checks-1.0-py311_0.conda',
    'checks-1.0-py310_0.tar.bz2',
  ],
  noarch: ['noarchpyc-1.0-pyh_0.conda'],
  'osx-arm64': ['example-1.0-py314rc1_0.conda', 'legacy-1.0-py36_0.tar.bz2'],
};

const root = mkdtempSync(join(tmpdir(), 'pyc-audit-channels-'));
const folders = {
  json: join(root, 'json'), // repodata.json only, no channeldata.json
  shards: join(root, 'shards'), // shards only, no channeldata.json
  all: join(root, 'all'), // every form, and channeldata.json
};
let built: Built;
let base = '';
let close: () => Promise<void>;
const requests: string[] = [];

before(async () => {
  buildChannel(folders.json, LAYOUT, { json: true });
  built = buildChannel(folders.shards, LAYOUT, { shards: true });
  buildChannel(folders.all, LAYOUT, { json: true, zst: true, shards: true, channeldata: true, shardsBaseUrl: '' });
  const server = await serveFolder(() => root, requests);
  base = server.base;
  close = server.close;
});

after(async () => {
  await close();
  rmSync(root, { recursive: true, force: true });
});

// ndjson lines come as each artifact finishes, each with its place in the channel's order: put them back in it.
const lines = (s: string) => s.trimEnd().split('\n').filter(Boolean).sort((a, b) => (JSON.parse(a).index as number) - (JSON.parse(b).index as number));
const files = (ndjson: string) => lines(ndjson).map((l) => JSON.parse(l).channel.file as string);

async function ndjson(...args: string[]) {
  const r = await runAsync(['channel', ...args, '--format', 'ndjson', '--quiet']);
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  return r;
}

test('a shards-only channel over HTTP with --name: the index, exactly the matching shards, then their artifacts', async () => {
  requests.length = 0;
  const r = await ndjson(`${base}/shards`, '--subdir', 'linux-64', '--name', 'ex*,mix?d');
  assert.deepEqual(files(r.stdout), ['example-1.0-py314_0.conda', 'example-1.0-py314rc2_0.conda', 'mixed-1.0-py314_0.tar.bz2']);
  const shardUrls = (names: string[]) => names.map((n) => `/shards/linux-64/shards/${built.shards['linux-64']![n]}.msgpack.zst`).sort();
  assert.deepEqual(requests.filter((u) => u.endsWith('.msgpack.zst')).sort(), ['/shards/linux-64/repodata_shards.msgpack.zst', ...shardUrls(['example', 'mixed'])].sort());
  assert.deepEqual(requests.filter((u) => /repodata\.json/.test(u)), [], 'repodata.json is not asked for when shards are there');
  assert.match(r.stderr, /: 3 of 4 artifacts selected in linux-64 \(shards: 2 of 5 names\); skipped 1 \.tar\.bz2 beside the \.conda of the same build\n/);
});

test('a channel without channeldata.json, over HTTP: the usual subdirs are looked for, and each form in turn', async () => {
  for (const form of ['json', 'shards'] as const) {
    requests.length = 0;
    const r = await ndjson(`${base}/${form}`);
    assert.equal(lines(r.stdout).length, 10, r.stderr);
    assert.ok(requests.includes(`/${form}/channeldata.json`));
    // A subdir the channel does not have: each form asked for once, then passed over.
    assert.deepEqual(requests.filter((u) => u.startsWith(`/${form}/win-64/`)).sort(), [`/${form}/win-64/repodata.json`, `/${form}/win-64/repodata.json.zst`, `/${form}/win-64/repodata_shards.msgpack.zst`]);
  }
});

test('every form of the index gives the same artifacts and reports, in a folder and over HTTP', async () => {
  const reference = await ndjson(folders.json);
  const strip = (out: string) => lines(out).map((l) => {
    const a = JSON.parse(l);
    const local = (p: string) => p.replace(/^.*\/(?:json|shards|all)(?=\/|$)/, '');
    return { ...a, path: local(a.path), channel: { ...a.channel, channel: local(a.channel.channel) } };
  });
  for (const source of [folders.shards, folders.all, `${base}/json`, `${base}/shards`, `${base}/all`]) {
    const r = await ndjson(source);
    assert.deepEqual(strip(r.stdout), strip(reference.stdout), source);
  }
  // The channel with every form: shards are read, from beside the index (shards_base_url "").
  requests.length = 0;
  const all = await ndjson(`${base}/all`, '--subdir', 'osx-arm64');
  assert.match(all.stderr, /selected in osx-arm64 \(shards: 2 of 2 names\)/);
  assert.deepEqual(requests.filter((u) => /repodata/.test(u)), ['/all/osx-arm64/repodata_shards.msgpack.zst']);
});

test('--shard 1/3 … 3/3 merged equals the unsharded run, with repodata.json and with shards, and the shards agree across forms', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pyc-audit-k-of-n-'));
  const perShard: Record<string, string[][]> = {};
  for (const form of ['json', 'shards'] as const) {
    const whole = await runAsync(['channel', folders[form], '--format', 'json']);
    const reports: string[] = [];
    perShard[form] = [];
    for (let k = 1; k <= 3; k++) {
      const file = join(out, `${form}-${k}.ndjson`);
      const r = await runAsync(['channel', folders[form], '--shard', `${k}/3`, '--format', 'ndjson', '--output', file]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      reports.push(file);
      perShard[form]!.push(files(readFileSync(file, 'utf8')));
    }
    const merged = await runAsync(['merge', ...reports, '--format', 'json']);
    assert.equal(merged.stderr, '');
    const strip = (a: { channel: { shard: unknown } }) => ({ ...a, channel: { ...a.channel, shard: null } });
    assert.deepEqual(JSON.parse(merged.stdout).artifacts.map(strip), JSON.parse(whole.stdout).artifacts.map(strip));
    assert.deepEqual(JSON.parse(merged.stdout).summary, JSON.parse(whole.stdout).summary);
  }
  assert.deepEqual(perShard.shards, perShard.json);
  assert.ok(perShard.json!.filter((s) => s.length > 0).length >= 2, 'the artifacts spread over several shards');
});

test('--cache keeps shards by their SHA-256: a second run fetches the index, no shard, no artifact', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'pyc-audit-shardcache-'));
  const first = await ndjson(`${base}/shards`, '--subdir', 'linux-64', '--cache', cache);
  assert.ok(existsSync(join(cache, 'shards')));
  requests.length = 0;
  const second = await ndjson(`${base}/shards`, '--subdir', 'linux-64', '--cache', cache);
  assert.deepEqual(requests, ['/shards/linux-64/repodata_shards.msgpack.zst']);
  assert.match(second.stderr, /\(shards: 5 of 5 names, 5 from --cache\)/);
  assert.deepEqual(lines(second.stdout), lines(first.stdout));
  // A damaged shard in the cache is not used: fetched again, and verified.
  const hex = built.shards['linux-64']!.example!;
  writeFileSync(join(cache, 'shards', hex.slice(0, 2), `${hex}.msgpack.zst`), 'damaged');
  requests.length = 0;
  const third = await ndjson(`${base}/shards`, '--subdir', 'linux-64', '--cache', cache);
  assert.deepEqual(requests.filter((u) => u.includes('/shards/linux-64/shards/')), [`/shards/linux-64/shards/${hex}.msgpack.zst`]);
  assert.deepEqual(lines(third.stdout), lines(first.stdout));
});

test('a shard whose bytes do not have the SHA-256 the index gives is refused, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-badshard-'));
  const b = buildChannel(dir, { 'linux-64': ['example-1.0-py314_0.conda', 'legacy-1.0-py27_0.conda'] }, { shards: true });
  const hex = b.shards['linux-64']!.legacy!;
  const shard = join(dir, 'linux-64', 'shards', `${hex}.msgpack.zst`);
  writeFileSync(shard, Buffer.concat([readFileSync(shard), Buffer.from([0])]));
  const r = await runAsync(['channel', dir]);
  assert.equal(r.code, 2);
  const actual = createHash('sha256').update(readFileSync(shard)).digest('hex');
  assert.equal(r.stderr, `pyc-audit: error: ${shard}: SHA-256 is ${actual}, the shard index says ${hex}\n`);
  // With --name, only the other shard is read: the damaged one does not matter.
  const other = await runAsync(['channel', dir, '--name', 'example', '--format', 'ndjson']);
  assert.equal(lines(other.stdout).length, 1, other.stderr);
});

test('a damaged form gives way to the next with a warning; a repodata.json.zst bomb stops at the first bad byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-bomb-'));
  buildChannel(dir, { 'linux-64': ['example-1.0-py314_0.conda'] }, { json: true });
  // 32 KB of RLE blocks that decompress to zeros: gigabytes, if it were all read.
  writeFileSync(join(dir, 'linux-64', 'repodata.json.zst'), zstdFrame(Buffer.alloc(0), 2 ** 30));
  assert.ok(readFileSync(join(dir, 'linux-64', 'repodata.json.zst')).length < 40 << 10);
  const started = Date.now();
  const r = await runAsync(['channel', dir, '--format', 'ndjson']);
  assert.ok(Date.now() - started < 60_000, 'a hang');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(lines(r.stdout).length, 1);
  assert.match(r.stderr, /^pyc-audit: warning: .*repodata\.json\.zst: not JSON: unexpected byte 0x00 at byte 0; read .*repodata\.json instead\n/);
  // Without the plain document to fall back on, it is the error.
  rmSync(join(dir, 'linux-64', 'repodata.json'));
  const bomb = await runAsync(['channel', dir]);
  assert.equal(bomb.code, 2);
  assert.match(bomb.stderr, /^pyc-audit: error: .*repodata\.json\.zst: not JSON: unexpected byte 0x00 at byte 0\n$/);
});

test('channeldata.json subdirs that are not subdir names ("..", ".") are refused, as --subdir .. is', async () => {
  for (const bad of ['..', '.', 'a/b']) {
    const name = `evil${bad.length}${bad.includes('/') ? 's' : ''}`;
    const dir = join(root, name);
    buildChannel(dir, { 'linux-64': ['example-1.0-py314_0.conda'] }, { json: true });
    writeFileSync(join(dir, 'channeldata.json'), JSON.stringify({ subdirs: ['linux-64', bad] }));
    const r = await runAsync(['channel', `${base}/${name}`]);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, new RegExp(`^pyc-audit: error: .*/${name}/channeldata\\.json: subdir "${bad.replace(/\./g, '\\.')}" is not a subdir name\\n$`));
  }
  const flag = await runAsync(['channel', folders.json, '--subdir', '..']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--subdir \.\.: not a subdir name/);
});

test('--python and --name decide from the records: the others are never downloaded, and the run says why', async () => {
  requests.length = 0;
  const r = await ndjson(`${base}/json`, '--python', '3.14');
  assert.deepEqual(files(r.stdout), ['example-1.0-py314_0.conda', 'example-1.0-py314rc2_0.conda', 'mixed-1.0-py314_0.tar.bz2', 'example-1.0-py314rc1_0.conda']);
  assert.match(r.stderr, /: 4 of 11 artifacts selected in linux-64 \(repodata\.json\), noarch \(repodata\.json\), osx-arm64 \(repodata\.json\); skipped 5 for another Python, 1 depending on no Python, 1 \.tar\.bz2 beside the \.conda of the same build\n/);
  const downloaded = new Set(requests.filter((u) => /\.(conda|tar\.bz2)$/.test(u)).map((u) => u.split('/').pop()));
  assert.deepEqual([...downloaded].sort(), files(r.stdout).sort());
});

test('a local channel whose repodata.json is a FIFO: one error line, no hang', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-fifo-'));
  buildChannel(dir, { 'linux-64': ['example-1.0-py314_0.conda'] }, {});
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [join(dir, 'linux-64', 'repodata.json')]);
  const started = Date.now();
  const r = await runAsync(['channel', dir, '--subdir', 'linux-64']);
  assert.ok(Date.now() - started < 60_000, 'a hang');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pyc-audit: error: .*linux-64\/repodata\.json: not a regular file \(a FIFO\)\n$/);
  assert.ok(readdirSync(join(dir, 'linux-64')).includes('repodata.json'));
});

test('a remote shard index cannot send the run to local files: file: bases are refused', async () => {
  for (const [field, value] of [['shards_base_url', 'file:///etc/'], ['base_url', 'file:///etc/']] as const) {
    const name = `fileurl-${field}`;
    buildChannel(join(root, name), { 'linux-64': ['example-1.0-py314_0.conda'] }, { shards: true, indexInfo: { [field]: value } });
    const r = await runAsync(['channel', `${base}/${name}`, '--subdir', 'linux-64']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `pyc-audit: error: ${base}/${name}/linux-64/repodata_shards.msgpack.zst: ${field} file:///etc/ is not http(s), and a remote channel may point nowhere else\n`);
  }
});
