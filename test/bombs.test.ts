// Decompression bombs and lying archives, generated here (never committed): memory stays bounded,
// time follows what is actually read, and --max-bytes stops a reader when asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TarWalker } from '../src/sources/tar-walker.js';
import { MemberCollector } from '../src/sources/tar-members.js';
import { storedZip, tarHeader, zstdFrame } from './archives.js';
import { ROOT, run } from './helpers.js';
import { emptyEntries } from '../src/sources/types.js';

/** The keep policy of an audit's tar walk. */
const auditKeep = () => new MemberCollector(emptyEntries('tar')).keep;

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-bomb-'));
const GiB = 1 << 30;

/** A .conda whose only component is `pkg` as pkg-*.tar.zst. */
const conda = (pkg: Buffer, stem = 'bomb-1.0-py314_0') => storedZip(`pkg-${stem}.tar.zst`, pkg);

/** Runs the CLI in a Node process that reports its own peak RSS (MB) on the last stderr line. */
function runMeasured(args: string[], env: Record<string, string> = {}) {
  const script = `const { main } = await import(${JSON.stringify(join(ROOT, 'dist/src/cli.js'))});
const code = await main(${JSON.stringify(args)});
process.stderr.write('maxrss ' + Math.round(process.resourceUsage().maxRSS / 1024) + '\\n');
process.exitCode = code;`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  const lines = r.stderr.trim().split('\n');
  const rss = Number(/maxrss (\d+)/.exec(lines.pop() ?? '')?.[1]);
  return { code: r.status, stdout: r.stdout, stderr: lines.join('\n'), rssMB: rss, seconds: (Date.now() - started) / 1000 };
}

const PYC_HEAD = Buffer.from('2b0e0d0a000000000000000000000000', 'hex');

test('a 1 GiB .pyc member inside a 32 KiB .conda: 16 bytes kept, memory flat', () => {
  const dir = tmp();
  const tar = Buffer.concat([tarHeader('lib/python3.14/site-packages/__pycache__/big.cpython-314.pyc', GiB), PYC_HEAD]);
  const file = join(dir, 'big-pyc.conda');
  // 1 GiB of body: 16 bytes of header, then zeros; then the two end blocks (zeros too).
  writeFileSync(file, conda(zstdFrame(tar, GiB - 16 + 1024)));
  const r = runMeasured(['--format', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout).artifacts[0];
  assert.equal(a.pyc.length, 1);
  assert.equal(a.pyc[0].size, GiB);
  assert.equal(a.pyc[0].magic, 3627);
  assert.ok(r.rssMB < 200, `peak RSS ${r.rssMB} MB`);
});

test('a zstd bomb of zeros stops at the tar end: not a gigabyte of work', () => {
  const dir = tmp();
  const file = join(dir, 'zeros.conda');
  // A tar of one .pyc, then 4 GiB of zeros: the first two zero blocks end the archive.
  const tar = Buffer.concat([tarHeader('a.cpython-314.pyc', 16), PYC_HEAD, Buffer.alloc(496)]);
  writeFileSync(file, conda(zstdFrame(tar, 4 * GiB)));
  const r = runMeasured([file]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.seconds < 10, `took ${r.seconds} s`);
  assert.ok(r.rssMB < 200, `peak RSS ${r.rssMB} MB`);
});

test('--max-bytes stops a reader and says so; the other inputs are still audited', () => {
  const dir = tmp();
  const file = join(dir, 'big.conda');
  writeFileSync(file, conda(zstdFrame(tarHeader('data/blob.bin', GiB), GiB)));
  const r = run(['--max-bytes', '64M', file, join(ROOT, 'fixtures', 'example-1.0-py314_0.conda')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `pyc-audit: error: ${file}: --max-bytes reached: stopped after 67108864 bytes of decompressed data, not all of the artifact was audited\n`);
  assert.match(r.stdout, /example-1\.0-py314_0\.conda .* OK/);
});

test('a bzip2 bomb (256 MiB of zeros in a few hundred bytes) is bounded', { skip: spawnSync('bzip2', ['--help'], { stdio: 'ignore' }).error ? 'no bzip2 program to build it' : false }, () => {
  const dir = tmp();
  const header = join(dir, 'header');
  writeFileSync(header, Buffer.concat([tarHeader('lib/python3.14/x.cpython-314.pyc', 256 << 20), PYC_HEAD]));
  const file = join(dir, 'zeros.tar.bz2');
  const made = spawnSync('sh', ['-c', `(cat '${header}'; head -c ${(256 << 20) + 1024} /dev/zero) | bzip2 -9 > '${file}'`]);
  assert.equal(made.status, 0);
  for (const env of [{}, { PYC_AUDIT_BZIP2: 'bzip2' }] as Record<string, string>[]) {
    const r = runMeasured(['--format', 'json', file], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).artifacts[0].pyc[0].size, 256 << 20);
    assert.ok(r.rssMB < 200, `peak RSS ${r.rssMB} MB (${JSON.stringify(env)})`);
  }
});

test('a zip that declares 4 GiB members is refused in one line', () => {
  const dir = tmp();
  const bytes = conda(zstdFrame(tarHeader('x', 0), 1024));
  const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bytes.writeUInt32LE(0xfffffff0, central + 20); // compressed size
  bytes.writeUInt32LE(0xfffffff0, central + 24); // uncompressed size
  const file = join(dir, 'huge.conda');
  writeFileSync(file, bytes);
  const r = run([file]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.split('\n').length, 2);
  assert.match(r.stderr, /^pyc-audit: error: .*huge\.conda: pkg-bomb-1\.0-py314_0\.tar\.zst: file data overflows file bounds: 58 \+ 4294967280 > 679\n$/);
});

test('a tar with a million empty members: nothing kept, memory flat', () => {
  let kept = 0;
  let members = 0;
  const keep = auditKeep();
  const w = new TarWalker((path, size) => {
    members++;
    return keep(path, size);
  }, () => kept++);
  const before = process.memoryUsage().rss;
  const batch = Buffer.concat(Array.from({ length: 1000 }, (_, i) => tarHeader(`d/f${i}.txt`, 0)));
  for (let i = 0; i < 1000; i++) w.write(batch);
  w.write(Buffer.alloc(1024));
  w.end();
  assert.equal(members, 1_000_000);
  assert.equal(kept, 0);
  assert.ok(process.memoryUsage().rss - before < 50 << 20, 'RSS grew by less than 50 MB');
});

test('a tar entry whose size lies is an error naming the member', () => {
  const dir = tmp();
  const tar = Buffer.concat([tarHeader('lib/a.cpython-314.pyc', 100_000), PYC_HEAD]);
  const file = join(dir, 'liar.conda');
  writeFileSync(file, conda(zstdFrame(tar, 0)));
  const r = run([file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /liar\.conda: pkg-bomb-1\.0-py314_0\.tar\.zst: truncated: the tar archive ends inside lib\/a\.cpython-314\.pyc \(99984 of 100000 bytes missing\)\n$/);
});

test('member names with escape sequences are printed escaped, and stay exact in JSON', () => {
  const dir = tmp();
  const evil = 'lib/python3.14/\x1b[2J\x1b[31mowned\x07\r/x.cpython-314.pyc';
  const tar = Buffer.concat([tarHeader(evil, 16), Buffer.from('2a0e0d0a000000000000000000000000', 'hex'), Buffer.alloc(496 + 1024)]);
  const file = join(dir, 'evil.conda');
  writeFileSync(file, conda(zstdFrame(tar, 0)));
  const text = run([file]);
  assert.equal(text.code, 1);
  assert.doesNotMatch(text.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'no raw control character reaches the terminal');
  assert.match(text.stdout, /lib\/python3\.14\/\\x1b\[2J\\x1b\[31mowned\\x07\\x0d\/x\.cpython-314\.pyc/);
  const json = run(['--format', 'json', file]);
  assert.equal(JSON.parse(json.stdout).artifacts[0].pyc[0].member, evil);
});

test('no temporary files: TMPDIR stays empty', () => {
  const dir = tmp();
  const r = run(['--format', 'json', join(ROOT, 'fixtures', 'example-1.0-py314_0.conda'), join(ROOT, 'fixtures', 'legacy-1.0-py27_0.tar.bz2')], { TMPDIR: dir, TMP: dir, TEMP: dir });
  assert.equal(r.code, 0);
  assert.deepEqual(readdirSync(dir), []);
});
