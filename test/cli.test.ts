// The CLI run as a process: output, exit codes, and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storedZip } from './archives.js';
import { BIN, fixture, FIXTURES, ROOT, run } from './helpers.js';

/** bzip2 programs on this machine (lbzip2 reports truncation in its own words). */
const programs = ['bzip2', 'lbzip2'].filter((p) => spawnSync(p, ['--help'], { stdio: 'ignore' }).error === undefined);

const tmp = () => mkdtempSync(join(tmpdir(), 'pyc-audit-test-'));

/** A copy of `src` with `edit` applied to its bytes, in a fresh temp dir. */
function variant(src: string, name: string, edit: (b: Buffer) => Buffer): string {
  const path = join(tmp(), name);
  writeFileSync(path, edit(readFileSync(src)));
  return path;
}

/** Byte offset and length of a stored member's data in a zip (from its local header). */
function zipMember(zip: Buffer, prefix: string): { start: number; size: number } {
  for (let at = zip.indexOf('PK\x03\x04'); at >= 0; at = zip.indexOf('PK\x03\x04', at + 4)) {
    const nameLen = zip.readUInt16LE(at + 26);
    const extraLen = zip.readUInt16LE(at + 28);
    const name = zip.toString('latin1', at + 30, at + 30 + nameLen);
    if (name.startsWith(prefix)) return { start: at + 30 + nameLen + extraLen, size: zip.readUInt32LE(at + 18) };
  }
  throw new Error(`no ${prefix} member`);
}

test('quick start: the bundled 3.14rc2 example is reported stale, exit 1', () => {
  const r = run([fixture('example-py314rc2.conda')]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '');
  // The status first, in a column as wide as the widest status.
  assert.match(r.stdout, /^STALE {10}\S*example-py314rc2\.conda {2}1 pyc {2}3626 \(3\.14rc2\) ×1 {2}expects 3\.14 \(python_abi in index\.json\) {2}1 error\n/);
  assert.match(r.stdout, /\n {2}impact {2}1 module \(0\.1 KiB of source\) compiled at first import\n/);
  assert.match(r.stdout, /\n {2}error {3}PYC001 {2}lib\/python3\.14\/site-packages\/example\/__pycache__\/__init__\.cpython-314\.pyc {2}written by 3\.14rc2; 3\.14\.0 expects 3627\n {10}fix: rebuild the package with a final release of the target Python\n$/);
});

test('a clean 3.14.0 build passes with exit 0, in both formats', () => {
  for (const f of ['example-1.0-py314_0.conda', 'example-1.0-py314_0.tar.bz2']) {
    const r = run([fixture(f)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Final bytecode by its version: "3.14rc3 onward" would read as built with rc3.
    assert.match(r.stdout, /^OK {13}\S+ {2}1 pyc {2}3627 \(3\.14\) ×1 .*\)\n$/);
  }
});

test('.conda and .tar.bz2 of the same package give the same verdicts', () => {
  for (const stem of ['example-1.0-py314rc1_0', 'example-1.0-py314rc2_0', 'legacy-1.0-py27_0', 'legacy-1.0-py36_0', 'hashed-1.0-py313_0', 'mixed-1.0-py314_0']) {
    const a = JSON.parse(run(['--format', 'json', fixture(`${stem}.conda`)]).stdout).artifacts[0];
    const b = JSON.parse(run(['--format', 'json', fixture(`${stem}.tar.bz2`)]).stdout).artifacts[0];
    assert.deepEqual(a.pyc, b.pyc, stem);
    assert.equal(a.kind, 'conda');
    assert.equal(b.kind, 'tar.bz2');
  }
});

test('statuses: rc1 and rc2 stale, 2.7/3.6 headers ok, cache-tag mismatch and wrong version', () => {
  const r = run(['--format', 'json', ...['example-1.0-py314rc1_0', 'legacy-1.0-py27_0', 'legacy-1.0-py36_0', 'hashed-1.0-py313_0', 'mixed-1.0-py314_0'].map((s) => fixture(`${s}.conda`))]);
  assert.equal(r.code, 1);
  const [rc1, py27, py36, hashed, mixed] = JSON.parse(r.stdout).artifacts;
  assert.equal(rc1.pyc[0].status, 'stale');
  assert.equal(rc1.pyc[0].message, 'written by 3.14b3–3.14rc1; 3.14.0 expects 3627');
  assert.equal(py27.pyc[0].status, 'ok');
  assert.equal(py27.pyc[0].header.size, 8);
  assert.equal(py36.pyc[0].header.size, 12);
  assert.equal(py36.pyc[0].header.sourceSize, 117);
  assert.deepEqual(hashed.pyc.map((p: { header: { kind: string } }) => p.header.kind).sort(), ['checked-hash', 'unchecked-hash']);
  assert.equal(hashed.status, 'ok');
  const byTag = Object.fromEntries(mixed.pyc.map((p: { member: string; status: string }) => [p.member.split('.').slice(-2, -1)[0], p.status]));
  assert.deepEqual(byTag, { 'cpython-312': 'wrong-version', 'cpython-314': 'tag-mismatch' });
  assert.equal(mixed.status, 'tag-mismatch');
});

test('--format json: the documented fields', () => {
  const r = run(['--format', 'json', fixture('example-py314rc2.conda')]);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.tool.name, 'pyc-audit');
  assert.deepEqual(doc.summary, {
    artifacts: 1,
    pyc: 1,
    findings: 1,
    bySeverity: { error: 1, warning: 0, info: 0 },
    failing: 1,
    failOn: 'error',
    errors: 0,
    incomplete: 0,
    impact: { modules: 1, sourceBytes: 117 },
  });
  assert.equal(doc.tool.schema, 4);
  assert.deepEqual(doc.artifacts[0].findings, [
    { code: 'PYC001', severity: 'error', member: 'lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc', message: 'written by 3.14rc2; 3.14.0 expects 3627', cause: 'written by 3.14rc2; 3.14.0 expects 3627' },
  ]);
  assert.deepEqual(doc.artifacts[0].impact, { modules: 1, sourceBytes: 117 });
  const a = doc.artifacts[0];
  assert.deepEqual(a.package, { name: 'example', version: '1.0', build: 'py314rc2_0', subdir: 'linux-64', noarch: null });
  assert.equal(a.recipe, null); // its info/about.json names no recipe
  assert.equal(a.expected.version, '3.14');
  assert.equal(a.expected.from, 'python_abi');
  assert.equal(a.error, null);
  const p = a.pyc[0];
  assert.equal(p.member, 'lib/python3.14/site-packages/example/__pycache__/__init__.cpython-314.pyc');
  assert.equal(p.magic, 3626);
  assert.equal(p.headerHex, readFileSync(fixture('pyc', 'greeting.3.14rc2.timestamp.pyc')).subarray(0, 16).toString('hex'));
  assert.deepEqual(p.header, { size: 16, kind: 'timestamp', flags: 0, mtime: 1700000000, sourceSize: 117, sourceHash: null });
  assert.equal(p.implementation, 'CPython');
  assert.equal(p.version, '3.14');
  assert.equal(p.releases, '3.14rc2');
  assert.equal(p.status, 'stale');
});

test('--python overrides the package and a disagreement is reported', () => {
  const r = run(['--python', '3.13', '--format', 'json', fixture('example-1.0-py314_0.conda')]);
  const a = JSON.parse(r.stdout).artifacts[0];
  assert.equal(r.code, 1);
  assert.equal(a.expected.version, '3.13');
  assert.equal(a.expected.from, 'option');
  assert.match(a.expected.conflict, /--python says 3\.13 but python_abi in index\.json says 3\.14/);
  assert.equal(a.pyc[0].status, 'wrong-version');
  // 3.13 reads cpython-313 names: the package's cpython-314 .pyc is never read, and the module has none.
  assert.deepEqual(a.findings.map((f: { code: string }) => f.code), ['PYC202', 'PYC203']);
  const text = run(['--python', '3.13', fixture('example-1.0-py314_0.conda')]);
  assert.match(text.stdout, /note {2}--python says 3\.13 but/);
});

test('bad input: one error line each, the rest still audited, exit 2', () => {
  const conda = fixture('example-1.0-py314rc2_0.conda');
  const bz2 = fixture('example-1.0-py314rc2_0.tar.bz2');
  const bytes = readFileSync(conda);
  const pkg = zipMember(bytes, 'pkg-');
  const cases: [string, RegExp][] = [
    [join(tmp(), 'missing.conda'), /missing\.conda: no such file$/],
    [variant(conda, 'truncated.conda', (b) => b.subarray(0, Math.floor(b.length / 2))), /truncated\.conda: not a readable zip: End of central directory record signature not found/],
    [variant(conda, 'zstd-corrupt.conda', (b) => {
      const c = Buffer.from(b);
      for (let i = pkg.start + 8; i < pkg.start + pkg.size - 4; i++) c[i] = 0xff;
      return c;
    }), /zstd-corrupt\.conda: pkg-example-1\.0-py314rc2_0\.tar\.zst: (corrupt zstd data: |truncated: the zstd stream ends)/],
    [variant(conda, 'zstd-truncated.conda', (b) => {
      // Keep the zip intact but cut the zstd frame short: shrink the member and re-point sizes.
      const c = Buffer.from(b);
      for (let i = pkg.start + Math.floor(pkg.size / 2); i < pkg.start + pkg.size; i++) c[i] = 0;
      return c;
    }), /zstd-truncated\.conda: pkg-example-1\.0-py314rc2_0\.tar\.zst: /],
    [variant(bz2, 'truncated.tar.bz2', (b) => b.subarray(0, b.length - 40)), /truncated\.tar\.bz2: (truncated bzip2 data: compressed stream ends unexpectedly|corrupt or truncated bzip2 data: bad block header magic)$/],
    [variant(bz2, 'corrupt.tar.bz2', (b) => {
      const c = Buffer.from(b);
      for (let i = 20; i < c.length - 20; i++) c[i] = c[i]! ^ 0x5a;
      return c;
    }), /corrupt\.tar\.bz2: corrupt (or truncated )?bzip2 data/],
    [variant(fixture('pyc', 'greeting.3.13.timestamp.pyc'), 'random.bin', () => Buffer.from('hello world, not an artifact')), /random\.bin: not a conda artifact: starts with 68656c6c/],
    [variant(fixture('pyc', 'greeting.3.13.timestamp.pyc'), 'empty.conda', () => Buffer.alloc(0)), /empty\.conda: empty file$/],
  ];
  // Every case with each decoder this machine has, and the pure-JavaScript ones.
  const decoders = [{}, { PYC_AUDIT_BZIP2: 'js', PYC_AUDIT_ZSTD: 'js' }, ...programs.map((p) => ({ PYC_AUDIT_BZIP2: p, PYC_AUDIT_ZSTD: 'tool' }))];
  for (const [[path, reason], env] of cases.flatMap((c) => decoders.map((d) => [c, d] as const))) {
    const decoder = JSON.stringify(env);
    const r = run([path, fixture('example-1.0-py314_0.conda')], env);
    assert.equal(r.code, 2, `${path} (${decoder}): ${r.stdout}${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^pyc-audit: error: /);
    assert.match(lines[0]!, reason);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.match(r.stdout, /^OK +\S*example-1\.0-py314_0\.conda /m, 'the good input is still audited');
    assert.match(r.stdout, /1 could not be read/);
  }
});

test('a zip that is not a conda package says so', () => {
  const dir = tmp();
  // A zip with one stored file and no pkg-*.tar.zst.
  const path = join(dir, 'fake.conda');
  writeFileSync(path, storedZip('hello.txt', Buffer.from('hi\n')));
  const r = run([path]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `pyc-audit: error: ${path}: not a conda package: the zip has no pkg-*.tar.zst (it holds 1 entry: hello.txt)\n`);
});

test('loose .pyc files: 0 and 3 bytes are invalid findings, not crashes', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'zero.cpython-314.pyc'), Buffer.alloc(0));
  writeFileSync(join(dir, 'three.cpython-314.pyc'), Buffer.from([0x2b, 0x0e, 0x0d]));
  copyFileSync(fixture('pyc', 'greeting.3.14rc2.timestamp.pyc'), join(dir, 'x.cpython-314.pyc'));
  const r = run(['--format', 'json', join(dir, 'zero.cpython-314.pyc'), join(dir, 'three.cpython-314.pyc'), join(dir, 'x.cpython-314.pyc')]);
  assert.equal(r.code, 1);
  const [zero, three, rc2] = JSON.parse(r.stdout).artifacts;
  assert.equal(zero.pyc[0].status, 'invalid');
  assert.match(zero.pyc[0].message, /0 bytes/);
  assert.equal(three.pyc[0].status, 'invalid');
  assert.equal(three.pyc[0].headerHex, '2b0e0d');
  assert.match(three.pyc[0].message, /3 bytes/);
  assert.equal(rc2.pyc[0].status, 'stale');
  assert.equal(rc2.expected.from, 'cache-tag');
});

test('inputs are never written: bytes and mtimes unchanged, after a run that read them all', () => {
  const files = readdirSync(join(ROOT, 'fixtures')).filter((f) => /\.(conda|bz2)$/.test(f)).map((f) => fixture(f));
  const before = files.map((f) => [createHash('sha256').update(readFileSync(f)).digest('hex'), statSync(f).mtimeMs]);
  const r = run(['--no-color', '--verbose', ...files]);
  // The run worked: every input reported (one line each, none unreadable), stale ones found.
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, '');
  // Each artifact line: the status column, then the path.
  assert.deepEqual(r.stdout.split('\n').filter((l) => /^[A-Z]/.test(l) && l.includes('/')).map((l) => l.split(/ {2,}/)[1]), files);
  const after = files.map((f) => [createHash('sha256').update(readFileSync(f)).digest('hex'), statSync(f).mtimeMs]);
  assert.deepEqual(after, before);
});

test('usage errors exit 2; --help and --version exit 0', () => {
  assert.equal(run([]).code, 2);
  const badPython = run(['--python', '3', fixture('example-py314rc2.conda')]);
  assert.equal(badPython.code, 2);
  assert.match(badPython.stderr, /expected a minor version such as 3\.14/);
  assert.equal(run(['--format', 'xml', fixture('example-py314rc2.conda')]).code, 2);
  const help = run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: pyc-audit/);
  const version = run(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
});

test('colour: plain when piped or NO_COLOR, coloured with FORCE_COLOR or --color', () => {
  const f = fixture('example-py314rc2.conda');
  assert.doesNotMatch(run([f]).stdout, /\x1b\[/);
  assert.doesNotMatch(run([f], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout, /\x1b\[/);
  assert.match(run([f], { FORCE_COLOR: '1' }).stdout, /\x1b\[31mSTALE/);
  assert.match(run(['--color', f]).stdout, /\x1b\[/);
  assert.doesNotMatch(run(['--no-color', f], { FORCE_COLOR: '1' }).stdout, /\x1b\[/);
});

test('--jobs keeps the output in the order the inputs were given', () => {
  const files = ['legacy-1.0-py27_0.tar.bz2', 'example-1.0-py314_0.conda', 'legacy-1.0-py36_0.conda', 'hashed-1.0-py313_0.tar.bz2'].map((f) => fixture(f));
  for (const jobs of ['1', '4']) {
    const r = run(['--jobs', jobs, ...files]);
    const order = r.stdout.split('\n').filter((l) => /^[A-Z]/.test(l) && l.includes('/')).map((l) => l.split(/ {2,}/)[1]);
    assert.deepEqual(order, files);
  }
});

test('every decoder reads the same members and headers', () => {
  const files = readdirSync(FIXTURES).filter((f) => /\.(conda|tar\.bz2)$/.test(f)).map((f) => fixture(f));
  const auto = JSON.parse(run(['--format', 'json', ...files]).stdout).artifacts;
  assert.equal(auto.length, files.length);
  for (const env of [{ PYC_AUDIT_BZIP2: 'js', PYC_AUDIT_ZSTD: 'js' }, { PYC_AUDIT_ZSTD: 'tool' }, ...programs.map((p) => ({ PYC_AUDIT_BZIP2: p }))]) {
    assert.deepEqual(JSON.parse(run(['--format', 'json', ...files], env).stdout).artifacts, auto, JSON.stringify(env));
  }
});

test('a reader that stops early ends the run with 141, as SIGPIPE would (no EPIPE stack trace)', () => {
  const files = readdirSync(FIXTURES).filter((f) => /\.conda$/.test(f)).map((f) => JSON.stringify(fixture(f))).join(' ');
  const r = spawnSync('bash', ['-c', `set -o pipefail; ${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'bin', 'pyc-audit.js'))} --format json ${files} ${files} ${files} | head -c 10`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.stdout, '{\n  "tool"');
  assert.equal(r.stderr, '');
  // Three times every .conda as JSON is far more than a pipe holds: the run cannot finish before
  // head has gone, so its writes fail with EPIPE and the status is 141 (pipefail reports it).
  assert.equal(r.status, 141);
});

test('--format json is streamed but is one valid document, summary last', () => {
  const r = run(['--format', 'json', fixture('example-py314rc2.conda'), join(tmp(), 'missing.conda'), fixture('legacy-1.0-py27_0.tar.bz2')]);
  assert.equal(r.code, 2);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ['tool', 'artifacts', 'summary']);
  // findings: the rc2 PYC001, and legacy-1.0-py27_0's PYC208 warning and PYC202 error (2.7 does not read __pycache__/)
  assert.deepEqual([doc.summary.artifacts, doc.summary.pyc, doc.summary.findings, doc.summary.failing, doc.summary.errors], [3, 2, 3, 2, 1]);
  assert.equal(doc.artifacts[1].error, 'no such file');
  assert.equal(doc.artifacts[1].kind, null);
});

test('a crash is exit 2 with one line: an exception from a timer, a rejection nobody handles (PYC_AUDIT_DEBUG test hook); an --output report is whole or not written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-crash-'));
  try {
    const out = join(dir, 'report.json');
    writeFileSync(out, 'the previous report\n');
    for (const [hook, message] of [['crash', 'forced crash (PYC_AUDIT_DEBUG=crash)'], ['reject', 'forced rejection (PYC_AUDIT_DEBUG=reject)']] as const) {
      const r = run(['--format', 'json', '--output', out, FIXTURES], { PYC_AUDIT_DEBUG: hook });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, `pyc-audit: internal error: ${message} (please report)\n`);
      const text = readFileSync(out, 'utf8');
      if (text !== 'the previous report\n') JSON.parse(text); // whole, or the previous one left
      assert.deepEqual(readdirSync(dir), ['report.json'], 'no half-written file left');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stderr that cannot be written (2>/dev/full): a run with an unreadable input still exits 2; a clean run still 0', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, () => {
  const full = openSync('/dev/full', 'w');
  try {
    const bad = spawnSync(process.execPath, [BIN, join(tmpdir(), 'no-such-file.conda'), fixture('example-1.0-py314_0.conda')], { stdio: ['ignore', 'pipe', full], timeout: 60_000 });
    assert.equal(bad.status, 2);
    const clean = spawnSync(process.execPath, [BIN, fixture('example-1.0-py314_0.conda')], { stdio: ['ignore', 'pipe', full], timeout: 60_000 });
    assert.equal(clean.status, 0);
  } finally {
    closeSync(full);
  }
});
