// Hostile and broken servers, each built here on 127.0.0.1: every download ends, every body the
// reader stops reading is cancelled, memory stays flat, and an artifact much larger than the tail
// request is read through ranges (the server's log says which bytes went out).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { storedZip, tarHeader, zstdFrame } from './archives.js';
import { TAIL_BYTES } from '../src/sources/access/http.js';
import { CORPUS, fixture, haveCorpus, ROOT, run, runAsync, runMeasured } from './helpers.js';
import { sendBytes, startServer } from './http-server.js';

interface Served {
  url: string;
  range: string | null;
  acceptEncoding: string | null;
  bytes: number;
  /** The client went away before the response ended. */
  aborted: boolean;
}

const log: Served[] = [];
const routes = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse, entry: Served) => void>();
let base = '';
let close: () => Promise<void> = async () => {};
const open = new Set<http.ServerResponse>();

before(async () => {
  ({ base, close } = await startServer((req, res) => {
    const entry: Served = { url: req.url ?? '/', range: req.headers.range ?? null, acceptEncoding: (req.headers['accept-encoding'] as string) ?? null, bytes: 0, aborted: false };
    log.push(entry);
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      if (!res.writableFinished) entry.aborted = true;
    });
    const route = routes.get(new URL(entry.url, 'http://x').pathname);
    if (!route) {
      res.writeHead(404);
      res.end();
      return;
    }
    route(req, res, entry);
  }));
});
after(async () => {
  for (const res of open) res.destroy();
  await close();
});

/** Writes chunks of `chunk` forever (until the client goes away), as fast as the socket takes them. */
function endless(res: http.ServerResponse, entry: Served, chunk: Buffer): void {
  const pump = () => {
    while (!res.destroyed) {
      entry.bytes += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

const GOOD = fixture('example-1.0-py314_0.conda');

test('an endless 206 body to the tail request: read no further than asked, cancelled, memory flat', async () => {
  routes.set('/endless-206.conda', (_req, res, entry) => {
    res.writeHead(206, { 'content-range': `bytes ${1e9 - TAIL_BYTES}-${1e9 - 1}/${1e9}` });
    endless(res, entry, Buffer.alloc(1 << 16));
  });
  const r = await runMeasured(['--format', 'json', `${base}/endless-206.conda`, GOOD]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `pyc-audit: error: ${base}/endless-206.conda: the server sent more than the ${TAIL_BYTES} bytes asked for\n`);
  assert.equal(JSON.parse(r.stdout).artifacts[1].error, null, 'the other input is still audited');
  assert.ok(r.rssMB < 200, `peak RSS ${r.rssMB} MB`);
  const served = log.filter((e) => e.url === '/endless-206.conda');
  assert.equal(served.length, 1);
  assert.ok(served[0]!.aborted, 'the download was cancelled');
  assert.match(served[0]!.acceptEncoding ?? '', /^identity(, identity)*$/);
});

test('a Content-Encoding not asked for (a GiB of zeros in 1 MB of gzip) is refused, not inflated', async () => {
  // 1 GiB of zeros as 1,024 gzip members of a MiB each (gzip allows members back to back).
  const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  const zeros = Buffer.concat(Array.from({ length: 1024 }, () => member));
  routes.set('/gzip.conda', (_req, res, entry) => {
    res.writeHead(206, { 'content-range': `bytes ${1e9 - TAIL_BYTES}-${1e9 - 1}/${1e9}`, 'content-encoding': 'gzip' });
    entry.bytes = zeros.length;
    res.end(zeros);
  });
  routes.set('/gzip-200.tar.bz2', (req, res) => {
    if (req.headers.range) {
      res.writeHead(416);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-encoding': 'gzip' });
    res.end(zeros);
  });
  const r = await runMeasured([`${base}/gzip.conda`, `${base}/gzip-200.tar.bz2`, GOOD]);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(r.stderr.trim().split('\n'), [
    `pyc-audit: error: ${base}/gzip.conda: the server sent the file with Content-Encoding: gzip, which was not asked for`,
    `pyc-audit: error: ${base}/gzip-200.tar.bz2: the server sent the file with Content-Encoding: gzip, which was not asked for`,
  ]);
  assert.ok(r.rssMB < 200, `peak RSS ${r.rssMB} MB`);
});

/** A .conda larger than the tail request: a .pyc and 256 KiB of incompressible data. */
function bigConda(): Buffer {
  const blob = randomBytes(256 << 10);
  const head = Buffer.from('2b0e0d0a000000000000000000000000', 'hex');
  const tar = Buffer.concat([tarHeader('lib/python3.14/__pycache__/x.cpython-314.pyc', 16), head, Buffer.alloc(496), tarHeader('data/blob.bin', blob.length), blob, Buffer.alloc(1024)]);
  return storedZip('pkg-big-1.0-py314_0.tar.zst', zstdFrame(tar));
}

test('a range body longer than asked for is cancelled, and the process exits', async () => {
  const conda = bigConda();
  routes.set('/long-range.conda', (req, res, entry) => {
    if (/^bytes=-/.test(req.headers.range ?? '')) {
      entry.bytes = sendBytes(req, res, conda);
      return;
    }
    // Any other range: the right Content-Range and the bytes asked for, then bytes forever.
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')!;
    res.writeHead(206, { 'content-range': `bytes ${m[1]}-${m[2]}/${conda.length}` });
    res.write(conda.subarray(Number(m[1]), Number(m[2]) + 1));
    endless(res, entry, Buffer.alloc(1 << 16));
  });
  const started = Date.now();
  const r = await runAsync(['--format', 'json', `${base}/long-range.conda`]);
  assert.ok(Date.now() - started < 30_000, 'the process exited');
  // Read no further than asked, then cancelled: the extra bytes are never believed. Whether they
  // arrived in the same chunk as the last bytes asked for (an error) or after (not read) is the
  // network's timing (and a decoder may see its input cut short first).
  const error = JSON.parse(r.stdout).artifacts[0].error;
  if (error === null) assert.equal(r.stderr, '');
  else assert.match(r.stderr, /^pyc-audit: error: .*long-range\.conda: (.*: )?(the server sent more than the (\d+ )?bytes asked for.*|truncated: .*)\n$/);
  const ranged = log.filter((e) => e.url === '/long-range.conda' && !/^bytes=-/.test(e.range ?? ''));
  assert.ok(ranged.length >= 1 && ranged.every((e) => e.aborted), JSON.stringify(ranged));
});

test('a server trickling a byte at a time: --deadline ends the download whatever --timeout says', async () => {
  routes.set('/trickle.tar.bz2', (req, res) => {
    if (req.headers.range) {
      res.writeHead(416);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-length': 1e6 });
    const bytes = readFileSync(fixture('legacy-1.0-py27_0.tar.bz2'));
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed || at >= bytes.length) return clearInterval(timer);
      res.write(bytes.subarray(at, ++at));
    }, 100);
    res.on('close', () => clearInterval(timer));
  });
  const started = Date.now();
  const r = await runAsync(['--timeout', '5', '--deadline', '2', `${base}/trickle.tar.bz2`]);
  assert.ok(Date.now() - started < 30_000);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `pyc-audit: error: ${base}/trickle.tar.bz2: timed out: not complete after 2 s (--deadline)\n`);
  assert.ok(log.filter((e) => e.url === '/trickle.tar.bz2' && !e.range).every((e) => e.aborted));
});

test('--timeout and --deadline are checked against what a timer can hold', () => {
  for (const args of [['--timeout', '2147484'], ['--deadline', '2147484'], ['--timeout', '0'], ['--deadline', 'soon']]) {
    const r = run([...args, GOOD]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`^pyc-audit: error: option '${args[0]} <seconds>' argument '${args[1]}' is invalid\\. expected a whole number of seconds from 1 to 2147483\\n`));
  }
  assert.equal(run(['--timeout', '2147483', '--deadline', '2147483', GOOD]).code, 0);
});

test('an artifact much larger than the tail request is read through ranges: only what the audit needs is sent', async (t) => {
  // A 4 MiB wheel: one large native library, and small .pyc whose heads are all the audit reads.
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-http-'));
  const py = spawn('python3', ['-c', `
import sys, zipfile
pyc = bytes.fromhex('cb0d0d0a000000000000000000000000') + b'\\xe3' * 200
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('demo-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\n')
    z.writestr('demo/_native.so', open('/dev/urandom', 'rb').read(4 << 20))
    for i in range(20):
        z.writestr('demo/__pycache__/m%d.cpython-312.pyc' % i, pyc)
`, join(dir, 'big.whl')]);
  const made = await new Promise<number | null>((r) => py.on('close', r).on('error', () => r(null)));
  if (made !== 0) return t.skip('no python3 to build the wheel with');
  const wheel = readFileSync(join(dir, 'big.whl'));
  routes.set('/big.whl', (req, res, entry) => {
    entry.bytes = sendBytes(req, res, wheel);
  });
  const local = JSON.parse(run(['--format', 'json', join(dir, 'big.whl')]).stdout).artifacts[0];
  log.length = 0;
  const r = await runAsync(['--format', 'json', `${base}/big.whl`]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  const remote = JSON.parse(r.stdout).artifacts[0];
  assert.deepEqual(remote.pyc, local.pyc);
  assert.equal(remote.pyc.length, 20);
  const served = log.filter((e) => e.url === '/big.whl');
  assert.ok(served.every((e) => e.range !== null), 'every request asked for a range');
  const total = served.reduce((n, e) => n + e.bytes, 0);
  assert.ok(total < 256 << 10, `${total} bytes sent of a ${wheel.length}-byte wheel`);
});

test('an endless .pyc download ends at --max-bytes, and is cancelled', async () => {
  routes.set('/endless.pyc', (_req, res, entry) => {
    res.writeHead(200);
    res.write(Buffer.from('cb0d0d0a000000000000000000000000', 'hex'));
    endless(res, entry, Buffer.alloc(1 << 16));
  });
  const started = Date.now();
  const r = await runAsync(['--max-bytes', '1M', `${base}/endless.pyc`, GOOD]);
  assert.ok(Date.now() - started < 30_000);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `pyc-audit: error: ${base}/endless.pyc: --max-bytes reached: stopped after 1048576 bytes of decompressed data, not all of the artifact was audited\n`);
  assert.match(r.stdout, /^OK +\S*example-1\.0-py314_0\.conda /m);
  assert.ok(log.filter((e) => e.url === '/endless.pyc').every((e) => e.aborted), 'the download was cancelled');
});

test('a file replaced on the server between range requests is an error, not a verdict on a mix of two files: another size, another ETag', { skip: !haveCorpus && 'no ../shared/corpus' }, async () => {
  // A real .conda larger than the tail request: its pkg- member is read by a second request.
  const conda = readFileSync(join(CORPUS, 'conda', 'conda+conda-package-handling', 'mock-2.0.0-py37_1000.conda'));
  assert.ok(conda.length > TAIL_BYTES);
  /** Honours Range, and answers every request after the first as `later` says. */
  const serve = (later: { total?: number; etag?: string }) => {
    let requests = 0;
    return (req: http.IncomingMessage, res: http.ServerResponse) => {
      const first = requests++ === 0;
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '')!;
      const start = m[1] === '' ? conda.length - Number(m[2]) : Number(m[1]);
      const end = m[1] !== '' && m[2] ? Number(m[2]) : conda.length - 1;
      const total = first ? conda.length : (later.total ?? conda.length);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${total}`, etag: first ? '"v1"' : (later.etag ?? '"v1"') });
      res.end(conda.subarray(start, end + 1));
    };
  };
  const cases = [
    ['/same.conda', {}, null],
    ['/resized.conda', { total: conda.length + 12345 }, `the file changed on the server while it was read (${conda.length} bytes, then ${conda.length + 12345})`],
    ['/retagged.conda', { etag: '"v2"' }, 'the file changed on the server while it was read (ETag "v1", then "v2")'],
    ['/weak.conda', { etag: 'W/"v2"' }, null], // a weak ETag may differ for the same bytes: not compared
  ] as const;
  for (const [path, later, error] of cases) {
    routes.set(path, serve(later));
    const r = await runAsync([`${base}${path}`]);
    if (error === null) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^OK +\\S+${path.slice(1).replace('.', '\\.')} `, 'm'));
    } else {
      assert.equal(r.code, 2, r.stdout);
      assert.equal(r.stderr, `pyc-audit: error: ${base}${path}: ${error}\n`);
    }
  }
});
