// Artifacts from stdin and over HTTP (a server this test runs on 127.0.0.1), and other archive kinds.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarHeader } from './archives.js';
import { CORPUS, fixture, haveCorpus, run, runAsync } from './helpers.js';
import { sendBytes } from './http-server.js';

const requests: string[] = [];
let base = '';
let noRanges = '';
let server: http.Server;

/** Serves fixtures/ (and the corpus under /corpus/); /norange/ ignores Range; /redirect/ and /stall/ as named. */
before(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(`${url} ${req.headers.range ?? '-'}`);
    if (url.startsWith('/redirect/')) {
      res.writeHead(302, { location: url.replace('/redirect/', '/') });
      return res.end();
    }
    if (url.startsWith('/stall/')) {
      res.writeHead(200, { 'content-length': 100000 });
      res.write(readFileSync(fixture('legacy-1.0-py27_0.tar.bz2')).subarray(0, 50));
      return; // and never another byte
    }
    const ranges = !url.startsWith('/norange/');
    if (url.startsWith('/no-suffix/') && /^bytes=-/.test(req.headers.range ?? '')) {
      res.writeHead(416);
      return res.end();
    }
    const rel = url.replace(/^\/(norange|no-suffix)\//, '/');
    const file = rel.startsWith('/corpus/') ? join(CORPUS, 'conda', decodeURIComponent(rel.slice(8))) : fixture(decodeURIComponent(rel.slice(1)));
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      res.writeHead(404);
      return res.end();
    }
    sendBytes(req, res, data, ranges);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  noRanges = `${base}/norange`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const local = (name: string) => JSON.parse(run(['--format', 'json', fixture(name)]).stdout).artifacts[0];

// (An artifact larger than the tail request, and the bytes the server sent: test/http.test.ts.)
test('a .conda over HTTP gives the report of the file, every request asking for a range', async () => {
  requests.length = 0;
  const r = await runAsync(['--format', 'json', `${base}/example-py314rc2.conda`]);
  assert.equal(r.code, 1, r.stderr);
  const a = JSON.parse(r.stdout).artifacts[0];
  assert.deepEqual(a.pyc, local('example-py314rc2.conda').pyc);
  assert.ok(requests.length > 0 && requests.every((q) => !q.endsWith(' -')), requests.join('\n'));
});

test('a server that ignores Range: the whole body is read front to back', async () => {
  const r = await runAsync(['--format', 'json', `${noRanges}/example-py314rc2.conda`, `${noRanges}/hashed-1.0-py313_0.conda`]);
  assert.equal(r.code, 1, r.stderr);
  const [a, b] = JSON.parse(r.stdout).artifacts;
  assert.deepEqual(a.pyc, local('example-py314rc2.conda').pyc);
  assert.deepEqual(b.pyc, local('hashed-1.0-py313_0.conda').pyc);
  assert.equal(b.kind, 'conda');
});

test('a server that refuses suffix ranges (416) is read whole', async () => {
  const r = await runAsync(['--format', 'json', `${base}/no-suffix/example-py314rc2.conda`]);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).artifacts[0].pyc, local('example-py314rc2.conda').pyc);
});

test('.tar.bz2 streamed as it downloads; redirects followed', async () => {
  const r = await runAsync(['--format', 'json', `${base}/legacy-1.0-py27_0.tar.bz2`, `${base}/redirect/legacy-1.0-py36_0.conda`]);
  // legacy-1.0-py27_0 has a module with no bytecode 2.7 reads (PYC202): exit 1.
  assert.equal(r.code, 1, r.stderr);
  const [bz2, redirected] = JSON.parse(r.stdout).artifacts;
  assert.deepEqual(bz2.pyc, local('legacy-1.0-py27_0.tar.bz2').pyc);
  assert.deepEqual(redirected.pyc, local('legacy-1.0-py36_0.conda').pyc);
});

test('HTTP errors, refused connections and stalled transfers: one line each, exit 2', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const r = await runAsync(['--timeout', '1', `${base}/missing.conda`, `http://127.0.0.1:${deadPort}/x.conda`, `${base}/stall/x.tar.bz2`, fixture('example-1.0-py314_0.conda')]);
  assert.equal(r.code, 2);
  assert.deepEqual(r.stderr.trim().split('\n'), [
    `pyc-audit: error: ${base}/missing.conda: HTTP 404 Not Found`,
    `pyc-audit: error: http://127.0.0.1:${deadPort}/x.conda: connection refused`,
    `pyc-audit: error: ${base}/stall/x.tar.bz2: timed out: no data for 1 s`,
  ]);
  assert.match(r.stdout, /^OK +\S*example-1\.0-py314_0\.conda /m);
});

test('wheels over HTTP: .pyc counts as the corpus manifest says', { skip: haveCorpus ? false : 'no corpus' }, async () => {
  const r = await runAsync(['--format', 'json', `${base}/corpus/jwodder%2Bcheck-wheel-contents/whatodo-0.1.0a4-py3-none-any.whl`, `${noRanges}/corpus/jwodder%2Bcheck-wheel-contents/whatodo-0.1.0a4-py3-none-any.whl`]);
  // The wheel's findings are its own: __init__.cpython-34.pyc was compiled from a 97-byte
  // __init__.py but the wheel's is 102 bytes, and pytest's assertion cache (cpython-34-PYTEST) is
  // not a tag Python reads.
  assert.equal(r.code, 1, r.stderr);
  for (const a of JSON.parse(r.stdout).artifacts) {
    assert.equal(a.kind, 'whl');
    assert.equal(a.pyc.length, 2);
    assert.deepEqual(a.pyc.map((p: { magic: number }) => p.magic), [3310, 3310]);
    assert.deepEqual(a.findings.map((f: { code: string; member: string }) => `${f.code} ${f.member}`), [
      'PYC102 src/__pycache__/__init__.cpython-34.pyc',
      'PYC203 src/__pycache__/test_todo.cpython-34-PYTEST.pyc',
    ]);
  }
});

test('stdin: the format is sniffed from the bytes, not a name', async () => {
  for (const name of ['example-py314rc2.conda', 'legacy-1.0-py27_0.tar.bz2', 'pyc/greeting.3.13.timestamp.pyc']) {
    const r = await runAsync(['--format', 'json', '-'], {}, readFileSync(fixture(name)));
    const a = JSON.parse(r.stdout).artifacts[0];
    assert.equal(a.path, '-');
    if (name.startsWith('pyc/')) {
      assert.equal(a.kind, 'pyc');
      assert.equal(a.pyc[0].headerHex, readFileSync(fixture(name)).subarray(0, 16).toString('hex'));
      assert.equal(a.pyc[0].size, readFileSync(fixture(name)).length);
    } else {
      assert.deepEqual(a.pyc, local(name).pyc, name);
    }
  }
  const empty = await runAsync(['-'], {}, Buffer.alloc(0));
  assert.equal(empty.code, 2);
  assert.equal(empty.stderr, 'pyc-audit: error: -: empty input\n');
  const truncated = await runAsync(['-'], {}, readFileSync(fixture('example-py314rc2.conda')).subarray(0, 700));
  assert.equal(truncated.code, 2);
  assert.match(truncated.stderr, /^pyc-audit: error: -: .*(truncated|ends)/);
  assert.equal(run(['-', '-']).code, 2);
});

test('.tar.gz and plain .tar and .zip of .pyc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-src-'));
  const pyc = readFileSync(fixture('pyc', 'greeting.3.12.timestamp.pyc'));
  const tar = Buffer.concat([tarHeader('pkg/__pycache__/m.cpython-312.pyc', pyc.length), pyc, Buffer.alloc((512 - (pyc.length % 512)) % 512), Buffer.alloc(1024)]);
  writeFileSync(join(dir, 'sdist.tar.gz'), gzipSync(tar));
  writeFileSync(join(dir, 'plain.tar'), tar);
  const zipped = join(dir, 'bundle.zip');
  execFileSync('python3', ['-c', `import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED); z.writestr('pkg/__pycache__/m.cpython-312.pyc', open(sys.argv[2],'rb').read()); z.close()`, zipped, fixture('pyc', 'greeting.3.12.timestamp.pyc')]);
  const r = run(['--format', 'json', join(dir, 'sdist.tar.gz'), join(dir, 'plain.tar'), zipped]);
  assert.equal(r.code, 0, r.stderr);
  const kinds = JSON.parse(r.stdout).artifacts.map((a: { kind: string; pyc: { magic: number }[] }) => [a.kind, a.pyc[0]!.magic]);
  assert.deepEqual(kinds, [['tar.gz', 3531], ['tar', 3531], ['zip', 3531]]);
  writeFileSync(join(dir, 'cut.tar.gz'), gzipSync(tar).subarray(0, 60));
  const cut = run([join(dir, 'cut.tar.gz')]);
  assert.equal(cut.code, 2);
  assert.match(cut.stderr, /cut\.tar\.gz: truncated: the gzip stream ends early\n$/);
});

test('a FIFO given as an artifact is one error line, not a wait for a writer', { skip: process.platform === 'win32' ? 'no FIFOs' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-fifo-'));
  const fifo = join(dir, 'pkg-1.0-py314_0.conda');
  execFileSync('mkfifo', [fifo]);
  const started = Date.now();
  const r = await runAsync([fifo, fixture('example-1.0-py314_0.conda')]);
  assert.ok(Date.now() - started < 30_000);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `pyc-audit: error: ${fifo}: not a regular file (a FIFO)\n`);
  assert.match(r.stdout, /^OK +\S*example-1\.0-py314_0\.conda /m);
});
