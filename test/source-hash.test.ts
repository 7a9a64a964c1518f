// The SipHash of a checked-hash .pyc's source (PEP 552), against CPython itself (the pyenv
// interpreters, when present) and against the .pyc those interpreters wrote into fixtures/pyc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceHasher, rawMagic, sourceHash } from '../src/judge/source-hash.js';
import { fixture } from './helpers.js';

const pyenv = (minor: string): string | null => {
  const root = join(homedir(), '.pyenv', 'versions');
  if (!existsSync(root)) return null;
  const dir = readdirSync(root).filter((d) => d.startsWith(`${minor}.`)).sort().pop();
  const exe = dir && join(root, dir, 'bin', `python${minor}`);
  return exe && existsSync(exe) ? exe : null;
};

/** Deterministic bytes of every length that exercises the 8-byte block tail, and a large one. */
const inputs = [...Array.from({ length: 20 }, (_, n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff))), Buffer.alloc(100_003, 'x'), Buffer.from('def f():\n    return "é"\n')];

for (const [minor, rounds] of [['3.7', '2-4'], ['3.8', '2-4'], ['3.9', '2-4'], ['3.10', '2-4'], ['3.11', '1-3'], ['3.12', '1-3'], ['3.13', '1-3']] as const) {
  const exe = pyenv(minor);
  test(`source hashes equal importlib.util.source_hash of python${minor} (SipHash-${rounds})`, { skip: exe ? false : `no pyenv python${minor}` }, () => {
    const script = 'import sys, importlib.util as u, importlib._bootstrap_external as b\n' + 'print(int.from_bytes(b.MAGIC_NUMBER[:2], "little"))\n' + 'for path in sys.argv[1:]: print(u.source_hash(open(path, "rb").read()).hex())';
    const dir = mkdtempSync(join(tmpdir(), 'pyc-audit-hash-'));
    const paths = inputs.map((b, i) => {
      const p = join(dir, `in${i}`);
      writeFileSync(p, b);
      return p;
    });
    const r = spawnSync(exe!, ['-c', script, ...paths], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [magic, ...want] = r.stdout.trim().split('\n');
    inputs.forEach((b, i) => assert.equal(sourceHash(Number(magic), rounds, b), want[i], `input ${i} (${b.length} bytes)`));
  });
}

test('the committed hash-based .pyc carry the hash this code computes for their source', () => {
  // fixtures/pyc/greeting.X.{checked,unchecked}-hash.pyc were compiled by the pyenv interpreters from this source.
  const source = readFileSync(fixture('pkgs-cache', 'hashed-1.0-py313_0', 'lib', 'python3.13', 'site-packages', 'hashed', '__init__.py'));
  let seen = 0;
  for (const name of readdirSync(fixture('pyc')).filter((n) => /-hash\.pyc$/.test(n))) {
    const pyc = readFileSync(fixture('pyc', name));
    const minor = Number(/greeting\.3\.(\d+)\./.exec(name)![1]);
    assert.equal(sourceHash(pyc.readUInt16LE(0), minor >= 11 ? '1-3' : '2-4', source), pyc.subarray(8, 16).toString('hex'), name);
    seen++;
  }
  assert.equal(seen, 14); // 3.7 to 3.13, checked and unchecked
});

test('hashing in chunks of any size gives the hash of the whole', () => {
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 131) & 0xff));
  const whole = sourceHash(3571, '1-3', data);
  for (const step of [1, 3, 7, 8, 9, 64, 999]) {
    const h = new SourceHasher((3571 | (0x0a0d << 16)) >>> 0, '1-3');
    for (let i = 0; i < data.length; i += step) h.update(data.subarray(i, i + step));
    assert.equal(h.digest(), whole, `step ${step}`);
  }
});


test('the SipHash key is the 4 header bytes read as a little-endian u32', () => {
  for (const name of ['greeting.3.7.checked-hash.pyc', 'greeting.3.13.checked-hash.pyc']) {
    const pyc = readFileSync(fixture('pyc', name));
    assert.equal(rawMagic(pyc.readUInt16LE(0)), pyc.readUInt32LE(0), name);
  }
  assert.equal(rawMagic(0xffff), 0x0a0dffff);
  assert.equal(rawMagic(0x1ffff), 0x0a0dffff, 'only the low 16 bits are the number');
});

test('the hasher keeps no reference to what it is fed, and SipHash-2-4 differs from 1-3', () => {
  const data = Buffer.from('import os\nprint(os.getcwd())\n');
  const whole = sourceHash(3413, '2-4', data);
  const h = new SourceHasher(rawMagic(3413), '2-4');
  const chunk = Buffer.from(data);
  h.update(chunk.subarray(0, 5));
  chunk.fill(0, 0, 5);
  h.update(data.subarray(5));
  assert.equal(h.digest(), whole);
  assert.equal(h.rounds, '2-4');
  assert.notEqual(sourceHash(3413, '1-3', data), whole);
  assert.notEqual(sourceHash(3414, '2-4', data), whole, 'the key is the magic');
  assert.equal(sourceHash(3413, '2-4', Buffer.alloc(0)), new SourceHasher(rawMagic(3413), '2-4').digest());
});
