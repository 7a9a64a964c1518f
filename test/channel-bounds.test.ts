// Channel documents bounded before they are believed: msgpack nested without end (a few KB of
// zstd that decode to hundreds of MiB of one-element arrays), and records whose fields are huge
// or outside conda's grammar. One error line naming the document, or the record passed over. And
// selected records held within a memory bound: spilled, merged back one per build, in order.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { runAsync, runMeasured } from './helpers.js';
import { startServer } from './http-server.js';
import { RecordStore, type StoredRecord } from '../src/channel/record-store.js';
import { host } from '../src/run/copies-dir.js';
import { buildChannel } from './channel-builder.js';
import { zstdFrame, zstdRuns } from './archives.js';
import { checkMsgpack } from '../src/channel/msgpack-bounds.js';

const root = mkdtempSync(join(tmpdir(), 'pyc-audit-bounds-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('checkMsgpack: depth and values bounded, a real document passes, truncation and stray bytes refused', () => {
  const doc = Buffer.from(encode({ info: { subdir: 'noarch' }, shards: { a: new Uint8Array(32), b: new Uint8Array(32) }, list: [1, -2, 3.5, 'x', null, true, [[]], 2 ** 40] }));
  checkMsgpack(doc, { maxDepth: 8, maxValues: 100 });
  assert.throws(() => checkMsgpack(Buffer.alloc(100, 0x91), { maxDepth: 8, maxValues: 1000 }), /nested more than 8 deep/);
  assert.throws(() => checkMsgpack(doc, { maxDepth: 8, maxValues: 10 }), /more than 10 values/);
  assert.throws(() => checkMsgpack(doc.subarray(0, doc.length - 1), { maxDepth: 8, maxValues: 100 }), /ends early/);
  assert.throws(() => checkMsgpack(Buffer.concat([doc, Buffer.from([0])]), { maxDepth: 8, maxValues: 100 }), /1 bytes after the document/);
});

test('a shard index of 200 MiB of nested arrays (a few KB of zstd): one error line naming it, exit 2, no heap blow-up', async () => {
  const dir = join(root, 'nested-index');
  buildChannel(dir, { noarch: ['noarchpyc-1.0-pyh_0.conda'] }, { shards: true });
  const index = join(dir, 'noarch', 'repodata_shards.msgpack.zst');
  writeFileSync(index, zstdRuns([{ byte: 0x91, count: 200 << 20 }]));
  const started = Date.now();
  const r = await runAsync(['channel', dir, '--subdir', 'noarch']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /repodata_shards\.msgpack\.zst: .*nested more than 8 deep/);
  assert.doesNotMatch(r.stderr, /heap|internal error|\n {4}at /);
  assert.ok(Date.now() - started < 60_000);
});

test('a shard nested without end: the shard is named, with the name it holds', async () => {
  const dir = join(root, 'nested-shard');
  const built = buildChannel(dir, { noarch: ['noarchpyc-1.0-pyh_0.conda'] }, { shards: true });
  const [[name, hex]] = Object.entries(built.shards.noarch!) as [[string, string]];
  // The shard is named by its SHA-256: the index is rewritten to point at the hostile one.
  const bomb = zstdRuns([{ byte: 0x91, count: 64 << 20 }]);
  const { createHash } = await import('node:crypto');
  const bombHex = createHash('sha256').update(bomb).digest('hex');
  writeFileSync(join(dir, 'noarch', 'shards', `${bombHex}.msgpack.zst`), bomb);
  const doc = { info: { base_url: './', shards_base_url: './shards/', subdir: 'noarch' }, repodata_version: 2, removed: [], shards: { [name]: Buffer.from(bombHex, 'hex') } };
  writeFileSync(join(dir, 'noarch', 'repodata_shards.msgpack.zst'), zstdFrame(Buffer.from(encode(doc))));
  assert.notEqual(hex, bombHex);
  const r = await runAsync(['channel', dir, '--subdir', 'noarch']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`${bombHex}\\.msgpack\\.zst \\(the shard of ${name}\\): .*nested more than 8 deep`));
});

test('records with a huge or ungrammatical fn, name, version or build are passed over, never printed', async () => {
  const dir = join(root, 'fields');
  buildChannel(dir, { 'linux-64': ['legacy-1.0-py36_0.conda'] }, { json: true });
  const path = join(dir, 'linux-64', 'repodata.json');
  const repodata = JSON.parse(readFileSync(path, 'utf8'));
  const good = repodata['packages.conda']['legacy-1.0-py36_0.conda'];
  const long = 'a'.repeat(1 << 20);
  repodata['packages.conda'][`${long}-1.0-py36_0.conda`] = { ...good, name: long };
  repodata['packages.conda']['evil-1.0-py36_0.conda'] = { ...good, name: 'evil', version: '1.0\u001b[31m' };
  repodata['packages.conda']['other-1.0-py36_0.conda'] = { ...good, name: 'other', build: 'b'.repeat(5000) };
  repodata['packages.conda']['we ird-1.0-py36_0.conda'] = { ...good, name: 'we ird' };
  writeFileSync(path, JSON.stringify(repodata));
  const r = await runAsync(['channel', dir, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stderr.length < 2000 && r.stdout.length < 100_000, 'nothing huge printed');
  assert.match(r.stderr, /4 not an artifact file name or record/);
  assert.deepEqual(JSON.parse(r.stdout).artifacts.map((a: { path: string }) => a.path.split('/').pop()), ['legacy-1.0-py36_0.conda']);
});

/** What the selector kept before records were spilled: a map by build, the .conda preferred, the first listing of a file. */
function reference(offers: StoredRecord[]): { kept: StoredRecord[]; duplicate: number } {
  const chosen = new Map<string, StoredRecord>();
  let duplicate = 0;
  const isConda = (r: StoredRecord) => r.file.endsWith('.conda');
  for (const r of offers) {
    const key = isConda(r) ? r.file.slice(0, -6) : r.file.slice(0, -8);
    const have = chosen.get(key);
    if (!have) {
      chosen.set(key, r);
      continue;
    }
    if (have.file !== r.file) duplicate++;
    if (isConda(r) && !isConda(have)) chosen.set(key, r);
  }
  return { kept: [...chosen.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)), duplicate };
}

test('the record store: spilled (runs merged 32 at a time) or not, the same records as a map by build, the same duplicates, nothing left on disk (a killed run\'s folder removed)', () => {
  // Builds that sort between a .conda and the .tar.bz2 of its build ("a-1-0.d…"), builds listed in
  // both formats in either order, files listed two and three times, and records without a digest.
  let seed = 7;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const offers: StoredRecord[] = [];
  for (let i = 0; i < 6000; i++) {
    const build = ['a-1-0', 'a-1-0.d', 'a-1-0.d.e', 'a-1-0.z', `p${random(900)}-1-${random(3)}`, `p${random(900)}-1-0.${random(5)}`][random(6)]!;
    offers.push({ file: `${build}${random(2) ? '.conda' : '.tar.bz2'}`, sha256: random(4) ? random(1e9).toString(16).padStart(64, '0') : null, size: random(3) ? random(1e6) : null, timestamp: random(3) ? 1.7e12 + i : null });
  }
  const want = reference(offers);
  const parent = mkdtempSync(join(root, 'spill-'));
  // What runs killed outright left: a dead process's folder goes; a live one's, and others, stay.
  const dead = `pyc-audit-records-${host()}-9999999-AbC123`;
  const living = `pyc-audit-records-${host()}-${process.ppid}-AbC123`;
  for (const name of [dead, living, 'pyc-audit-records-otherhost-9999999-AbC123', 'unrelated']) mkdirSync(join(parent, name));
  for (const memoryBytes of [1 << 30, 64 << 10, 300]) {
    const store = new RecordStore(memoryBytes, parent);
    for (const r of offers) store.add(r);
    assert.equal(store.spilled > 0, memoryBytes < 1 << 20, `spilled at ${memoryBytes} bytes`);
    const counts = { duplicate: 0 };
    assert.deepEqual([...store.records(counts)], want.kept, `memoryBytes ${memoryBytes}`);
    assert.equal(counts.duplicate, want.duplicate, `memoryBytes ${memoryBytes}`);
  }
  assert.deepEqual(readdirSync(parent).sort(), [living, 'pyc-audit-records-otherhost-9999999-AbC123', 'unrelated'].sort(), 'spilled runs removed, and the dead run\'s folder');
});

test('an endless but valid repodata.json over HTTP: stops at its cap naming repodata.json, exit 2, memory within bounds, nothing left in TMPDIR', async () => {
  const chunk = (from: number) => {
    let text = '';
    for (let i = from; i < from + 400; i++) text += `"p${i}-1.0-py312_0.conda":{"name":"p${i}","version":"1.0","build":"py312_0","depends":["python >=3.12,<3.13.0a0"],"sha256":"${i.toString(16).padStart(64, '0')}","size":${i},"timestamp":1700000000000},`;
    return Buffer.from(text);
  };
  let served = 0;
  const { base, close } = await startServer((req, res) => {
    if (req.url !== '/ch/linux-64/repodata.json') {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"info":{"subdir":"linux-64"},"packages":{},"packages.conda":{');
    let n = 0;
    const pump = () => {
      while (!res.destroyed) {
        const body = chunk(n);
        n += 400;
        served += body.length;
        if (!res.write(body)) return void res.once('drain', pump);
      }
    };
    pump();
  });
  const temp = mkdtempSync(join(root, 'tmpdir-'));
  try {
    // A 256 MiB cap instead of 2 GiB (PYC_AUDIT_REPODATA_MB): 1.4 million records, all selected.
    // V8's old generation capped at 64 MB: what the run holds must fit, whatever garbage the
    // collector lets wait (which differs by Node: 185 MB peak on Node 20, 310 on Node 24 uncapped).
    // Holding every record, as before, aborts at 1.6 s (624 MB uncapped).
    const r = await runMeasured(['channel', `${base}/ch`, '--subdir', 'linux-64'], { PYC_AUDIT_REPODATA_MB: '256', TMPDIR: temp }, ['--max-old-space-size=64']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `pyc-audit: error: ${base}/ch/linux-64/repodata.json: larger than the 256 MiB this file may have\n`);
    assert.ok(served >= 256 << 20, `served ${served} bytes`);
    assert.ok(r.rssMB < 300, `peak RSS ${r.rssMB} MB`); // 140-190 MB on Node 20, 22, 24 and 26
    assert.deepEqual(readdirSync(temp), [], 'spilled records removed');
  } finally {
    await close();
  }
});

test('more artifacts selected than one run audits within its memory budget: refused before any download, saying which --shard to use; a TMPDIR that cannot take the spill is said so', async () => {
  const dir = join(root, 'many');
  mkdirSync(join(dir, 'noarch'), { recursive: true });
  const packages: Record<string, object> = {};
  for (let i = 0; i < 2400; i++) packages[`p${i}-1-0.conda`] = { name: `p${i}`, version: '1', build: '0' };
  writeFileSync(join(dir, 'noarch', 'repodata.json'), JSON.stringify({ 'packages.conda': packages }));
  // PYC_AUDIT_MEMORY_MB=1: 2,000 artifacts a run.
  const r = await runAsync(['channel', dir], { PYC_AUDIT_MEMORY_MB: '1' });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `pyc-audit: error: ${dir}: 2400 artifacts selected, more than one run audits within its memory budget (2000 at PYC_AUDIT_MEMORY_MB=1): split the run with --shard K/2 (K from 1 to 2, one run each), or narrow it with --name, --python or --built-after/--built-before\n`);
  const narrowed = await runAsync(['channel', dir, '--name', 'p1?', '--format', 'json'], { PYC_AUDIT_MEMORY_MB: '1' });
  assert.equal(JSON.parse(narrowed.stdout).artifacts.length, 10, narrowed.stderr);
  // 2,400 records pass the 64 KiB a selector holds with that budget: spilled, to a TMPDIR that is not there.
  const missing = join(root, 'no-such-tmpdir');
  const nowhere = await runAsync(['channel', dir], { PYC_AUDIT_MEMORY_MB: '1', TMPDIR: missing });
  assert.equal(nowhere.code, 2);
  assert.equal(nowhere.stderr, `pyc-audit: error: ${join(dir, 'noarch', 'repodata.json')}: cannot spill the selected records to ${missing} (the temporary folder: TMPDIR): ENOENT\n`);
});
