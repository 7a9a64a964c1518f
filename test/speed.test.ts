// The decoders chosen and forced, block-parallel bzip2, the bounded pure-JavaScript zstd, reader
// threads, and the bin under BusyBox's env. Inputs are built here, at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { cutRuns, mapBlocks, type Run, writeRun } from '../src/sources/codecs/bzip2-blocks.js';
import { zlibHasZstd } from '../src/sources/codecs/codecs.js';
import { storedZip, tarHeader } from './archives.js';
import { BIN, FIXTURES, fixture, run } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-speed-'));
const has = (program: string) => !spawnSync(program, ['--help'], { stdio: 'ignore' }).error;
const zlibZstd = zlibHasZstd();
const PYC_HEAD = Buffer.from('2b0e0d0a000000000000000000000000', 'hex');

function tarOf(members: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, body] of members) {
    parts.push(tarHeader(name, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A tar with one .pyc and `n` KiB of hard-to-compress .py files. */
function bigTar(kib: number): Buffer {
  const members: [string, Buffer][] = [['lib/python3.14/site-packages/m/__pycache__/__init__.cpython-314.pyc', PYC_HEAD]];
  for (let i = 0; i < kib / 64; i++) members.push([`lib/python3.14/site-packages/m/f${i}.py`, Buffer.from(randomBytes(32 << 10).toString('hex'))]);
  return tarOf(members);
}

function bzip2(data: Buffer, level = 1): Buffer {
  const r = spawnSync('bzip2', [`-${level}c`], { input: data, maxBuffer: 1 << 30 });
  assert.equal(r.status, 0);
  return r.stdout;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// ---- which decoder runs ---------------------------------------------------------------------------

test('--version --verbose names the decoders; forcing one changes it', () => {
  const r = run(['--version', '--verbose']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^pyc-audit \\d+\\.\\d+\\.\\d+\\nnode ${process.version.replace(/\./g, '\\.')}\\n`));
  // With sound zstd in node:zlib, node:zlib decodes it (on libuv's thread pool).
  const expected = zlibZstd ? 'node:zlib' : has('zstd') ? 'zstd \\(program\\)' : 'fzstd \\(JavaScript\\)';
  assert.match(r.stdout, new RegExp(`^zstd: ${expected}$`, 'm'));
  assert.match(r.stdout, new RegExp(`^cores: ${availableParallelism()} `, 'm'));
  const js = run(['--version', '--verbose'], { PYC_AUDIT_ZSTD: 'js', PYC_AUDIT_BZIP2: 'js' });
  assert.match(js.stdout, /^zstd: fzstd \(JavaScript\)$/m);
  assert.match(js.stdout, /^bzip2: unbzip2-stream \(JavaScript\)$/m);
  if (has('bzip2')) {
    const plain = run(['--version', '--verbose'], { PYC_AUDIT_BZIP2: 'bzip2' });
    assert.match(plain.stdout, availableParallelism() > 1 ? /^bzip2: bzip2 \(program, block-parallel ×\d+\)$/m : /^bzip2: bzip2 \(program\)$/m);
  }
  if (has('zstd')) assert.match(run(['--version', '--verbose'], { PYC_AUDIT_ZSTD: 'tool' }).stdout, /^zstd: zstd \(program\)$/m);
});

test('a forced decoder this machine lacks is an error, not a silent fallback', () => {
  const empty = tmp(); // a PATH with no programs on it
  const conda = fixture('example-1.0-py314_0.conda');
  for (const [env, message] of [
    [{ PYC_AUDIT_ZSTD: 'tool', PATH: empty }, 'PYC_AUDIT_ZSTD=tool: no zstd program on PATH'],
    [{ PYC_AUDIT_BZIP2: 'tool', PATH: empty }, 'PYC_AUDIT_BZIP2=tool: no lbzip2, pbzip2 or bzip2 program on PATH'],
    [{ PYC_AUDIT_BZIP2: 'no-such-bzip2' }, 'PYC_AUDIT_BZIP2=no-such-bzip2: no no-such-bzip2 program on PATH'],
    [{ PYC_AUDIT_ZSTD: 'napi' }, 'PYC_AUDIT_ZSTD=napi: expected zlib, tool or js'],
    ...(zlibZstd ? [] : [[{ PYC_AUDIT_ZSTD: 'zlib' }, `PYC_AUDIT_ZSTD=zlib: this Node (${process.version}) has ${typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function' ? 'zstd in node:zlib that does not report a frame cut short (Node >= 23.8 does)' : 'no zstd in node:zlib (Node >= 23.8 has)'}`]]),
  ] as [Record<string, string>, string][]) {
    for (const args of [[conda], ['--version', '--verbose']]) {
      const r = run(args, env);
      assert.equal(r.code, 2, JSON.stringify(env));
      assert.equal(r.stderr, `pyc-audit: error: ${message}\n`);
      assert.equal(r.stdout, args[0] === conda ? '' : r.stdout);
    }
  }
  if (zlibZstd) assert.match(run(['--version', '--verbose'], { PYC_AUDIT_ZSTD: 'zlib' }).stdout, /^zstd: node:zlib$/m);
  // Only public Node APIs: a user who asks to see pending deprecations gets no warning from pyc-audit.
  const audited = run([fixture('example-1.0-py314_0.conda')], { NODE_PENDING_DEPRECATION: '1' });
  assert.equal(audited.stderr, '');
  assert.match(audited.stdout, /example-1\.0-py314_0\.conda/);
});

// ---- block-parallel bzip2 ----------------------------------------------------------------------------

/** Runs f with the file open, as the reader hands it over (the decoders never open a path again). */
async function opened<T>(path: string, f: (handle: FileHandle) => Promise<T>): Promise<T> {
  const handle = await open(path, 'r');
  try {
    return await f(handle);
  } finally {
    await handle.close();
  }
}

/** A run re-wrapped as a stream, collected from the pieces `writeRun` hands on (`pieceBytes` at a time). */
async function wrapped(handle: FileHandle, level: number, run: Run, pieceBytes?: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  await writeRun(handle, level, run, async (piece) => void pieces.push(Buffer.from(piece)), pieceBytes);
  return Buffer.concat(pieces);
}

test('bzip2 blocks: found at every bit offset, re-wrapped runs decode to the same bytes', { skip: has('bzip2') ? false : 'no bzip2 program' }, async () => {
  const dir = tmp();
  const tar = bigTar(1536);
  const file = join(dir, 'big.tar.bz2');
  writeFileSync(file, bzip2(tar));
  const map = await opened(file, mapBlocks);
  assert.ok(map, 'one well-formed stream');
  assert.equal(map.level, 1);
  assert.ok(map.blocks.length >= 10, `${map.blocks.length} blocks`);
  assert.ok(new Set(map.blocks.map((b) => b.bit % 8)).size > 1, 'blocks at several bit alignments');
  const runs = cutRuns(map, 200 << 10);
  assert.ok(runs.length >= 3, `${runs.length} runs`);
  const decoded = Buffer.concat(
    await Promise.all(
      runs.map(async (r) => {
        const stream = await opened(file, (h) => wrapped(h, map.level, r));
        // Handed on in pieces of any size, the stream is the same bytes.
        for (const pieceBytes of [16, 1000, 4099]) assert.ok(stream.equals(await opened(file, (h) => wrapped(h, map.level, r, pieceBytes))), `pieces of ${pieceBytes}`);
        const out = spawnSync('bzip2', ['-dc'], { input: stream, maxBuffer: 1 << 30 });
        assert.equal(out.status, 0, out.stderr.toString());
        return out.stdout;
      }),
    ),
  );
  assert.equal(sha(decoded), sha(tar));
  // Streams that end at every bit alignment, the end-of-stream marker's CRC in the file's last byte included.
  const alignments = new Set<number>();
  for (let i = 0; i < 64 && alignments.size < 8; i++) {
    const f = join(dir, `small${i}.tar.bz2`);
    writeFileSync(f, bzip2(randomBytes(2000 + i * 37)));
    const m = await opened(f, mapBlocks);
    assert.ok(m, `stream ${i}`);
    alignments.add(m.endBit % 8);
  }
  assert.ok(alignments.has(0), `end alignments seen: ${[...alignments]}`);
  // Not one well-formed stream: decoded whole instead.
  const bytes = readFileSync(file);
  const variants: [string, Buffer][] = [
    ['truncated', bytes.subarray(0, bytes.length - 40)],
    ['two streams', Buffer.concat([bytes, bytes])],
    ['trailing bytes', Buffer.concat([bytes, Buffer.from('x')])],
  ];
  // A block CRC that disagrees with the stream CRC (as a false magic match would).
  const crcFlipped = Buffer.from(bytes);
  const at = (map.blocks[3]!.bit + 48) >>> 3;
  crcFlipped[at + 1] = crcFlipped[at + 1]! ^ 0x10;
  variants.push(['a block CRC changed', crcFlipped]);
  for (const [name, data] of variants) {
    const f = join(dir, `${name}.tar.bz2`);
    writeFileSync(f, data);
    assert.equal(await opened(f, mapBlocks), null, name);
  }
});

test('a big .tar.bz2 read block-parallel gives the same report; a damaged block is one error line', { skip: has('bzip2') ? false : 'no bzip2 program' }, () => {
  const dir = tmp();
  const file = join(dir, 'par-1.0-py314_0.tar.bz2');
  const bytes = bzip2(bigTar(1536));
  writeFileSync(file, bytes);
  const env = { PYC_AUDIT_BZIP2: 'bzip2', PYC_AUDIT_BZIP2_RUN_BYTES: String(64 << 10) };
  const parallel = run(['--format', 'json', '--fail-on', 'never', file], env);
  assert.equal(parallel.code, 0, parallel.stderr);
  const whole = run(['--format', 'json', '--fail-on', 'never', file], { ...env, PYC_AUDIT_BZIP2_RUN_BYTES: '0' });
  assert.deepEqual(JSON.parse(parallel.stdout).artifacts, JSON.parse(whole.stdout).artifacts);
  assert.equal(JSON.parse(parallel.stdout).artifacts[0].pyc.length, 1);
  // Damage inside a late block: its run's bzip2 finds the CRC (or the data) wrong.
  const damaged = Buffer.from(bytes);
  for (let i = Math.floor(damaged.length * 0.8); i < Math.floor(damaged.length * 0.8) + 64; i++) damaged[i] = damaged[i]! ^ 0x55;
  const bad = join(dir, 'damaged.tar.bz2');
  writeFileSync(bad, damaged);
  const r = run([bad, fixture('example-1.0-py314_0.conda')], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pyc-audit: error: .*damaged\.tar\.bz2: corrupt (or truncated )?bzip2 data/, 'the decoder says why, not the tar walker after it');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stdout, /^OK +\S*example-1\.0-py314_0\.conda /m);
});

/** `bzip2 -dc` as decodeRuns runs it; `whole` for a file it must decode in runs (never called). */
const BZIP2_DC = { command: 'bzip2', args: ['-dc'] };
const notWhole = async () => assert.fail('decoded whole, not in runs');

/** A tar whose middle member is `zeros` MiB of zeros: a few blocks of compressed bytes that decode to far more than a run ahead may hold. */
function tarWithZeros(zeros: number): Buffer {
  return tarOf([
    ['lib/python3.14/site-packages/m/__pycache__/__init__.cpython-314.pyc', PYC_HEAD],
    ['lib/python3.14/site-packages/m/a.py', Buffer.from(randomBytes(768 << 10).toString('hex'))],
    ['lib/python3.14/site-packages/m/zeros.bin', Buffer.alloc(zeros << 20)],
    ['lib/python3.14/site-packages/m/b.py', Buffer.from(randomBytes(256 << 10).toString('hex'))],
    ['lib/python3.14/site-packages/m/__pycache__/b.cpython-314.pyc', PYC_HEAD],
  ]);
}

test('bzip2 runs: output in order, whatever each run holds ahead (slabs, a paused program)', { skip: has('bzip2') ? false : 'no bzip2 program' }, async () => {
  const { decodeRuns } = await import('../src/sources/codecs/bzip2-runs.js');
  const dir = tmp();
  const tar = tarWithZeros(40);
  const file = join(dir, 'zeros-1.0-py314_0.tar.bz2');
  writeFileSync(file, bzip2(tar));
  for (const runBytes of [64 << 10, 256 << 10]) {
    const hash = createHash('sha256');
    let bytes = 0;
    await opened(file, (h) => decodeRuns(BZIP2_DC, h, runBytes, (chunk) => void (hash.update(chunk), (bytes += chunk.length)), notWhole));
    assert.equal(bytes, tar.length, `runs of ${runBytes}`);
    assert.equal(hash.digest('hex'), sha(tar), `runs of ${runBytes}`);
  }
  // The CLI: both .pyc found, the second after 40 MiB of one run held ahead.
  const env = { PYC_AUDIT_BZIP2: 'bzip2', PYC_AUDIT_BZIP2_RUN_BYTES: String(64 << 10) };
  const r = run(['--format', 'json', '--fail-on', 'never', file], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).artifacts[0].pyc.map((p: { member: string }) => p.member).sort(), ['lib/python3.14/site-packages/m/__pycache__/__init__.cpython-314.pyc', 'lib/python3.14/site-packages/m/__pycache__/b.cpython-314.pyc']);
  assert.deepEqual(JSON.parse(r.stdout).artifacts, JSON.parse(run(['--format', 'json', '--fail-on', 'never', file], { ...env, PYC_AUDIT_BZIP2_RUN_BYTES: '0' }).stdout).artifacts);
});

test('bzip2 runs: a file that shrinks while a later run is read says so; a sink that stops ends the read', { skip: has('bzip2') ? false : 'no bzip2 program' }, async () => {
  const { decodeRuns } = await import('../src/sources/codecs/bzip2-runs.js');
  const dir = tmp();
  const tar = bigTar(1536);
  const file = join(dir, 'shrinks.tar.bz2');
  writeFileSync(file, bzip2(tar));
  const size = readFileSync(file).length;
  // Once the whole file has been read (the block map), reads past 60 % of it come back short, as
  // from a file cut meanwhile.
  const shrinking = (h: FileHandle): FileHandle => {
    let read = 0;
    return new Proxy(h, {
      get(target, key) {
        if (key === 'read')
          return async (buf: Buffer, off: number, len: number, pos: number) => {
            const r = await target.read(buf, off, len, pos);
            const cut = read >= size && pos + len > size * 0.6;
            read += r.bytesRead;
            return cut ? { ...r, bytesRead: Math.max(0, Math.floor(size * 0.6) - pos) } : r;
          };
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  let bytes = 0;
  await assert.rejects(
    opened(file, (h) => decodeRuns(BZIP2_DC, shrinking(h), 64 << 10, (chunk) => void (bytes += chunk.length), notWhole)),
    /^Error: file shrank while being read \(short read at offset \d+\)$/,
  );
  assert.ok(bytes > tar.length * 0.4 && bytes < tar.length, `${bytes} bytes of ${tar.length} handed on before the error`);
  // A sink that throws: that error, promptly, and no program left running.
  const stop = new Error('enough');
  let calls = 0;
  await assert.rejects(
    opened(file, (h) =>
      decodeRuns(BZIP2_DC, h, 64 << 10, () => {
        if (++calls === 3) throw stop;
      }, notWhole),
    ),
    (err) => err === stop,
  );
});

// ---- the pure-JavaScript zstd, bounded ----------------------------------------------------------------

/** A zstd frame of raw blocks: window descriptor `wd`, and a content-size field when `withSize`. */
function frame(raw: Buffer, wd: number, withSize = false): Buffer {
  const header = withSize ? Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x80, wd, 0, 0, 0, 0]) : Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, wd]);
  if (withSize) header.writeUInt32LE(raw.length, 6);
  const v = 1 | (raw.length << 3); // last block, raw
  return Buffer.concat([header, Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]), raw]);
}

/** A .conda whose pkg tarball is `tar` cut into `n` frames. */
function framedConda(dir: string, name: string, tar: Buffer, n: number, wd: number, withSize = false): string {
  const size = Math.ceil(tar.length / n);
  const frames = Array.from({ length: n }, (_, i) => frame(tar.subarray(i * size, (i + 1) * size), wd, withSize));
  const path = join(dir, `${name}.conda`);
  writeFileSync(path, storedZip(`pkg-${name}.tar.zst`, Buffer.concat(frames)));
  return path;
}

/** Runs the bin and reports its peak RSS in MB (GNU time's %M, or the process's own figure). */
function measured(args: string[], env: Record<string, string>) {
  const script = `process.argv = ${JSON.stringify([process.execPath, BIN, ...args])}; await import(${JSON.stringify(BIN)}); process.on('exit', () => process.stderr.write('maxrss ' + Math.round(process.resourceUsage().maxRSS / 1024) + '\\n'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  const lines = r.stderr.trim().split('\n');
  const rss = Number(/maxrss (\d+)/.exec(lines.pop() ?? '')?.[1]);
  return { code: r.status, stdout: r.stdout, stderr: lines.join('\n'), rssMB: rss };
}

// The unbounded decoder reached ~1 GB on these inputs; Node 24's own footprint varies by tens of MB
// between runs (204 MB seen once against a 200 MB bound), so the bound leaves room for that.
const FZSTD_RSS_BOUND_MB = 400;

test('fzstd: 12,736 tiny frames decode (no stack overflow) with memory bounded', () => {
  const dir = tmp();
  const tar = tarOf([
    ['lib/python3.14/site-packages/m/__pycache__/__init__.cpython-314.pyc', PYC_HEAD],
    ['lib/python3.14/site-packages/m/__init__.py', Buffer.alloc(600 << 10, 'x')],
  ]);
  const path = framedConda(dir, 'frames-1.0-py314_0', tar, 12_736, 0x00); // 1 KiB windows
  const js = measured(['--format', 'json', path], { PYC_AUDIT_ZSTD: 'js' });
  assert.equal(js.stderr, '');
  assert.equal(js.code, 1); // read: the package's findings (no info/) set the exit code
  assert.ok(js.rssMB < FZSTD_RSS_BOUND_MB, `peak RSS ${js.rssMB} MB`);
  const a = JSON.parse(js.stdout).artifacts[0];
  assert.equal(a.pyc.length, 1);
  assert.equal(a.pyc[0].magic, 3627);
  if (zlibZstd || has('zstd')) assert.deepEqual(JSON.parse(run(['--format', 'json', path]).stdout).artifacts, JSON.parse(js.stdout).artifacts);
});

test('fzstd: 438 tiny frames with 8 MiB windows are refused or shrunk, never 1 GB', () => {
  const dir = tmp();
  const tar = tarOf([['lib/python3.14/site-packages/m/__pycache__/__init__.cpython-314.pyc', PYC_HEAD]]);
  // Without a content size the window is what each frame needs: refused as too costly, bounded.
  const costly = framedConda(dir, 'windows-1.0-py314_0', tar, 438, 0x68);
  const r = measured([costly], { PYC_AUDIT_ZSTD: 'js' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^pyc-audit: error: .*windows-1\.0-py314_0\.conda: pkg-windows-1\.0-py314_0\.tar\.zst: zstd data too costly for the pure-JavaScript decoder/);
  assert.ok(r.rssMB < FZSTD_RSS_BOUND_MB, `peak RSS ${r.rssMB} MB`);
  // With a content size, each frame's window shrinks to it: decoded, the same as the native decoder.
  const sized = framedConda(dir, 'sized-1.0-py314_0', tar, 438, 0x68, true);
  const ok = measured(['--format', 'json', sized], { PYC_AUDIT_ZSTD: 'js' });
  assert.equal(ok.stderr, '');
  assert.equal(ok.code, 0);
  assert.ok(ok.rssMB < FZSTD_RSS_BOUND_MB, `peak RSS ${ok.rssMB} MB`);
  assert.equal(JSON.parse(ok.stdout).artifacts[0].pyc[0].magic, 3627);
  // A window over 32 MiB: refused with the reason.
  const huge = framedConda(dir, 'huge-1.0-py314_0', tar, 1, 0x88);
  const h = run([huge], { PYC_AUDIT_ZSTD: 'js' });
  assert.equal(h.code, 2);
  assert.match(h.stderr, /zstd window of 128 MiB is more than the pure-JavaScript decoder accepts \(32 MiB\)/);
});

// ---- reader threads -----------------------------------------------------------------------------------

test('reader threads (forced on small inputs) give the same report as the main thread', { skip: availableParallelism() > 1 ? false : 'one core: no reader threads' }, () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.conda')).map((f) => fixture(f));
  const main = run(['--format', 'json', '--jobs', '2', ...files], { PYC_AUDIT_DEBUG: 'threads' });
  assert.doesNotMatch(main.stderr, /debug/, 'no threads for a small run');
  // Threads are for a zstd decoder on the reading thread (fzstd); see reader-choice.test.ts.
  const forced = { PYC_AUDIT_THREADS_MIN_BYTES: '0', PYC_AUDIT_DEBUG: 'threads', PYC_AUDIT_ZSTD: 'js' };
  const threaded = run(['--format', 'json', '--jobs', '2', ...files], forced);
  const used = /pyc-audit: debug: (\d+) artifacts read on (\d+) reader threads/.exec(threaded.stderr);
  assert.ok(used, threaded.stderr);
  assert.ok(Number(used[1]) > 0 && Number(used[2]) === 1, threaded.stderr);
  assert.equal(threaded.code, main.code);
  assert.deepEqual(JSON.parse(threaded.stdout).artifacts, JSON.parse(main.stdout).artifacts);
  // --jobs above the core count: never more threads than cores.
  const many = run(['--jobs', '100', ...files], forced);
  assert.ok(Number(/on (\d+) reader threads/.exec(many.stderr)?.[1]) <= availableParallelism() - 1, many.stderr);
});

// ---- the bin ---------------------------------------------------------------------------------------------

test('the bin runs under BusyBox env (a plain shebang, no env -S)', { skip: has('busybox') ? false : 'busybox not installed (apt-get install busybox)' }, () => {
  const shebang = readFileSync(BIN, 'utf8').split('\n')[0];
  assert.equal(shebang, '#!/usr/bin/env node');
  const dir = tmp();
  // The bin as the kernel would start it, through BusyBox's env, with this test's node first on PATH.
  const env = { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` };
  const r = spawnSync('busybox', ['env', 'node', BIN, fixture('example-py314rc2.conda')], { encoding: 'utf8', env, cwd: dir, timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^STALE +\S*example-py314rc2\.conda /);
  const sh = spawnSync('busybox', ['sh', '-c', `exec ${JSON.stringify(BIN)} --version`], { encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(sh.status, 0, sh.stderr);
  assert.match(sh.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('a decoder program reads the artifact through the descriptor the tool checked, never by its path (which could name something else by then)', { skip: has('bzip2') ? false : 'no bzip2 program' }, () => {
  const dir = tmp();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'calls.log');
  // A bzip2 that says how it was called and what its stdin is, then decodes as bzip2 does.
  const real = spawnSync('sh', ['-c', 'command -v bzip2'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(bin, 'bzip2'), `#!/bin/sh\necho "args: $*" >> '${log}'\n[ -f /dev/stdin ] && echo "stdin: a regular file" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  const file = join(dir, 'example-1.0-py314rc2_0.tar.bz2');
  writeFileSync(file, readFileSync(fixture('example-1.0-py314rc2_0.tar.bz2')));
  const r = run(['--format', 'json', file], { PATH: `${bin}:${process.env.PATH}`, PYC_AUDIT_BZIP2: 'bzip2' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(JSON.parse(r.stdout).artifacts[0].status, 'stale');
  const calls = readFileSync(log, 'utf8');
  assert.match(calls, /^args: -dc$/m, calls);
  assert.match(calls, /^stdin: a regular file$/m, calls);
  assert.ok(!calls.includes(file), calls);
});

test('bzip2 writes through stdbuf with a 1 MiB output buffer where stdbuf works, and runs alone where it does not', { skip: has('bzip2') && has('stdbuf') ? false : 'no bzip2 or no stdbuf program' }, () => {
  const dir = tmp();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const real = spawnSync('sh', ['-c', 'command -v stdbuf'], { encoding: 'utf8' }).stdout.trim();
  const small = fixture('example-1.0-py314rc2_0.tar.bz2');
  const big = join(dir, 'big-1.0-py314_0.tar.bz2');
  writeFileSync(big, bzip2(bigTar(1024)));
  const env = { PATH: `${bin}:${process.env.PATH}`, PYC_AUDIT_BZIP2: 'bzip2', PYC_AUDIT_BZIP2_RUN_BYTES: String(64 << 10) };
  const report = (r: { code: number | null; stdout: string; stderr: string }) => ({ code: r.code, stderr: r.stderr, artifacts: JSON.parse(r.stdout).artifacts });
  const plain = report(run(['--format', 'json', small, big], { ...env, PATH: process.env.PATH }));
  // A stdbuf that works: every bzip2 (the whole small file, each run of the big one) goes through it.
  const log = join(dir, 'works.log');
  writeFileSync(join(bin, 'stdbuf'), `#!/bin/sh\necho "stdbuf $*" >> '${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  assert.deepEqual(report(run(['--format', 'json', small, big], env)), plain);
  const calls = readFileSync(log, 'utf8').split('\n').filter((l) => l.endsWith(' bzip2 -dc'));
  assert.ok(calls.length >= 3 && calls.every((l) => l === 'stdbuf -o1M bzip2 -dc'), readFileSync(log, 'utf8'));
  // A stdbuf whose library cannot be preloaded (it says so on stderr): bzip2 runs alone, nothing printed.
  const broken = join(dir, 'broken.log');
  writeFileSync(join(bin, 'stdbuf'), `#!/bin/sh\necho "stdbuf $*" >> '${broken}'\necho "ERROR: ld.so: object 'libstdbuf.so' from LD_PRELOAD cannot be preloaded: ignored." >&2\nshift\nexec "$@"\n`, { mode: 0o755 });
  assert.deepEqual(report(run(['--format', 'json', small, big], env)), plain);
  assert.equal(readFileSync(broken, 'utf8'), 'stdbuf -o1M true\n');
});
