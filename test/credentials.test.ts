// Credentials in URLs: `user:pass@` is sent as HTTP Basic authorization (as conda does), and no
// password or conda `/t/<token>/` is ever shown: not on stderr, not in any report format.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAsync } from './helpers.js';
import { buildChannel } from './channel-builder.js';
import { sendBytes } from './http-server.js';
import { redactUrls } from '../src/sources/access/redact.js';

const root = mkdtempSync(join(tmpdir(), 'pyc-audit-creds-'));
const PASSWORD = 's3cret-pw';
const TOKEN = 'tk-0123456789abcdef';
const authorizations: (string | undefined)[] = [];
let server: http.Server;
let port = 0;

before(async () => {
  buildChannel(root, { noarch: ['noarchpyc-1.0-pyh_0.conda'], 'linux-64': ['legacy-1.0-py36_0.conda'] }, { json: true });
  server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    let path = new URL(req.url ?? '/', 'http://x').pathname;
    // A token channel: /t/<TOKEN>/..., anything else under /t/ is refused.
    const t = /^\/t\/([^/]+)(\/.*)$/.exec(path);
    if (t) {
      if (t[1] !== TOKEN) return res.writeHead(401).end();
      path = t[2]!;
    } else if (req.headers.authorization !== `Basic ${Buffer.from(`user:${PASSWORD}`).toString('base64')}`) {
      return res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
    }
    try {
      sendBytes(req, res, readFileSync(join(root, decodeURIComponent(path))));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

const noProxy = { HTTP_PROXY: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, https_proxy: undefined };
const secretFree = (text: string, what: string) => {
  assert.ok(!text.includes(PASSWORD), `${what} shows the password`);
  assert.ok(!text.includes(TOKEN), `${what} shows the token`);
};

test('redactUrls: passwords and tokens in every URL of a text', () => {
  assert.equal(redactUrls(`get http://u:p%40ss@h/x and https://conda.anaconda.org/t/${TOKEN}/ch/noarch/a.conda`), `get http://u:***@h/x and https://conda.anaconda.org/t/<TOKEN>/ch/noarch/a.conda`);
  assert.equal(redactUrls('no url, a/t/b/ path'), 'no url, a/t/b/ path');
  assert.equal(redactUrls(`pyc-audit: https://h/t/${TOKEN}: 3 artifacts`), 'pyc-audit: https://h/t/<TOKEN>: 3 artifacts');
});

test('user:pass@ URLs are fetched with Basic authorization; the password is in no output', async () => {
  authorizations.length = 0;
  const url = `http://user:${PASSWORD}@127.0.0.1:${port}/noarch/noarchpyc-1.0-pyh_0.conda`;
  for (const format of ['json', 'sarif', 'junit', 'text']) {
    const r = await runAsync(['--format', format, url, `http://user:${PASSWORD}@127.0.0.1:${port}/missing.conda`], noProxy);
    assert.equal(r.code, 2, r.stderr);
    secretFree(r.stdout, format);
    secretFree(r.stderr, 'stderr');
    assert.match(r.stderr, new RegExp(`pyc-audit: error: http://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}/missing\\.conda: HTTP 404`));
    if (format === 'json') assert.equal(JSON.parse(r.stdout).artifacts[0].error, null);
  }
  assert.ok(authorizations.every((a) => a === `Basic ${Buffer.from(`user:${PASSWORD}`).toString('base64')}`));
});

test('a token channel (/t/<token>/): read, and <TOKEN> wherever its URLs are shown', async () => {
  const r = await runAsync(['channel', `http://127.0.0.1:${port}/t/${TOKEN}/`, '--format', 'json', '--python', '3.6'], noProxy);
  assert.equal(r.code, 0, r.stderr);
  secretFree(r.stdout, 'json');
  secretFree(r.stderr, 'stderr');
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.artifacts.length >= 1);
  assert.ok(doc.artifacts.every((a: { path: string; error: null }) => a.path.includes('/t/<TOKEN>/') && a.error === null), r.stdout);
});
