// Servers that close the connection: `python3 -m http.server`'s way (HTTP/1.0, no Range, close
// after each response) and a server that ends the socket while the client has the body paused.
// Node 22's and 24's bundled fetch died here with an uncatchable `assert(!this.paused)` (exit 1);
// every download now goes through npm undici (sources/access/net.ts), which reads them whole.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAsync } from './helpers.js';
import { condaOf, fullName, pycBytes, type Package } from './package-builder.js';
import { closeNetwork, netFetch } from '../src/sources/access/net.js';

const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-close-'));
const BIG = 4 << 20;

/** Packages with a large incompressible member, so the body outruns its reader and is paused. */
function pkg(i: number, magic: number): Package {
  return {
    name: `big${i}`,
    version: '1.0',
    build: 'py312_0',
    depends: ['python >=3.12,<3.13.0a0'],
    files: [
      { path: `lib/python3.12/site-packages/big${i}/blob.bin`, data: randomBytes(BIG), mtime: 1_700_000_000 },
      { path: `lib/python3.12/site-packages/big${i}/m.py`, data: Buffer.from('x = 1\n'), mtime: 1_700_000_000 },
      { path: `lib/python3.12/site-packages/big${i}/__pycache__/m.cpython-312.pyc`, data: pycBytes(magic, { mtime: 1_700_000_000, size: 6 }), mtime: 1_700_000_000 },
    ],
  };
}
const PACKAGES = [pkg(1, 3531), pkg(2, 3531), pkg(3, 3530)]; // 3531: 3.12 final; 3530: a 3.12 beta (stale)
const FILES = PACKAGES.map((p) => `${fullName(p)}.conda`);

/** An HTTP/1.0 server: the whole file or 404, no Range, the connection closed after each response. */
let http10: net.Server;
let http10Base = '';
const http10Requests: string[] = [];

before(async () => {
  mkdirSync(join(dir, 'linux-64'));
  mkdirSync(join(dir, 'noarch'));
  const packages: Record<string, unknown> = {};
  PACKAGES.forEach((p, i) => {
    const bytes = condaOf(p);
    writeFileSync(join(dir, 'linux-64', FILES[i]!), bytes);
    packages[FILES[i]!] = { name: p.name, version: p.version, build: p.build, build_number: 0, depends: p.depends, size: bytes.length, subdir: 'linux-64' };
  });
  writeFileSync(join(dir, 'linux-64', 'repodata.json'), JSON.stringify({ info: { subdir: 'linux-64' }, packages: {}, 'packages.conda': packages }));
  writeFileSync(join(dir, 'noarch', 'repodata.json'), JSON.stringify({ info: { subdir: 'noarch' }, packages: {}, 'packages.conda': {} }));
  http10 = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (data) => {
      const path = /^GET (\S+) HTTP/.exec(data.toString('latin1'))?.[1] ?? '/';
      http10Requests.push(path);
      let body: Buffer;
      try {
        body = readFileSync(join(dir, decodeURIComponent(path)));
      } catch {
        socket.end('HTTP/1.0 404 File not found\r\nServer: SimpleHTTP/0.6 Python/3.12\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      socket.write(`HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.12\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`);
      socket.end(body);
    });
  });
  await new Promise<void>((r) => http10.listen(0, '127.0.0.1', r));
  http10Base = `http://127.0.0.1:${(http10.address() as AddressInfo).port}`;
});

after(async () => {
  await closeNetwork();
  await new Promise((r) => http10.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const noProxy = { HTTP_PROXY: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined };

test('bodies read slowly while the server closes the connection are read whole (no crash)', async () => {
  const size = readFileSync(join(dir, 'linux-64', FILES[0]!)).length;
  // A slow reader: the client pauses the parser (backpressure), and the server's FIN arrives then.
  for (let i = 0; i < 6; i++) {
    const response = await netFetch(`${http10Base}/linux-64/${FILES[0]}`, { headers: { range: 'bytes=-65536' } });
    assert.equal(response.status, 200); // no Range: the whole file, then FIN
    const reader = response.body!.getReader();
    let n = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(n, size);
  }
});

test('a server that ends the socket mid-body while the client is paused: an error, not a crash', async () => {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG * 2}\r\nConnection: close\r\n\r\n`);
      socket.end(randomBytes(BIG)); // half of what it announced, then FIN
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const response = await netFetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    await new Promise((r) => setTimeout(r, 1000));
    await assert.rejects(response.arrayBuffer());
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('URLs on an HTTP/1.0 close-after-each-response server are audited (exit 1 for the stale one)', async () => {
  const r = await runAsync(['--format', 'json', ...FILES.map((f) => `${http10Base}/linux-64/${f}`)], noProxy);
  assert.equal(r.code, 1, r.stderr + r.stdout.slice(0, 3000));
  assert.doesNotMatch(r.stderr, /AssertionError|internal error/);
  const artifacts = JSON.parse(r.stdout).artifacts as { error: string | null; findings: { code: string }[] }[];
  assert.deepEqual(artifacts.map((a) => a.error), [null, null, null]);
  assert.ok(artifacts[2]!.findings.length > 0);
});

test('a channel on an HTTP/1.0 close-after-each-response server is audited', async () => {
  const r = await runAsync(['channel', `${http10Base}/`, '--subdir', 'linux-64', '--format', 'json', '--python', '3.12'], noProxy);
  assert.equal(r.code, 1, r.stderr + r.stdout.slice(0, 3000));
  assert.doesNotMatch(r.stderr, /AssertionError|internal error/);
  const artifacts = JSON.parse(r.stdout).artifacts as { error: string | null }[];
  assert.equal(artifacts.length, 3);
  assert.ok(artifacts.every((a) => a.error === null), r.stdout);
});
