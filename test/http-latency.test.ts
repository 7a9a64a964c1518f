// A channel on a server that adds latency to every request (a slow link): the default settings
// keep many downloads in flight (not --jobs, which follows the cores), reuse connections, and
// download no byte twice (bytes and requests counted by the server).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAsync } from './helpers.js';
import { zipOf, zstdFrame } from './archives.js';
import { fullName, infoFiles, pycBytes, tarOf, type Package } from './package-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-latency-'));
const COUNT = 24;
const DELAY_MS = 100;

/** As conda-build writes a .conda: metadata.json, the pkg- member, then the info- member. */
function conda(p: Package): Buffer {
  const name = fullName(p);
  return zipOf([
    { name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') },
    { name: `pkg-${name}.tar.zst`, data: zstdFrame(tarOf(p.files)) },
    { name: `info-${name}.tar.zst`, data: zstdFrame(tarOf(infoFiles(p))) },
  ]);
}

const stats = { requests: 0, bytes: 0, inFlight: 0, mostInFlight: 0, connections: 0 };
const sizes = new Map<string, number>();
let server: http.Server;
let base = '';

before(async () => {
  mkdirSync(join(dir, 'linux-64'));
  mkdirSync(join(dir, 'noarch'));
  const packages: Record<string, unknown> = {};
  for (let i = 0; i < COUNT; i++) {
    const sp = `lib/python3.12/site-packages/p${i}`;
    // Half of them larger than the tail request, so their pkg- member is read through a range.
    const p: Package = {
      name: `p${i}`,
      version: '1.0',
      build: 'py312_0',
      depends: ['python >=3.12,<3.13.0a0'],
      files: [
        { path: `${sp}/blob.bin`, data: randomBytes(i % 2 ? 200 << 10 : 2 << 10), mtime: 1_700_000_000 },
        { path: `${sp}/m.py`, data: Buffer.from('x = 1\n'), mtime: 1_700_000_000 },
        { path: `${sp}/__pycache__/m.cpython-312.pyc`, data: pycBytes(3531, { mtime: 1_700_000_000, size: 6 }), mtime: 1_700_000_000 },
      ],
    };
    const file = `${fullName(p)}.conda`;
    const bytes = conda(p);
    writeFileSync(join(dir, 'linux-64', file), bytes);
    sizes.set(`/linux-64/${file}`, bytes.length);
    packages[file] = { name: p.name, version: p.version, build: p.build, build_number: 0, depends: p.depends, size: bytes.length, subdir: 'linux-64' };
  }
  writeFileSync(join(dir, 'linux-64', 'repodata.json'), JSON.stringify({ info: { subdir: 'linux-64' }, packages: {}, 'packages.conda': packages }));
  writeFileSync(join(dir, 'noarch', 'repodata.json'), JSON.stringify({ info: { subdir: 'noarch' }, packages: {}, 'packages.conda': {} }));
  server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const artifact = sizes.has(path);
    if (artifact) {
      stats.requests++;
      stats.inFlight++;
      stats.mostInFlight = Math.max(stats.mostInFlight, stats.inFlight);
    }
    setTimeout(() => {
      if (artifact) stats.inFlight--;
      let data: Buffer;
      try {
        data = readFileSync(join(dir, path));
      } catch {
        res.writeHead(404).end();
        return;
      }
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      let body = data;
      if (m) {
        const start = m[1] === '' ? Math.max(0, data.length - Number(m[2])) : Number(m[1]);
        const end = m[1] !== '' && m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
        body = data.subarray(start, end + 1);
        res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}`, 'content-length': body.length });
      } else res.writeHead(200, { 'content-length': body.length });
      res.end(body, () => {
        if (artifact) stats.bytes += body.length;
      });
    }, DELAY_MS);
  });
  server.on('connection', () => stats.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const noProxy = { HTTP_PROXY: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined };

test('a channel on a slow link: many downloads in flight with default settings, kept-alive connections, no byte twice', async () => {
  const r = await runAsync(['channel', `${base}/`, '--subdir', 'linux-64', '--format', 'json', '--jobs', '2'], noProxy);
  assert.equal(r.code, 0, r.stderr);
  const artifacts = JSON.parse(r.stdout).artifacts as { error: string | null; pyc: unknown[] }[];
  assert.equal(artifacts.length, COUNT);
  assert.ok(artifacts.every((a) => a.error === null && a.pyc.length === 1), r.stdout);
  // No byte twice: the tail serves the members it holds, a member comes in one request.
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  assert.ok(stats.bytes <= total * 1.03, `${stats.bytes} bytes served for ${total} bytes of artifacts`);
  assert.ok(stats.requests / COUNT <= 2, `${stats.requests} requests for ${COUNT} artifacts`);
  // Downloads in flight follow --downloads (default in the tens), not --jobs 2.
  assert.ok(stats.mostInFlight >= 8, `at most ${stats.mostInFlight} artifact requests in flight`);
  // Keep-alive: fewer connections than requests (the two repodata documents included).
  assert.ok(stats.connections < stats.requests, `${stats.connections} connections for ${stats.requests} requests`);
});

test('--downloads 1: one artifact request at a time', async () => {
  stats.mostInFlight = 0;
  const r = await runAsync(['channel', `${base}/`, '--subdir', 'linux-64', '--format', 'json', '--downloads', '1', '--name', 'p1', '--name', 'p2', '--name', 'p3'], noProxy);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).artifacts.length, 3);
  assert.equal(stats.mostInFlight, 1);
});
