// `pyc-audit magic --update` against a server on 127.0.0.1 built here: a release list (GitHub's tags
// API layout, in pages) and tagged sources (raw layout). What it writes, what every later run reads
// from it, and the failures: 404, a changed file format, a release without a tag, a stalled server,
// a cache another process wrote badly.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './http-server.js';
import { condaOf, fullName, pycBytes, type Package } from './package-builder.js';
import { runAsync } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-magic-update-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What the server serves; each test sets it. */
interface Site {
  tags: string[];
  /** tag -> the text of its magic file (absent: 404). */
  files: Record<string, string>;
  /** Answer nothing at all to these paths (a stalled server). */
  stall?: RegExp;
  tagsStatus?: number;
}
let site: Site = { tags: [], files: {} };
const requests: string[] = [];
const stalled: ServerResponse[] = [];

const header = (magic: number) => `#ifndef Py_INTERNAL_MAGIC_NUMBER_H\n/*\n    Python 3.15b1 3666 (Add SEND_VIRTUAL)\n*/\n#define PYC_MAGIC_NUMBER ${magic}\n#define PYC_MAGIC_NUMBER_TOKEN \\\n    ((uint32_t)PYC_MAGIC_NUMBER | ((uint32_t)'\\r' << 16) | ((uint32_t)'\\n' << 24))\n#endif\n`;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(url.pathname + url.search);
  if (site.stall?.test(url.pathname)) {
    stalled.push(res); // never answered: the client's deadline must end it
    return;
  }
  if (url.pathname === '/api/repos/python/cpython/tags') {
    if (site.tagsStatus) {
      res.writeHead(site.tagsStatus);
      res.end();
      return;
    }
    const page = Number(url.searchParams.get('page'));
    const per = Number(url.searchParams.get('per_page'));
    const body = JSON.stringify(site.tags.slice((page - 1) * per, page * per).map((name) => ({ name, commit: { sha: '0'.repeat(40) } })));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const m = /^\/raw\/python\/cpython\/([^/]+)\/(.+)$/.exec(url.pathname);
  const text = m && m[2] === 'Include/internal/pycore_magic_number.h' ? site.files[decodeURIComponent(m[1]!)] : undefined;
  if (text === undefined) {
    res.writeHead(404);
    res.end('404: Not Found');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(text);
}

const server = await startServer(handler);
after(async () => {
  for (const r of stalled) r.destroy();
  await server.close();
});

/** Older tags (not fetched: the built-in table has them) and 150 more, so the list takes two pages. */
const OLD = ['v3.14.0', 'v3.15.0b1', 'v3.15.0rc1', 'v2.7.18', 'legacy-trunk', ...Array.from({ length: 150 }, (_, i) => `v3.${i % 12}.${i}`)];
const NEW = { 'v3.15.0rc2': header(3666), 'v3.15.0rc3': header(3666), 'v3.15.0': header(3667), 'v3.16.0a1': header(3706) };

let n = 0;
function home(): { env: Record<string, string>; file: string } {
  const cache = join(dir, `home-${n++}`);
  return { env: { XDG_CACHE_HOME: cache, PYC_AUDIT_TAGS_URL: `${server.base}/api`, PYC_AUDIT_RAW_URL: `${server.base}/raw` }, file: join(cache, 'pyc-audit', 'magic-update.json') };
}

function pkg315(magic: number): string {
  const sp = 'lib/python3.15/site-packages';
  const p: Package = {
    name: 'pkg', version: '1.0', build: `py315_${magic}`,
    files: [{ path: `${sp}/pkg/__init__.py`, data: Buffer.from('x = 1\n'), mtime: 1_700_000_000 }, { path: `${sp}/pkg/__pycache__/__init__.cpython-315.pyc`, data: pycBytes(magic, { mtime: 1_700_000_000, size: 6 }), mtime: 1_700_000_000 }],
    depends: ['python >=3.15,<3.16.0a0'],
  };
  const path = join(dir, `${fullName(p)}.conda`);
  writeFileSync(path, condaOf(p));
  return path;
}

test('magic --update reads the release list and each new release\'s tagged source, and every later run uses it', async () => {
  site = { tags: [...OLD, ...Object.keys(NEW)], files: NEW };
  const { env, file } = home();
  const pkg = pkg315(3667);
  // before: 3667 is newer than the table, a warning
  const before = JSON.parse((await runAsync(['--format', 'json', pkg], env)).stdout);
  assert.equal(before.artifacts[0].findings[0].code, 'PYC007');
  assert.equal(before.tool.magicTable.update, null);
  requests.length = 0;
  const r = await runAsync(['magic', '--update'], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^magic table updated: 4 releases after 3\.15rc1, to v3\.16\.0a1 \(3706\); written to .*magic-update\.json\n$/);
  // two pages of tags, then only the new releases' files: nothing the built-in table knows
  assert.deepEqual(requests.filter((u) => u.startsWith('/api')), ['/api/repos/python/cpython/tags?per_page=100&page=1', '/api/repos/python/cpython/tags?per_page=100&page=2']);
  assert.deepEqual(requests.filter((u) => u.startsWith('/raw')).sort(), Object.keys(NEW).map((t) => `/raw/python/cpython/${t}/Include/internal/pycore_magic_number.h`).sort());
  const written = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(written.format, 'pyc-audit-magic-update/1');
  assert.equal(written.tagsUrl, `${server.base}/api`);
  assert.ok(Date.parse(written.fetchedAt) > Date.now() - 600_000);
  assert.deepEqual(written.releases.map((x: { tag: string; magic: number; line: number }) => [x.tag, x.magic, x.line]), [['v3.15.0rc2', 3666, 5], ['v3.15.0rc3', 3666, 5], ['v3.15.0', 3667, 5], ['v3.16.0a1', 3706, 5]]);
  assert.deepEqual(readdirSync(join(file, '..')).filter((f) => f.includes('magic-update')), ['magic-update.json'], 'no temporary file left');

  // after: 3667 is 3.15.0 final's; 3666 stale; an audit fetches nothing
  requests.length = 0;
  const audit = JSON.parse((await runAsync(['--format', 'json', pkg], env)).stdout);
  assert.deepEqual(audit.artifacts[0].findings, []);
  assert.equal(audit.artifacts[0].status, 'ok');
  assert.deepEqual(requests, [], 'an audit never fetches');
  assert.equal(audit.tool.magicTable.update.newestTag, 'v3.16.0a1');
  assert.equal(audit.tool.magicTable.update.file, file);
  const stale = JSON.parse((await runAsync(['--format', 'json', pkg315(3666)], env)).stdout);
  assert.deepEqual(stale.artifacts[0].findings.map((f: { code: string }) => f.code), ['PYC001']);
  assert.match(stale.artifacts[0].findings[0].message, /3\.15\.0 expects 3667/);
  // SARIF says it in the run's properties; --version --verbose says it too
  const sarif = JSON.parse((await runAsync(['--format', 'sarif', pkg], env)).stdout);
  assert.equal(sarif.runs[0].properties.magicTable.update.fetchedAt, written.fetchedAt);
  const version = await runAsync(['--version', '--verbose'], env);
  assert.match(version.stdout, new RegExp(`\\nmagic table: built-in to 3\\.15rc1 \\(\\d+ CPython tags read\\); update: 4 releases after it, to v3\\.16\\.0a1, from ${server.base}/api and ${server.base}/raw at ${written.fetchedAt.replace(/\./g, '\\.')} \\(.*magic-update\\.json\\)\\n`));
  // magic: in words, and in JSON the built-in rows apart from the update's
  assert.match((await runAsync(['magic', '3667'], env)).stdout, /^3667 → CPython 3\.15\.0 onward: final-release bytecode for CPython 3\.15\n$/);
  const rows = JSON.parse((await runAsync(['magic', '--format', 'json'], env)).stdout) as { magic: number; origin: string; releases: string; final: boolean }[];
  const by = (m: number) => rows.find((x) => x.magic === m)!;
  assert.deepEqual([by(3667).origin, by(3667).final], ['update', true]);
  assert.deepEqual([by(3666).origin, by(3666).releases, by(3666).final], ['built-in + update', '3.15b1–3.15rc1, 3.15rc2–3.15rc3', false]);
  assert.equal(by(3627).origin, 'built-in');
  assert.equal(by(3706).origin, 'update');
});

test('a 3.15.0 that kept 3666: the rc magic becomes final', async () => {
  site = { tags: [...OLD, 'v3.15.0rc2', 'v3.15.0'], files: { 'v3.15.0rc2': header(3666), 'v3.15.0': header(3666) } };
  const { env } = home();
  assert.equal((await runAsync(['magic', '--update'], env)).code, 0);
  const audit = JSON.parse((await runAsync(['--format', 'json', pkg315(3666)], env)).stdout);
  assert.deepEqual(audit.artifacts[0].findings, []);
  // 3.15 final is known now: 3667 is no longer newer than the table but a number 3.15.0 rejects
  const newer = JSON.parse((await runAsync(['--format', 'json', pkg315(3667)], env)).stdout);
  assert.deepEqual(newer.artifacts[0].findings.map((f: { code: string; severity: string }) => [f.code, f.severity]), [['PYC004', 'error']]);
  assert.match(newer.artifacts[0].findings[0].message, /after 3\.15's newest known 3666 \(.*\), before 3\.16's 3700: no release in this table wrote it/);
});

test('the release list answers 404: an error, nothing written', async () => {
  const { env, file } = home();
  site = { tags: [], files: {}, tagsStatus: 404 };
  const r = await runAsync(['magic', '--update'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pyc-audit: error: magic --update: http:\/\/127\.0\.0\.1:\d+\/api\/repos\/python\/cpython\/tags\?per_page=100&page=1: HTTP 404 \(not found\); the table is unchanged\n$/);
  assert.equal(existsSync(file), false);
});

test('a changed file format is an error naming the release and the file, not a guess', async () => {
  const { env, file } = home();
  site = { tags: [...OLD, 'v3.15.0'], files: { 'v3.15.0': '#define PYC_MAGIC_NUMBER (3667)\n' } };
  const r = await runAsync(['magic', '--update'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pyc-audit: error: magic --update: v3\.15\.0: http:\/\/127\.0\.0\.1:\d+\/raw\/python\/cpython\/v3\.15\.0\/Include\/internal\/pycore_magic_number\.h: no line "#define PYC_MAGIC_NUMBER N" \(the format changed\? nothing is guessed\)/);
  assert.equal(existsSync(file), false);
  // two defining lines are no answer either
  site.files['v3.15.0'] = `${header(3667)}${header(3668)}`;
  assert.match((await runAsync(['magic', '--update'], env)).stderr, /pycore_magic_number\.h: 2 lines "#define PYC_MAGIC_NUMBER N"/);
  // the list itself in another shape
  site = { tags: [], files: {} };
  const obj = await startServer((_req, res) => res.end('{"message": "API rate limit exceeded"}'));
  try {
    const r2 = await runAsync(['magic', '--update', '--tags-url', obj.base], env);
    assert.match(r2.stderr, /page=1: expected a JSON array of tags; the table is unchanged\n$/);
  } finally {
    await obj.close();
  }
});

test('a release without a tag (its tagged source is 404): an error naming it, the previous update kept', async () => {
  const { env, file } = home();
  site = { tags: [...OLD, 'v3.15.0rc2'], files: { 'v3.15.0rc2': header(3666) } };
  assert.equal((await runAsync(['magic', '--update'], env)).code, 0);
  const previous = readFileSync(file, 'utf8');
  site = { tags: [...OLD, 'v3.15.0rc2', 'v3.15.0'], files: { 'v3.15.0rc2': header(3666) } };
  const r = await runAsync(['magic', '--update'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pyc-audit: error: magic --update: v3\.15\.0: http:\/\/127\.0\.0\.1:\d+\/raw\/python\/cpython\/v3\.15\.0\/Include\/internal\/pycore_magic_number\.h: HTTP 404 \(not found\); the table is unchanged\n/);
  assert.equal(readFileSync(file, 'utf8'), previous);
  assert.deepEqual(readdirSync(join(file, '..')).filter((f) => f.includes('magic-update')), ['magic-update.json']);
});

test('a server that stalls: the deadline ends the request, one error line', async () => {
  const { env, file } = home();
  site = { tags: [...OLD, 'v3.15.0'], files: { 'v3.15.0': header(3667) }, stall: /\/raw\// };
  const r = await runAsync(['magic', '--update', '--timeout', '1'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pyc-audit: error: magic --update: v3\.15\.0: http:\/\/127\.0\.0\.1:\d+\/raw\/.*: no complete answer within 1 s; the table is unchanged\n/);
  assert.equal(existsSync(file), false);
});

test('a cache another process wrote badly is an error line, never trusted; a FIFO is refused, not waited on', async () => {
  const { env, file } = home();
  mkdirSync(join(file, '..'), { recursive: true });
  const pkg = pkg315(3667);
  const good = { format: 'pyc-audit-magic-update/1', fetchedAt: '2026-12-06T00:00:00.000Z', tagsUrl: 'https://api.github.com', rawUrl: 'https://raw.githubusercontent.com', tagsListed: 700, after: '3.15rc1', releases: [{ tag: 'v3.15.0', version: '3.15', magic: 3667, file: 'Include/internal/pycore_magic_number.h', line: 313 }] };
  writeFileSync(file, JSON.stringify(good));
  assert.equal((await runAsync([pkg], env)).code, 0);
  for (const [bad, reason] of [
    ['{"format": "pyc-audit-magic-update/1"', 'not JSON'],
    [JSON.stringify({ ...good, releases: [{ ...good.releases[0], magic: 'x' }] }), 'releases\\[0\\]\\.magic is not a CPython 3 magic number'],
    [JSON.stringify({ ...good, releases: [{ ...good.releases[0], version: '3.16' }] }), 'releases\\[0\\]\\.version is not 3\\.15'],
    [JSON.stringify({ ...good, format: 'other' }), '"format" is not "pyc-audit-magic-update/1"'],
    [JSON.stringify({ ...good, extra: 1 }), 'unknown field "extra"'],
  ] as const) {
    writeFileSync(file, bad);
    for (const args of [[pkg], ['magic', '3667']]) {
      const r = await runAsync(args, env);
      assert.equal(r.code, 2, `${bad}: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`^pyc-audit: error: .*magic-update\\.json: not a magic table update \\(${reason}\\); run \`pyc-audit magic --update\` again, or delete the file\\n$`));
    }
    assert.match((await runAsync(['--version', '--verbose'], env)).stdout, /magic table: built-in to 3\.15rc1 .*not a magic table update/);
  }
  if (process.platform !== 'win32') {
    rmSync(file);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [file]);
    const r = await runAsync([pkg], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /magic-update\.json: cannot read magic table update: not a regular file \(a FIFO\)/);
  }
});

test('base URLs: https, or http to this machine only', async () => {
  const { env } = home();
  const r = await runAsync(['magic', '--update', '--raw-url', 'http://mirror.example/raw'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pyc-audit: error: --raw-url http:\/\/mirror\.example\/raw: must be https:\/\//);
  assert.match((await runAsync(['magic', '3627', '--tags-url', 'https://x'], env)).stderr, /--tags-url and --raw-url go with --update/);
});
