// `channel --cache DIR` copies artifacts into DIR/.copies-*: removed on Ctrl-C / a CI cancel
// (SIGINT, SIGTERM), and what a killed run left is removed by the next run, safely.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runAsync } from './helpers.js';
import { buildChannel } from './channel-builder.js';

const root = mkdtempSync(join(tmpdir(), 'pyc-audit-copies-'));
after(() => rmSync(root, { recursive: true, force: true }));

const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_').slice(0, 64) || 'host';
const copies = (cache: string) => readdirSync(cache).filter((n) => n.startsWith('.copies-')).sort();

test('a later run removes copies folders left by runs that are over, and nothing else', async () => {
  const channel = join(root, 'channel');
  buildChannel(channel, { 'linux-64': ['legacy-1.0-py36_0.conda'], noarch: [] }, { json: true });
  const cache = join(root, 'cache');
  mkdirSync(cache);
  // A process that has ended: its PID names a folder of a run that is over.
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
  const plant = (name: string, ageMs = 0) => {
    mkdirSync(join(cache, name));
    writeFileSync(join(cache, name, 'legacy-1.0-py36_0.conda'), Buffer.alloc(1 << 16));
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(join(cache, name), t, t);
  };
  plant(`.copies-${HOST}-${dead}-abcdef`);
  plant(`.copies-${HOST}-${process.pid}-ghijkl`); // this test's process: alive
  plant('.copies-elsewhere-1-mnopqr', 2 * 24 * 3600 * 1000); // another host's, two days old
  plant('.copies-elsewhere-2-stuvwx'); // another host's, fresh: maybe running
  plant('.copies-Zx81Qa', 2 * 24 * 3600 * 1000); // named before the PID was in the name
  // A link named like a copies folder: not followed, not removed, its target untouched.
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), 'keep');
  symlinkSync(outside, join(cache, '.copies-link-1-aaaaaa'));
  const r = await runAsync(['channel', channel, '--cache', cache, '--python', '3.6']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(copies(cache), ['.copies-elsewhere-2-stuvwx', `.copies-${HOST}-${process.pid}-ghijkl`, '.copies-link-1-aaaaaa'].sort());
  assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'keep');
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} during a copy: the copies folder is removed and the run ends by the signal`, async () => {
    const channel = join(root, `remote-${signal}`);
    buildChannel(channel, { 'linux-64': ['legacy-1.0-py36_0.conda'], noarch: [] }, { json: true });
    const artifact = readFileSync(join(channel, 'linux-64', 'legacy-1.0-py36_0.conda'));
    // The artifact's first half, then nothing: the copy is under way when the signal comes.
    const server = http.createServer((req, res) => {
      if (req.url?.endsWith('.conda')) {
        res.writeHead(200, { 'content-length': artifact.length });
        res.write(artifact.subarray(0, artifact.length >> 1));
        return;
      }
      try {
        res.end(readFileSync(join(channel, decodeURIComponent(req.url ?? '/'))));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const cache = join(root, `cache-${signal}`);
    try {
      const child = spawn(process.execPath, [BIN, 'channel', `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, '--subdir', 'linux-64', '--cache', cache, '--python', '3.6'], {
        env: { ...process.env, HTTP_PROXY: undefined, http_proxy: undefined },
        stdio: 'ignore',
      });
      const ended = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
      for (let i = 0; i < 200 && !(existsSync(cache) && copies(cache).some((n) => readdirSync(join(cache, n)).length > 0)); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(copies(cache).length, 1, 'a copy under way');
      child.kill(signal);
      assert.equal(await ended, signal);
      assert.deepEqual(copies(cache), []);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
}
