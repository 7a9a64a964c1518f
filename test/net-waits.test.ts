// Every wait bounded: a channel's index documents obey --deadline, and a proxy that accepts
// connections and never answers does not keep the process alive after its report.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { runAsync } from './helpers.js';

let trickle: http.Server;
let trickleBase = '';
let silent: net.Server;
let silentUrl = '';
const sockets = new Set<net.Socket>();

before(async () => {
  // repodata.json one byte a second: the idle --timeout never fires.
  trickle = http.createServer((req, res) => {
    if (!req.url?.endsWith('/repodata.json')) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': 1 << 20 });
    res.write('{');
    const timer = setInterval(() => res.write(' '), 1000);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', r));
  trickleBase = `http://127.0.0.1:${(trickle.address() as AddressInfo).port}`;
  // A proxy that accepts and says nothing, ever.
  silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});

after(async () => {
  trickle.closeAllConnections();
  await new Promise((r) => trickle.close(r));
  for (const s of sockets) s.destroy();
  await new Promise((r) => silent.close(r));
});

const noProxy = { HTTP_PROXY: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined };

test('a repodata.json trickling a byte a second ends at --deadline, naming the file', async () => {
  const started = Date.now();
  const r = await runAsync(['channel', `${trickleBase}/`, '--subdir', 'linux-64', '--timeout', '5', '--deadline', '2'], noProxy);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /linux-64\/repodata\.json.*timed out: not complete after 2 s \(--deadline\)/);
  assert.ok(seconds < 30, `${seconds} s`);
});

test('a silent proxy: the error at --timeout, and the process exits then', async () => {
  const started = Date.now();
  const r = await runAsync(['--timeout', '2', 'http://artifacts.pyc-audit.invalid/x.conda'], { ...noProxy, HTTP_PROXY: silentUrl });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'pyc-audit: error: http://artifacts.pyc-audit.invalid/x.conda: timed out: no data for 2 s\n');
  assert.ok(seconds < 20, `exited after ${seconds} s`);
});
