// Knowing what the target loads: the magic table's shape (trunk-only numbers, numbers final for
// several minors, PyPy and GraalPy releases), and the target's magic learned from the
// interpreter itself (--interpreter), an environment's python, or a python package in the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { MagicTable } from '../src/magic/table.js';
import { isPythonPackageName, stdlibMagic } from '../src/magic/stdlib.js';
import { parseInterpreterReport } from '../src/magic/interpreter.js';
import { pythonPackageVersionKey } from '../src/run/learn-python.js';
import { storedZip, tarHeader, zstdFrame } from './archives.js';
import { fixture, run } from './helpers.js';

const table = MagicTable.builtIn();
const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-target-'));

/** The mtime tarHeader() gives every member. */
const TAR_MTIME = 0o14533431060;
const SOURCE = Buffer.from('x = 1\n');

/** A timestamp .pyc header (3.7+ layout): magic, flags 0, the mtime and size of SOURCE. */
function pyc(magic: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(magic, 0);
  b.write('\r\n', 2, 'latin1');
  b.writeUInt32LE(TAR_MTIME, 8);
  b.writeUInt32LE(SOURCE.length, 12);
  return b;
}

/** A module and its bytecode in lib/pythonX.Y/site-packages/NAME/, as tar members. */
function module(minor: string, name: string, magic: number): [string, Buffer][] {
  const dir = `lib/python${minor}/site-packages/${name}`;
  return [[`${dir}/m.py`, SOURCE], [`${dir}/__pycache__/m.cpython-${minor.replace('.', '')}.pyc`, pyc(magic)]];
}

/** An uncompressed tar of the given members. */
function tar(members: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of members) parts.push(tarHeader(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A .conda whose pkg-*.tar.zst holds `members` (raw zstd blocks). */
function conda(stem: string, members: [string, Buffer][]): string {
  const path = join(dir, `${stem}.conda`);
  writeFileSync(path, storedZip(`pkg-${stem}.tar.zst`, zstdFrame(tar(members))));
  return path;
}

/** A zip of one .pyc member. */
function zipOf(name: string, member: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, storedZip(member, bytes));
  return path;
}

interface PycJson {
  member: string;
  magic: number;
  implementation: string | null;
  version: string | null;
  status: string;
  message: string;
}
interface ArtifactJson {
  path: string;
  status: string | null;
  notes: string[];
  expected: { version: string | null } | null;
  findings: { code: string }[];
  pyc: PycJson[];
}

function audit(args: string[]): { code: number | null; artifacts: ArtifactJson[]; stderr: string } {
  const r = run(['--format', 'json', ...args]);
  const artifacts = r.stdout ? (JSON.parse(r.stdout) as { artifacts: ArtifactJson[] }).artifacts : [];
  return { code: r.code, artifacts, stderr: r.stderr };
}

// ---- the table ------------------------------------------------------------------------

test('numbers assigned on trunk and never released are known as such, with the commit', () => {
  for (const [magic, version] of [[62001, '2.3'], [62031, '2.4'], [62141, '2.6'], [3240, '3.4']] as const) {
    const e = table.lookup(magic);
    assert.ok(e, `${magic} is in the table`);
    assert.equal(e.version, version);
    assert.equal(e.releases, null);
    assert.equal(e.final, false);
    assert.match(e.note ?? '', /assigned on trunk \(\d{4}-\d\d-\d\d\), never released/);
    assert.match(e.source, / @ [0-9a-f]{11}$/);
  }
  const r = run(['magic', '62001']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^62001 → CPython 2\.3 development builds \(never in a release\); 2\.3 final writes 62011/);
  assert.doesNotMatch(r.stdout, /newer than/);
});

test("2.3's final release is 2.3 (its tag is missing from the history; inferred from 2.3c2 and 2.3.1)", () => {
  const e = table.lookup(62011)!;
  assert.equal(e.firstFinal, '2.3');
  assert.deepEqual(table.finalMagics('2.3').map((x) => x.magic), [62011]);
});

test('a magic written by the final releases of two minors is final for each (39171: 1.1 and 1.2)', () => {
  assert.deepEqual(table.finalMagics('1.1').map((e) => e.magic), [39171]);
  assert.deepEqual(table.finalMagics('1.2').map((e) => e.magic), [39171]);
  // 3425 was written by 3.10a1 too, but no 3.10 final: not 3.10's.
  assert.ok(!table.finalMagics('3.10').some((e) => e.magic === 3425));
  // Python 1.1/1.2 .pyc: the 4-byte word 0x00999903, then the mtime.
  const word = Buffer.from([0x03, 0x99, 0x99, 0x00, 0, 0, 0, 0]);
  const path = join(dir, 'old.pyc');
  writeFileSync(path, word);
  for (const [python, status] of [['1.2', 'ok'], ['1.1', 'ok'], ['1.3', 'wrong-version']]) {
    const { artifacts } = audit(['--python', python!, path]);
    assert.equal(artifacts[0]!.pyc[0]!.status, status, `--python ${python}`);
  }
});

test('PyPy releases of 3.8, 3.9 and 3.11 are in the table, each row with the tag it was read at', () => {
  const finals = (v: string) => table.finalMagics(v, 'PyPy').map((e) => e.magic);
  // 7.3.6–7.3.9 (3.8) and 7.3.8–7.3.9 (3.9) wrote CPython's 3413 and 3425 (pypy/pypy issue #3782)
  assert.deepEqual(finals('3.8'), [3413, 256]);
  assert.deepEqual(finals('3.9'), [3425, 336]);
  assert.deepEqual(finals('3.11'), [400, 416, 432]);
  assert.deepEqual(finals('3.6'), [160, 192]);
  assert.equal(table.lookup(304)!.final, false, "304: 7.3.8 release candidates' pycode.py number, never written");
  assert.equal(table.lookup(320)!.final, false, "320: 7.3.8's pycode.py number, never written");
  for (const e of table.entries.filter((x) => x.implementation !== 'CPython')) assert.match(e.source, /\.(py|java)/, `${e.magic} says what it rests on`);
});

test('GraalPy releases past 21150 are in the table; a number shared by two minors is final for both', () => {
  const finals = (v: string) => table.finalMagics(v, 'GraalPy').map((e) => e.magic);
  assert.deepEqual(finals('3.10'), [21270, 21280]);
  assert.deepEqual(finals('3.11'), [21290]);
  assert.deepEqual(finals('3.12'), [21290, 21320, 21330]);
  assert.deepEqual(finals('3.13'), [21330]);
});

test('no number means two things: one row per implementation and magic', () => {
  const seen = new Set<string>();
  for (const e of table.entries) {
    const key = `${e.implementation}\0${e.magic}`;
    assert.ok(!seen.has(key), `${e.implementation} ${e.magic} twice`);
    seen.add(key);
  }
});

// ---- pyc-audit magic, options -----------------------------------------------------------

test('magic --format json lists every number asked for, unknown ones marked, and exits 1 like the text form', () => {
  const r = run(['magic', '3627', '4999', '--format', 'json']);
  assert.equal(r.code, 1);
  const rows = JSON.parse(r.stdout) as { magic: number; unknown?: boolean; version?: string }[];
  assert.deepEqual(rows.map((x) => x.magic), [3627, 4999]);
  assert.equal(rows[0]!.version, '3.14');
  assert.equal(rows[1]!.unknown, true);
  const known = run(['magic', '3627', '--format', 'json']);
  assert.equal(known.code, 0);
  assert.equal(run(['magic', '3627', '4999']).code, 1);
});

test('--select and --ignore accumulate when repeated, as comma lists do', () => {
  const codes = (args: string[]) => audit([...args, fixture('mixed-1.0-py314_0.conda')]).artifacts[0]!.findings.map((f) => f.code).sort();
  const all = codes([]);
  assert.deepEqual(all, ['PYC003', 'PYC203']);
  assert.deepEqual(codes(['--select', 'PYC0']), ['PYC003']);
  assert.deepEqual(codes(['--select', 'PYC0', '--select', 'PYC2']), all);
  assert.deepEqual(codes(['--select', 'PYC0,PYC2']), all);
  assert.deepEqual(codes(['--ignore', 'PYC0', '--ignore', 'PYC2']), []);
  assert.deepEqual(codes(['--ignore', 'PYC0,PYC2']), []);
});

test('--magic-table changes the verdict of an audit, not only of `magic`', () => {
  const artifact = conda('new-1.0-py315_0', module('3.15', 'pkg', 3667));
  const before = audit([artifact]);
  assert.equal(before.artifacts[0]!.pyc[0]!.status, 'unconfirmed', 'newer than the table: placed, not condemned');
  assert.equal(before.code, 0);
  const rows = join(dir, 'extra.json');
  writeFileSync(rows, JSON.stringify([{ magic: 3667, version: '3.15', releases: '3.15.0', final: true }]));
  const after = audit(['--magic-table', rows, artifact]);
  assert.equal(after.artifacts[0]!.pyc[0]!.status, 'ok');
  assert.equal(after.code, 0);
  // 3666 (3.15b1–rc1) is no longer the newest known: with 3.15.0 final in the table it is stale.
  const rc = conda('rc-1.0-py315_0', module('3.15', 'pkg', 3666));
  assert.equal(audit(['--magic-table', rows, rc]).artifacts[0]!.pyc[0]!.status, 'stale');
});

test('--magic-table naming a FIFO or a huge file is an error, not a hang', { skip: process.platform === 'win32' }, () => {
  const fifo = join(dir, 'table.fifo');
  execFileSync('mkfifo', [fifo]);
  for (const args of [['magic', '--magic-table', fifo, '3627'], ['--magic-table', fifo, fixture('example-1.0-py314_0.conda')]]) {
    const r = run(args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /table\.fifo: cannot read magic table: not a regular file \(a FIFO\)/);
  }
  const big = join(dir, 'big.json');
  writeFileSync(big, Buffer.alloc((16 << 20) + 1, 0x20));
  const r = run(['magic', '--magic-table', big, '3627']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /big\.json: cannot read magic table: larger than the 16 MiB/);
});

// ---- other implementations end to end ----------------------------------------------------

test('a PyPy .pyc in an artifact: PyPy and its version, final or not by its release', () => {
  // 3425 (PyPy 7.3.8–7.3.9) is final, but 7.3.10 and later load only 336: bytecode only older builds load.
  for (const [magic, status] of [[336, 'ok'], [3425, 'superseded'], [320, 'stale'], [304, 'stale'], [384, 'tag-mismatch']] as const) {
    const artifact = zipOf(`pypy-${magic}.zip`, 'site-packages/pkg/__pycache__/m.pypy39.pyc', pyc(magic));
    const p = audit([artifact]).artifacts[0]!.pyc[0]!;
    assert.equal(p.implementation, 'PyPy', `${magic}`);
    assert.equal(p.version, magic === 384 ? '3.10' : '3.9');
    assert.equal(p.status, status, `${magic}: ${p.message}`);
  }
});

test('a GraalPy .pyc in an artifact: GraalPy and its version', () => {
  const artifact = zipOf('graalpy.zip', 'pkg/m.pyc', pyc(21330));
  const p = audit([artifact]).artifacts[0]!.pyc[0]!;
  assert.equal(p.implementation, 'GraalPy');
  assert.equal(p.version, '3.12');
  assert.equal(p.status, 'ok');
  assert.match(p.message, /GraalPy 25\.2 \(Python 3\.12\)/);
});

// ---- learning the target's magic without running it ------------------------------------

test('stdlibMagic: the standard library bytecode of a python package or prefix', () => {
  const head = (m: number) => pyc(m);
  assert.deepEqual(
    stdlibMagic([
      { path: 'lib/python3.15/__pycache__/os.cpython-315.pyc', head: head(3667) },
      { path: 'lib/python3.15/__pycache__/re.cpython-315.opt-1.pyc', head: head(3667) },
      { path: 'lib/python3.15/site-packages/x/__pycache__/y.cpython-315.pyc', head: head(3600) },
      { path: 'lib/python3.15/__pycache__/stray.cpython-314.pyc', head: head(3627) },
      { path: 'info/test/__pycache__/t.cpython-315.pyc', head: head(3000) },
    ]),
    { magic: 3667, implementation: 'CPython', version: '3.15', count: 2, example: 'lib/python3.15/__pycache__/os.cpython-315.pyc' },
  );
  assert.equal(stdlibMagic([{ path: 'Lib/__pycache__/os.cpython-313.pyc', head: head(3571) }])!.version, '3.13');
  assert.equal(stdlibMagic([{ path: 'lib/python3.14t/__pycache__/os.cpython-314t.pyc', head: head(3627) }])!.magic, 3627);
  assert.deepEqual(stdlibMagic([{ path: 'lib/pypy3.9/__pycache__/os.pypy39.pyc', head: head(336) }])?.implementation, 'PyPy');
  assert.equal(stdlibMagic([{ path: 'lib/python3.15/site-packages/__pycache__/a.cpython-315.pyc', head: head(3667) }]), null);
  assert.equal(stdlibMagic([{ path: 'lib/python3.15/__pycache__/os.cpython-315.pyc', head: Buffer.from([1, 2]) }]), null);
});

test('python package names and versions', () => {
  assert.ok(isPythonPackageName('python-3.15.0-h1234_0_cpython.conda'));
  assert.ok(isPythonPackageName('python-3.15.0rc3-h1_0.tar.bz2'));
  assert.ok(!isPythonPackageName('python-dateutil-2.9.0-pyhd8ed1ab_0.conda'));
  assert.ok(!isPythonPackageName('python_abi-3.15-8_cp315.conda'));
  const key = pythonPackageVersionKey;
  assert.ok(key('python-3.15.0-h_0.conda') > key('python-3.15.0rc3-h_0.conda'));
  assert.deepEqual(key('python-3.15.0rc3-h_0.conda'), [3, 15, 0, 2, 3]);
});

test('withTarget: the target magic becomes the only final magic of its minor', () => {
  const t = table.withTarget({ magic: 3350, implementation: 'CPython', version: '3.5', releases: '3.5.2', source: 'test' });
  assert.deepEqual(t.finalMagics('3.5').map((e) => e.magic), [3350]);
  assert.deepEqual(table.finalMagics('3.5').map((e) => e.magic), [3350, 3351], 'the built-in table is unchanged');
  const n = table.withTarget({ magic: 3667, implementation: 'CPython', version: '3.15', releases: '3.15.0', source: 'test' });
  assert.deepEqual(n.finalMagics('3.15').map((e) => e.magic), [3667]);
  assert.equal(n.lookup(3667)!.version, '3.15');
});

function stdlibEnv(name: string, minor: string, stdlibMagicNumber: number, packageMagics: number[]): string {
  const prefix = join(dir, name);
  const tag = minor.replace('.', '');
  mkdirSync(join(prefix, 'conda-meta'), { recursive: true });
  mkdirSync(join(prefix, 'lib', `python${minor}`, '__pycache__'), { recursive: true });
  mkdirSync(join(prefix, 'lib', `python${minor}`, 'site-packages', 'pkg', '__pycache__'), { recursive: true });
  const stdlib = ['os', 're', 'io'].map((m) => `lib/python${minor}/__pycache__/${m}.cpython-${tag}.pyc`);
  const pkg = packageMagics.map((_, i) => `lib/python${minor}/site-packages/pkg/__pycache__/m${i}.cpython-${tag}.pyc`);
  for (const p of stdlib) writeFileSync(join(prefix, p), pyc(stdlibMagicNumber));
  packageMagics.forEach((m, i) => writeFileSync(join(prefix, pkg[i]!), pyc(m)));
  writeFileSync(join(prefix, 'conda-meta', `python-${minor}.0-h1_0.json`), JSON.stringify({ name: 'python', version: `${minor}.0`, build: 'h1_0', files: stdlib }));
  writeFileSync(join(prefix, 'conda-meta', `pkg-1.0-py${tag}_0.json`), JSON.stringify({ name: 'pkg', version: '1.0', build: `py${tag}_0`, files: pkg }));
  return prefix;
}

/** Every .pyc of an environment's parts (it is read one installed package at a time), and every note. */
function envAudit(prefix: string): { status: Record<string, string>; notes: string[]; code: number | null } {
  const r = audit([prefix]);
  const status: Record<string, string> = {};
  for (const a of r.artifacts) for (const p of a.pyc) status[p.member.replace(/^.*\//, '')] = p.status;
  return { status, notes: r.artifacts.flatMap((a) => a.notes).map((n: { text: string } | string) => (typeof n === 'string' ? n : n.text)), code: r.code };
}

test("in an environment, the env's own python says which magic it loads", () => {
  // A 3.15.0 the table does not know: its stdlib says 3667, so 3667 is right and 3666 stale.
  const env = envAudit(stdlibEnv('env315', '3.15', 3667, [3667, 3666]));
  assert.equal(env.status['m0.cpython-315.pyc'], 'ok');
  assert.equal(env.status['m1.cpython-315.pyc'], 'stale');
  assert.equal(env.status['os.cpython-315.pyc'], 'ok');
  const said = env.notes.filter((n) => /the environment's python writes 3667 for 3\.15 .*the table knows no 3\.15 final/.test(n));
  assert.equal(said.length, 1, JSON.stringify(env.notes));
  // Where the stdlib agrees with the table's one final magic, nothing is said.
  const same = envAudit(stdlibEnv('env314', '3.14', 3627, [3627]));
  assert.ok(!same.notes.some((n) => /environment's python writes/.test(n)), same.notes.join('\n'));
  assert.deepEqual(Object.values(same.status), ['ok', 'ok', 'ok', 'ok']);
  // A 3.5.0–3.5.2 python loads 3350, not 3.5.3's 3351 (the table has both as 3.5 finals).
  const split = envAudit(stdlibEnv('env35', '3.5', 3350, [3350, 3351]));
  assert.equal(split.status['m0.cpython-35.pyc'], 'ok');
  assert.equal(split.status['m1.cpython-35.pyc'], 'stale');
  assert.ok(split.notes.some((n) => /writes 3350 for 3\.5 .*instead of the table's 3350 or 3351/.test(n)), split.notes.join('\n'));
  // --interpreter outranks the environment's python.
  const py = fakePython('python3.5.3', `echo '{"magic": [23, 13, 13, 10], "version_info": [3, 5, 3, "final", 0], "name": "cpython"}'`);
  const told = audit(['--interpreter', py, join(dir, 'env35')]);
  const m1 = told.artifacts.flatMap((a) => a.pyc).find((p) => p.member.endsWith('m1.cpython-35.pyc'))!;
  assert.equal(m1.status, 'ok');
});

test('a python package among the inputs: its stdlib magic is what its minor expects in the run', () => {
  const python = conda('python-3.15.0-h1_0_cpython', [
    ['lib/python3.15/__pycache__/os.cpython-315.pyc', pyc(3667)],
    ['lib/python3.15/__pycache__/re.cpython-315.pyc', pyc(3667)],
  ]);
  const pkg = conda('pkg-1.0-py315_0', module('3.15', 'pkg', 3667));
  const old = conda('old-1.0-py315_0', module('3.15', 'old', 3666));
  const alone = audit([pkg]);
  assert.equal(alone.artifacts[0]!.pyc[0]!.status, 'unconfirmed', 'alone: newer than the table');
  const together = audit([pkg, old, python]);
  const status = Object.fromEntries(together.artifacts.map((a) => [a.path.replace(/^.*\//, ''), a.status]));
  assert.deepEqual(status, { 'pkg-1.0-py315_0.conda': 'ok', 'old-1.0-py315_0.conda': 'stale', 'python-3.15.0-h1_0_cpython.conda': 'ok' });
  assert.match(together.stderr, /python-3\.15\.0-h1_0_cpython\.conda: its standard library's bytecode says 3\.15 writes 3667/);
});

// ---- --interpreter ------------------------------------------------------------------------

test('parseInterpreterReport: what the probe prints', () => {
  const info = parseInterpreterReport('{"magic": [44, 14, 13, 10], "version_info": [3, 15, 0, "candidate", 3], "name": "cpython", "cache_tag": "cpython-315"}\n');
  assert.deepEqual(info, { magic: 3628, implementation: 'CPython', version: '3.15', release: '3.15.0rc3', cacheTag: 'cpython-315' });
  assert.equal(parseInterpreterReport('{"magic": [80, 1, 13, 10], "version_info": [3, 9, 18, "final", 0], "name": "pypy", "cache_tag": "pypy39"}').implementation, 'PyPy');
  assert.throws(() => parseInterpreterReport('hello'), /did not print/);
  assert.throws(() => parseInterpreterReport('{"magic": [1, 2, 3, 4], "version_info": [3, 15, 0, "final", 0]}'), /do not end in/);
});

/** A stand-in interpreter: a shell script that prints `body` (or runs it). */
function fakePython(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('--interpreter: a release newer than the table gets an exact verdict', { skip: process.platform === 'win32' }, () => {
  const py = fakePython('python3.15', `echo '{"magic": [83, 14, 13, 10], "version_info": [3, 15, 0, "final", 0], "name": "cpython", "cache_tag": "cpython-315"}'`);
  const good = conda('good-1.0-py315_0', module('3.15', 'good', 3667));
  const rc = conda('rc2-1.0-py315_0', module('3.15', 'rc', 3666));
  const r = audit(['--interpreter', py, good, rc]);
  assert.deepEqual(r.artifacts.map((a) => a.pyc[0]!.status), ['ok', 'stale']);
  assert.equal(r.artifacts[0]!.expected!.version, '3.15');
  assert.match(r.artifacts[1]!.pyc[0]!.message, /3667/);
  assert.equal(r.code, 1);
});

test('--interpreter that fails, hangs or floods: one error line, exit 2', { skip: process.platform === 'win32' }, () => {
  const artifact = fixture('example-1.0-py314_0.conda');
  const cases: [string, RegExp][] = [
    [join(dir, 'no-such-python'), /--interpreter .*no-such-python: cannot run it \(ENOENT\)$/],
    [fakePython('broken', 'echo boom >&2; exit 3'), /--interpreter .*broken: exited with 3: boom$/],
    [fakePython('chatty', 'yes'), /--interpreter .*chatty: printed more than 65536 bytes$/],
    [fakePython('silent', 'exec sleep 60'), /--interpreter .*silent: no answer within 1 s$/],
    [fakePython('python3.15', `echo '{"magic": [83, 14, 13, 10], "version_info": [3, 15, 0, "final", 0], "name": "cpython"}'`), /--python 3\.14 but --interpreter .* is 3\.15\.0$/],
  ];
  for (const [py, reason] of cases) {
    const r = run(['--interpreter', py, '--timeout', '1', '--python', '3.14', artifact]);
    assert.equal(r.code, 2, py);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, reason);
  }
});

// The pyenv interpreters on this machine: each one's own magic is its minor's final magic, and a
// .pyc of the minor before it is another version's bytecode.
const pyenvRoot = join(homedir(), '.pyenv', 'versions');
for (const minor of ['2.7', '3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13']) {
  const exe = (() => {
    if (!existsSync(pyenvRoot)) return null;
    const found = execFileSync('bash', ['-c', `ls -d ${pyenvRoot}/${minor}.*/bin/python${minor} 2>/dev/null | tail -1`], { encoding: 'utf8' }).trim();
    return found || null;
  })();
  test(`--interpreter python${minor}: its own magic is expected`, { skip: exe ? false : `no pyenv python${minor}` }, () => {
    const magic = table.finalMagics(minor).at(-1)!.magic;
    const tag = minor.replace('.', '');
    const member = minor === '2.7' ? 'lib/python2.7/site-packages/pkg/m.pyc' : `lib/python${minor}/site-packages/pkg/__pycache__/m.cpython-${tag}.pyc`;
    const mine = zipOf(`mine-${tag}.zip`, member, pyc(magic));
    const r = audit(['--interpreter', exe!, mine]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.artifacts[0]!.expected!.version, minor);
    assert.equal(r.artifacts[0]!.pyc[0]!.status, 'ok', r.artifacts[0]!.pyc[0]!.message);
    const other = zipOf(`other-${tag}.zip`, 'pkg/m.pyc', pyc(minor === '2.7' ? 62161 : table.finalMagics('3.5')[1]!.magic));
    assert.equal(audit(['--interpreter', exe!, other]).artifacts[0]!.pyc[0]!.status, 'wrong-version');
  });
}

test('the table printed by `magic --format json` reads back as --magic-table with the same finals', () => {
  const file = join(dir, 'roundtrip.json');
  writeFileSync(file, run(['magic', '--format', 'json']).stdout);
  const probe = ['39171', '62011', '3350', '3351', '62001', '336', '21290', '3666'];
  const verdictFields = (args: string[]) =>
    (JSON.parse(run(['magic', '--format', 'json', ...args, ...probe]).stdout) as Record<string, unknown>[]).map((r) => [r.magic, r.implementation, r.version, r.alsoVersions, r.final, r.finalFor]);
  assert.deepEqual(verdictFields(['--magic-table', file]), verdictFields([]));
  for (const python of ['1.2', '3.12']) {
    const old = join(dir, 'old12.pyc');
    writeFileSync(old, Buffer.from([0x03, 0x99, 0x99, 0x00, 0, 0, 0, 0]));
    assert.equal(audit(['--magic-table', file, '--python', python, old]).artifacts[0]!.pyc[0]!.status, python === '1.2' ? 'ok' : 'wrong-version');
  }
  writeFileSync(file, JSON.stringify([{ magic: 3667, version: '3.15', final: true, finalFor: ['3.15', 'x'] }]));
  const bad = run(['magic', '--magic-table', file, '3667']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /row 1: "finalFor" must be a list of minor versions/);
});

test('--interpreter of PyPy or GraalPy: its implementation and its own magic are the target', { skip: process.platform === 'win32' }, () => {
  const pypy = fakePython('pypy3.9', `echo '{"magic": [80, 1, 13, 10], "version_info": [3, 9, 18, "final", 0], "name": "pypy", "cache_tag": "pypy39"}'`);
  const pypyStatus = (magic: number) => audit(['--interpreter', pypy, zipOf(`pp${magic}.zip`, 'site-packages/pkg/__pycache__/m.pypy39.pyc', pyc(magic))]).artifacts[0]!.pyc[0]!.status;
  assert.equal(pypyStatus(336), 'ok');
  assert.equal(pypyStatus(320), 'stale', 'a PyPy 7.3.9+ interpreter does not load 7.3.8 bytecode');
  const graal = fakePython('graalpy', `echo '{"magic": [82, 83, 13, 10], "version_info": [3, 12, 8, "final", 0], "name": "graalpy", "cache_tag": "graalpy252-312"}'`);
  const graalResult = (magic: number) => audit(['--interpreter', graal, zipOf(`gp${magic}.zip`, 'pkg/m.pyc', pyc(magic))]).artifacts[0]!;
  const ok = graalResult(21330);
  assert.equal(ok.pyc[0]!.status, 'ok', ok.pyc[0]!.message);
  assert.equal((ok.expected as { implementation?: string }).implementation, 'GraalPy');
  assert.equal(graalResult(21290).pyc[0]!.status, 'stale');
  assert.equal(graalResult(3571).pyc[0]!.status, 'wrong-version');
});
