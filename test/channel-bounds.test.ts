// Channel documents bounded before they are believed: msgpack nested without end (a few KB of
// zstd that decode to hundreds of MiB of one-element arrays), and records whose fields are huge
// or outside conda's grammar. One error line naming the document, or the record passed over.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { runAsync } from './helpers.js';
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
