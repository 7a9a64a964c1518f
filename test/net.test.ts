// Downloads through a proxy (a forward/CONNECT proxy this test runs on 127.0.0.1) and retries of
// 429/5xx answers, as the CLI does them and as netFetch does them.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { fixture, runAsync } from './helpers.js';
import { sendBytes, startServer } from './http-server.js';
import { netFetch, RETRY, retryAfterMs } from '../src/sources/access/net.js';

/** Host names only the proxy knows: a request for them that arrives proves the proxy carried it. */
const PROXIED_HOST = 'artifacts.pyc-audit.invalid';

let files: { base: string; close: () => Promise<void> };
const served: string[] = [];
let flaky = 0;
const proxyLog: string[] = [];
let proxy: http.Server;
let proxyUrl = '';

before(async () => {
  files = await startServer((req, res) => {
    const url = req.url ?? '/';
    served.push(url);
    // /flaky/: 503 (Retry-After: 0) then 429 (Retry-After as an HTTP date in the past), then the file.
    if (url.startsWith('/flaky/') && flaky < 2) {
      flaky++;
      res.writeHead(flaky === 1 ? 503 : 429, { 'retry-after': flaky === 1 ? '0' : new Date(Date.now() - 5000).toUTCString() });
      return res.end('busy');
    }
    if (url.startsWith('/always-429/')) {
      res.writeHead(429, { 'retry-after': '0' });
      return res.end('slow down');
    }
    if (url.startsWith('/patience/')) {
      res.writeHead(503, { 'retry-after': '3600' });
      return res.end('come back in an hour');
    }
    let data: Buffer;
    try {
      data = readFileSync(fixture(decodeURIComponent(url.replace(/^\/flaky\//, '/').slice(1))));
    } catch {
      res.writeHead(404);
      return res.end();
    }
    sendBytes(req, res, data);
  });
  const target = new URL(files.base);
  // A forward proxy: absolute-URI requests (plain http) are forwarded; CONNECT is tunnelled. Any
  // host it is asked for is the file server.
  proxy = http.createServer((req, res) => {
    proxyLog.push(`GET ${req.url}`);
    const url = new URL(req.url!);
    const upstream = http.request({ host: target.hostname, port: target.port, path: url.pathname + url.search, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    proxyLog.push(`CONNECT ${req.url}`);
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await files.close();
});

/** No proxy variable from the machine running the tests; then the ones a test sets. */
const proxyEnv = (vars: Record<string, string>) => ({ HTTP_PROXY: undefined, HTTPS_PROXY: undefined, NO_PROXY: undefined, http_proxy: undefined, https_proxy: undefined, no_proxy: undefined, ...vars });

test('HTTP_PROXY carries artifact downloads (range requests included) to a host only the proxy knows', async () => {
  proxyLog.length = 0;
  served.length = 0;
  const url = `http://${PROXIED_HOST}/example-1.0-py314rc2_0.conda`;
  const r = await runAsync(['--format', 'json', url], proxyEnv({ HTTP_PROXY: proxyUrl }));
  assert.equal(r.code, 1, r.stderr);
  const [a] = JSON.parse(r.stdout).artifacts;
  assert.equal(a.findings[0].code, 'PYC001');
  // As curl does: plain http goes to the proxy as absolute-form GETs, no CONNECT; the fixture is
  // small, so its tail request is all of it.
  assert.ok(proxyLog.length >= 1 && proxyLog.every((l) => l.startsWith(`GET http://${PROXIED_HOST}/`)), proxyLog.join('\n'));
  assert.deepEqual(served, ['/example-1.0-py314rc2_0.conda']);
});

test('lower-case http_proxy works too; without any proxy variable the host is not found', async () => {
  proxyLog.length = 0;
  const url = `http://${PROXIED_HOST}/legacy-1.0-py36_0.tar.bz2`;
  const r = await runAsync(['--format', 'json', url], proxyEnv({ http_proxy: proxyUrl }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).artifacts[0].pyc.length > 0, true);
  assert.deepEqual(proxyLog, [`GET http://${PROXIED_HOST}/legacy-1.0-py36_0.tar.bz2`]);
  const direct = await runAsync([url], proxyEnv({}));
  assert.equal(direct.code, 2);
  assert.match(direct.stderr, /^pyc-audit: error: http:\/\/artifacts\.pyc-audit\.invalid\/legacy-1\.0-py36_0\.tar\.bz2: (host not found|download failed: .*)\n$/);
  assert.equal(proxyLog.length, 1);
});

test('NO_PROXY: a listed host is fetched directly, the proxy sees nothing', async () => {
  proxyLog.length = 0;
  served.length = 0;
  const r = await runAsync([`${files.base}/legacy-1.0-py36_0.conda`], proxyEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: 'localhost,127.0.0.1' }));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(proxyLog, []);
  assert.ok(served.length >= 1);
});

test('a channel (repodata, then the artifacts) is read through the proxy', async () => {
  proxyLog.length = 0;
  served.length = 0;
  // The fixtures folder is no channel: the proxy is asked for noarch/repodata.json and the error says so.
  const r = await runAsync(['channel', `http://${PROXIED_HOST}/`, '--subdir', 'noarch'], proxyEnv({ HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl }));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pyc-audit: error: /m);
  assert.ok(proxyLog.length >= 1 && proxyLog.every((l) => l.startsWith(`GET http://${PROXIED_HOST}/`)), proxyLog.join('\n'));
  assert.ok(served.includes('/noarch/repodata.json'), served.join('\n'));
});

test('a proxy variable that is no http(s) URL: one line per download naming the variable (never its value), no crash line; local inputs audited', async () => {
  const url = `http://${PROXIED_HOST}/example-1.0-py314rc2_0.conda`;
  for (const [env, name] of [
    [{ HTTP_PROXY: 'not a url' }, 'HTTP_PROXY'],
    [{ HTTP_PROXY: 'http://[::1' }, 'HTTP_PROXY'],
    [{ https_proxy: 'ftp://user:secret@127.0.0.1:1' }, 'https_proxy'],
    [{ http_proxy: 'proxy.example:3128', HTTP_PROXY: proxyUrl }, 'http_proxy'], // the lower-case one is used, as undici does
  ] as const) {
    const r = await runAsync([url, fixture('example-1.0-py314_0.conda')], proxyEnv(env));
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `pyc-audit: error: ${url}: ${name} is not a proxy URL (http://HOST:PORT or https://HOST:PORT)\n`);
    assert.match(r.stdout, /^OK +\S+example-1\.0-py314_0\.conda /m);
  }
  // An empty lower-case variable is no proxy, and hides the upper-case one (undici's rule).
  const direct = await runAsync([`${files.base}/legacy-1.0-py36_0.conda`], proxyEnv({ http_proxy: '', HTTP_PROXY: 'not a url' }));
  assert.equal(direct.code, 0, direct.stderr);
});

test('https through a proxy that refuses the tunnel: one error line naming the CONNECT and the status', async () => {
  const refusing = http.createServer((_req, res) => res.writeHead(405).end());
  refusing.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    proxyLog.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  try {
    proxyLog.length = 0;
    const url = `https://${PROXIED_HOST}/x.conda`;
    const r = await runAsync([url], proxyEnv({ HTTPS_PROXY: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}` }));
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `pyc-audit: error: ${url}: proxy refused CONNECT ${PROXIED_HOST}:443: 403\n`);
    assert.deepEqual(proxyLog, [`CONNECT ${PROXIED_HOST}:443`]);
  } finally {
    refusing.closeAllConnections();
    await new Promise((r) => refusing.close(r));
  }
});

test('503 and 429 are retried as Retry-After says (seconds or a date), then the artifact is read', async () => {
  flaky = 0;
  served.length = 0;
  const r = await runAsync(['--format', 'json', `${files.base}/flaky/legacy-1.0-py36_0.tar.bz2`], proxyEnv({}));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(served.length, 3);
  assert.equal(JSON.parse(r.stdout).artifacts[0].error, null);
});

test('a server that keeps answering 429 is tried RETRY.attempts times, then reported once', async () => {
  served.length = 0;
  const r = await runAsync([`${files.base}/always-429/x.tar.bz2`], proxyEnv({}));
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `pyc-audit: error: ${files.base}/always-429/x.tar.bz2: HTTP 429 Too Many Requests\n`);
  assert.equal(served.length, RETRY.attempts);
});

test('a Retry-After beyond the longest wait is not waited for: the status is reported at once', async () => {
  served.length = 0;
  const r = await runAsync([`${files.base}/patience/x.tar.bz2`], proxyEnv({}));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /: HTTP 503 Service Unavailable\n$/);
  assert.equal(served.length, 1);
});

test('netFetch backs off exponentially without Retry-After, and an abort ends a wait', async () => {
  const saved = { ...RETRY };
  let hits = 0;
  const s = await startServer((_req, res) => {
    hits++;
    res.writeHead(500);
    res.end();
  });
  try {
    Object.assign(RETRY, { attempts: 3, baseMs: 20 });
    const res = await netFetch(`${s.base}/x`);
    assert.equal(res.status, 500);
    assert.equal(hits, 3);
    Object.assign(RETRY, { attempts: 4, baseMs: 60_000 });
    hits = 0;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('gave up')), 50);
    await assert.rejects(netFetch(`${s.base}/x`, { signal: controller.signal }), /gave up/);
    assert.equal(hits, 1);
  } finally {
    Object.assign(RETRY, saved);
    await s.close();
  }
});

test('Retry-After: seconds, an HTTP date, or nothing usable', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs('7', now), 7000);
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  assert.equal(retryAfterMs('soon', now), null);
  assert.equal(retryAfterMs(null, now), null);
});
