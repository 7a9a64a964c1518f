// Every access path gives the same entries and findings for the same artifact: a file, standard
// input (a redirected file, and a pipe), HTTP with Range and HTTP without it. The format readers
// are the same whatever provides the bytes; the one thing a pipe cannot do is be read twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { storedZip } from './archives.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, fixture, runAsync, type RunResult } from './helpers.js';
import { sendBytes, startServer } from './http-server.js';

const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-access-'));
const python3 = spawnSync('python3', ['-c', 'pass']).status === 0;

/**
 * A wheel with two checked-hash .pyc (one whose source changed after it was compiled), deflated,
 * its .pyc members before their sources or after them.
 */
function buildWheel(name: string, pycFirst: boolean): string {
  const path = join(dir, name);
  const script = `
import io, os, py_compile, sys, tempfile, zipfile
path, pyc_first = sys.argv[1], sys.argv[2] == '1'
tag = sys.implementation.cache_tag
work = tempfile.mkdtemp()
members = {}
for mod, compiled, shipped in [('good', b'x = 1\\n', b'x = 1\\n'), ('tampered', b'y = 2\\n', b'y = 3\\n')]:
    src = os.path.join(work, mod + '.py')
    open(src, 'wb').write(compiled)
    pyc = py_compile.compile(src, cfile=os.path.join(work, mod + '.pyc'), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    members['demo/__pycache__/%s.%s.pyc' % (mod, tag)] = open(pyc, 'rb').read()
    members['demo/%s.py' % mod] = shipped
order = sorted(members, key=lambda m: (m.endswith('.py') == pyc_first, m))
with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('demo-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\n')
    for m in order:
        z.writestr(m, members[m])
`;
  const r = spawnSync('python3', ['-c', script, path, pycFirst ? '1' : '0']);
  assert.equal(r.status, 0, String(r.stderr));
  return path;
}

let base = '';
let close: () => Promise<void> = async () => {};
const files = new Map<string, string>();

before(async () => {
  files.set('checks-1.0-py313_0.conda', fixture('checks-1.0-py313_0.conda'));
  files.set('checks-1.0-py313_0.tar.bz2', fixture('checks-1.0-py313_0.tar.bz2'));
  if (python3) {
    files.set('demo-pyc-first.whl', buildWheel('demo-pyc-first.whl', true));
    files.set('demo-py-first.whl', buildWheel('demo-py-first.whl', false));
  }
  ({ base, close } = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ranges = !url.pathname.startsWith('/norange/');
    const file = files.get(url.pathname.split('/').pop()!);
    if (!file) {
      res.writeHead(404);
      res.end();
      return;
    }
    sendBytes(req, res, readFileSync(file), ranges);
  }));
});
after(() => close());

/** The CLI with standard input redirected from a file (not a pipe). */
function runWithStdinFile(args: string[], file: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const fd = openSync(file, 'r');
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Artifact {
  path: string;
  kind: string;
  pyc: unknown[];
  findings: { code: string; member: string; message: string }[];
}

/** An artifact's report without its path (the one thing that names the access path). */
function report(r: RunResult): Omit<Artifact, 'path'> & Record<string, unknown> {
  assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  const { path: _path, ...rest } = JSON.parse(r.stdout).artifacts[0] as Artifact;
  return rest;
}

const ARTIFACTS = ['checks-1.0-py313_0.conda', 'checks-1.0-py313_0.tar.bz2', 'demo-pyc-first.whl', 'demo-py-first.whl'];

for (const name of ARTIFACTS) {
  test(`${name}: file, stdin (a file, a pipe), HTTP with and without Range give the same report`, { skip: !python3 && name.endsWith('.whl') ? 'no python3 to build the wheel' : false }, async () => {
    const file = files.get(name)!;
    const args = ['--format', 'json'];
    const fromFile = report(await runAsync([...args, file]));
    // The sources were hashed: every checked-hash .pyc has a verdict on its source, none is "not verified".
    assert.ok(fromFile.findings.some((f) => f.member.includes('tampered')), JSON.stringify(fromFile.findings));
    assert.ok(!fromFile.findings.some((f) => f.code === 'PYC106'), JSON.stringify(fromFile.findings));
    const paths: [string, Promise<RunResult>][] = [
      ['stdin redirected from the file', runWithStdinFile([...args, '-'], file)],
      ['HTTP with Range', runAsync([...args, `${base}/${name}`])],
      ['HTTP without Range', runAsync([...args, `${base}/norange/${name}`])],
    ];
    for (const [how, result] of paths) assert.deepEqual(report(await result), fromFile, how);

    // A pipe is read once: a source that came before its checked-hash .pyc cannot be hashed, and
    // the report says exactly that; when the .pyc comes first, the pipe gives the file's report.
    const piped = report(await runAsync([...args, '-'], {}, readFileSync(file)));
    const pyFirst = name.endsWith('.conda') || name === 'demo-py-first.whl';
    if (!pyFirst) {
      assert.deepEqual(piped, fromFile, 'stdin from a pipe');
    } else {
      assert.deepEqual(piped.pyc, fromFile.pyc);
      const unverified = piped.findings.filter((f) => f.code === 'PYC106');
      assert.ok(unverified.length >= 2, JSON.stringify(piped.findings));
      for (const f of unverified) assert.match(f.message, /it came before its \.pyc on standard input, which cannot be read twice/);
    }
  });
}

test('a zip member name without the UTF-8 flag is read as CP437 by every access path', async () => {
  const pyc = Buffer.from('a70d0d0a000000000000000000000000', 'hex');
  const zip = storedZip('pkg/__pycache__/caf?.cpython-311.pyc', pyc);
  // The name's "?" becomes 0x82, CP437's "é", in the local header and the central directory.
  for (let at = zip.indexOf('caf?'); at >= 0; at = zip.indexOf('caf?', at + 1)) zip[at + 3] = 0x82;
  const file = join(dir, 'cp437.zip');
  writeFileSync(file, zip);
  const members = async (r: Promise<RunResult>) => (report(await r).pyc as { member: string }[]).map((p) => p.member);
  const expected = ['pkg/__pycache__/café.cpython-311.pyc'];
  assert.deepEqual(await members(runAsync(['--format', 'json', file])), expected);
  assert.deepEqual(await members(runAsync(['--format', 'json', '-'], {}, zip)), expected);
});

test('a source whose stated size lies is the same error from a file and from a pipe', { skip: python3 ? false : 'no python3 to build the wheel' }, async () => {
  const file = buildWheel('lying-size.whl', true);
  const zip = readFileSync(file);
  // demo/good.py is 6 bytes ("x = 1\n") and deflated: state 7 as its uncompressed size, in the
  // local header (offset 22) and the central directory (offset 24).
  const name = Buffer.from('demo/good.py');
  for (const [sig, nameAt, sizeAt] of [[0x04034b50, 30, 22], [0x02014b50, 46, 24]] as const) {
    const signature = Buffer.alloc(4);
    signature.writeUInt32LE(sig);
    for (let at = zip.indexOf(signature); at >= 0; at = zip.indexOf(signature, at + 1)) {
      if (zip.subarray(at + nameAt, at + nameAt + name.length).equals(name)) zip.writeUInt32LE(7, at + sizeAt);
    }
  }
  writeFileSync(file, zip);
  const expected = `pyc-audit: error: ${'%s'}: demo/good.py: the zip states 7 bytes, its data holds 6\n`;
  const fromFile = await runAsync([file]);
  assert.equal(fromFile.code, 2);
  assert.equal(fromFile.stderr, expected.replace('%s', file));
  const piped = await runAsync(['-'], {}, zip);
  assert.equal(piped.code, 2);
  assert.equal(piped.stderr, expected.replace('%s', '-'));
});
