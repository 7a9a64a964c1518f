// A loose .pyc URL is judged by its header: one range request for its first bytes (the size from
// Content-Range), not the whole file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsync } from './helpers.js';
import { sendBytes, startServer } from './http-server.js';
import { pycBytes } from './package-builder.js';

test('a 4 MiB .pyc URL: one range request, a few hundred bytes sent, the size from Content-Range', async () => {
  const pyc = Buffer.concat([pycBytes(3531, { mtime: 1_700_000_000, size: 10 }), Buffer.alloc(4 << 20, 0xe3)]);
  const served: { range?: string; bytes: number }[] = [];
  const server = await startServer((req, res) => {
    served.push({ range: req.headers.range, bytes: sendBytes(req, res, pyc) });
  });
  try {
    const r = await runAsync(['--format', 'json', `${server.base}/m.cpython-312.pyc`], { HTTP_PROXY: undefined, http_proxy: undefined });
    const [a] = JSON.parse(r.stdout).artifacts;
    assert.equal(a.error, null, r.stderr);
    assert.equal(a.pyc[0].magic, 3531);
    assert.equal(a.pyc[0].size, pyc.length);
    assert.equal(served.length, 1, JSON.stringify(served));
    assert.ok(served[0]!.bytes <= 512, `${served[0]!.bytes} bytes sent`);
  } finally {
    await server.close();
  }
});
