// No request where a channel should not send it: a remote channel's base URLs and redirects never
// lead to loopback, link-local or private addresses (unless --allow-host lists them), --allow-host
// pins a run to the hosts it lists, and a local channel's bases stay inside its folder. The
// channel is reached through a forward proxy this test runs, under a public-looking name.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAsync } from './helpers.js';
import { buildChannel } from './channel-builder.js';
import { channelPolicy, isPrivateHost } from '../src/sources/access/hosts.js';

const root = mkdtempSync(join(tmpdir(), 'pyc-audit-hosts-'));
const CHANNEL = 'channel.pyc-audit.invalid';
/** Every request the proxy was asked for, as "host path". */
const asked: string[] = [];
let proxy: http.Server;
let proxyUrl = '';
/** Which folder the proxy serves for a host. */
const folders = new Map<string, string>();

before(async () => {
  proxy = http.createServer((req, res) => {
    const url = new URL(req.url!);
    asked.push(`${url.host} ${url.pathname}`);
    // .../redirect-to/<base, URL-encoded>/<file>: a redirect to <base><file>.
    const redirect = /\/redirect-to\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (redirect) {
      res.writeHead(302, { location: decodeURIComponent(redirect[1]!) + redirect[2] });
      return res.end();
    }
    const folder = folders.get(url.host);
    try {
      res.end(readFileSync(join(folder ?? '/nonexistent', decodeURIComponent(url.pathname))));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

after(async () => {
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  rmSync(root, { recursive: true, force: true });
});

const viaProxy = () => ({ HTTP_PROXY: proxyUrl, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined });

test('isPrivateHost and the policy: loopback, link-local, private and unspecified; public hosts stay allowed', () => {
  for (const h of ['127.0.0.1', 'localhost', 'a.localhost', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0', '::1', '[::1]', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '100.64.0.1']) assert.ok(isPrivateHost(h), h);
  for (const h of ['conda.anaconda.org', '8.8.8.8', '172.32.0.1', '2606:4700::1', 'prefix.dev']) assert.ok(!isPrivateHost(h), h);
  const open = channelPolicy('https://prefix.dev/conda-forge');
  assert.equal(open.refuses('https://conda.anaconda.org/conda-forge/noarch/x.conda'), null);
  assert.match(open.refuses('http://169.254.169.254/latest/meta-data/')!, /link-local or private/);
  assert.match(open.refuses('file:///etc/passwd')!, /not http\(s\)/);
  assert.equal(channelPolicy('http://127.0.0.1:8000/').refuses('http://10.0.0.1/x'), null, 'a channel on a private address reaches private addresses');
  const pinned = channelPolicy('https://prefix.dev/conda-forge', ['conda.anaconda.org']);
  assert.equal(pinned.refuses('https://conda.anaconda.org/x'), null);
  assert.match(pinned.refuses('https://cdn.example.org/x')!, /nor one --allow-host lists/);
  assert.equal(channelPolicy('https://prefix.dev/', ['*']).refuses('http://169.254.169.254/'), null);
});

test('a remote shard index whose base_url is a link-local address: refused before any request is made', async () => {
  const dir = join(root, 'metadata');
  buildChannel(dir, { noarch: ['noarchpyc-1.0-pyh_0.conda'] }, { shards: true, indexInfo: { base_url: 'http://169.254.169.254/latest/' } });
  folders.set(CHANNEL, dir);
  asked.length = 0;
  const r = await runAsync(['channel', `http://${CHANNEL}/`, '--subdir', 'noarch'], viaProxy());
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /base_url http:\/\/169\.254\.169\.254\/latest\/: 169\.254\.169\.254 is a loopback, link-local or private address/);
  assert.deepEqual(asked.filter((a) => a.startsWith('169.254')), []);
});

test('a redirect from a remote channel to a loopback address is not followed; --allow-host allows it', async () => {
  const dir = join(root, 'redirect');
  buildChannel(dir, { noarch: ['noarchpyc-1.0-pyh_0.conda'] }, { shards: true, indexInfo: { base_url: `./redirect-to/${encodeURIComponent('http://127.0.0.1:9/noarch/')}` } });
  folders.set(CHANNEL, dir);
  asked.length = 0;
  const r = await runAsync(['channel', `http://${CHANNEL}/`, '--subdir', 'noarch', '--format', 'json'], viaProxy());
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /request to 127\.0\.0\.1:9 refused: 127\.0\.0\.1 is a loopback, link-local or private address/);
  assert.ok(!asked.some((a) => a.startsWith('127.0.0.1:9')), asked.join('\n'));
  // Listed: the redirect is followed (to port 9, where nothing answers).
  const allowed = await runAsync(['channel', `http://${CHANNEL}/`, '--subdir', 'noarch', '--allow-host', '127.0.0.1'], viaProxy());
  assert.equal(allowed.code, 2);
  assert.doesNotMatch(allowed.stderr, /refused: /);
  assert.match(allowed.stderr, /noarchpyc-1\.0-pyh_0\.conda: (connection refused|HTTP 404|download failed)/);
});

test('a redirect from a remote channel to a file: URL is refused, naming where it led', async () => {
  const dir = join(root, 'redirect-file');
  buildChannel(dir, { noarch: ['noarchpyc-1.0-pyh_0.conda'] }, { shards: true, indexInfo: { base_url: `./redirect-to/${encodeURIComponent('file:///etc/')}` } });
  folders.set(CHANNEL, dir);
  const r = await runAsync(['channel', `http://${CHANNEL}/`, '--subdir', 'noarch'], viaProxy());
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /: request to file:\/\/\/etc\/noarchpyc-1\.0-pyh_0\.conda refused: file: is not http\(s\)/);
});

test('--allow-host pins the run: another public host is refused', async () => {
  const dir = join(root, 'pinned');
  buildChannel(dir, { noarch: ['noarchpyc-1.0-pyh_0.conda'] }, { shards: true, indexInfo: { base_url: 'http://cdn.pyc-audit.invalid/noarch/' } });
  folders.set(CHANNEL, dir);
  folders.set('cdn.pyc-audit.invalid', dir);
  const free = await runAsync(['channel', `http://${CHANNEL}/`, '--subdir', 'noarch'], viaProxy());
  assert.equal(free.code, 0, free.stderr);
  asked.length = 0;
  const r = await runAsync(['channel', `http://${CHANNEL}/`, '--subdir', 'noarch', '--allow-host', 'mirror.pyc-audit.invalid'], viaProxy());
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cdn\.pyc-audit\.invalid is not the channel's host nor one --allow-host lists/);
  assert.ok(!asked.some((a) => a.startsWith('cdn.')), asked.join('\n'));
});

test("a local channel's base_url stays inside its folder", async () => {
  const dir = join(root, 'local');
  buildChannel(dir, { noarch: ['noarchpyc-1.0-pyh_0.conda'] }, { shards: true, indexInfo: { base_url: '../../' } });
  const r = await runAsync(['channel', dir, '--subdir', 'noarch']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /base_url .* is outside the channel folder/);
});
