import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeHeader, headerSizeFor, hex } from '../src/judge/header.js';
import { fixture } from './helpers.js';

const head = (name: string) => readFileSync(fixture('pyc', name)).subarray(0, 16);

test('2.7 pyc: 8-byte header, magic and mtime', () => {
  const r = decodeHeader(head('greeting.2.7.timestamp.pyc'));
  assert.ok(r.ok);
  assert.equal(r.header.magic, 62211);
  assert.equal(r.header.headerSize, 8);
  assert.equal(r.header.mtime, 1700000000);
  assert.equal(r.header.sourceSize, null);
});

test('3.6 pyc: 12-byte header with source size', () => {
  const r = decodeHeader(head('greeting.3.6.timestamp.pyc'));
  assert.ok(r.ok);
  assert.equal(r.header.magic, 3379);
  assert.equal(r.header.headerSize, 12);
  assert.equal(r.header.mtime, 1700000000);
  assert.equal(r.header.sourceSize, 117);
});

test('3.7+ timestamp, checked-hash and unchecked-hash pycs decode by their PEP 552 flags', () => {
  for (const minor of ['3.7', '3.10', '3.11', '3.13']) {
    const ts = decodeHeader(head(`greeting.${minor}.timestamp.pyc`));
    assert.ok(ts.ok);
    assert.equal(ts.header.kind, 'timestamp');
    assert.equal(ts.header.flags, 0);
    assert.equal(ts.header.mtime, 1700000000);
    assert.equal(ts.header.sourceSize, 117);
    const checked = decodeHeader(head(`greeting.${minor}.checked-hash.pyc`));
    assert.ok(checked.ok);
    assert.equal(checked.header.kind, 'checked-hash');
    assert.equal(checked.header.flags, 3);
    assert.match(checked.header.sourceHash!, /^[0-9a-f]{16}$/);
    const unchecked = decodeHeader(head(`greeting.${minor}.unchecked-hash.pyc`));
    assert.ok(unchecked.ok);
    assert.equal(unchecked.header.kind, 'unchecked-hash');
    assert.equal(unchecked.header.flags, 1);
    assert.equal(unchecked.header.sourceHash, checked.header.sourceHash, 'same source, same hash');
  }
});

test('invalid headers say why', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.alloc(0), /0 bytes: shorter than any/],
    [Buffer.from([0x2b, 0x0e, 0x0d]), /3 bytes: shorter than any/],
    [Buffer.from('2b0e0d0a00000000', 'hex'), /8 bytes: shorter than the 16-byte header/],
    [Buffer.from('2b0e0a0d000000000000000000000000', 'hex'), /bytes 2-3 are 0a0d, not \\r\\n/],
    [Buffer.from('2b0e0d0a04000000000000000000000000', 'hex'), /unknown PEP 552 flag bits 0x4/],
    [Buffer.from('330d0d0a00000000', 'hex'), /8 bytes: shorter than the 12-byte header/],
  ];
  for (const [bytes, reason] of cases) {
    const r = decodeHeader(bytes);
    assert.equal(r.ok, false, reason.source);
    if (!r.ok) assert.match(r.reason, reason);
  }
});

test('flags 0x2 without the hash bit is a timestamp pyc, as CPython reads it', () => {
  const r = decodeHeader(Buffer.from('2b0e0d0a020000000102030405060708', 'hex'));
  assert.ok(r.ok);
  assert.equal(r.header.kind, 'timestamp');
});

test('Python 1.0-1.2 word magics (no \\r\\n) are valid 8-byte headers', () => {
  const r = decodeHeader(Buffer.from('0299990001020304', 'hex'));
  assert.ok(r.ok);
  assert.equal(r.header.magic, 39170);
});

test("a magic's era sets its header size: 3210 added the source size, 3392 (PEP 552) the flags", () => {
  const cases: [number, number][] = [
    [3209, 8], [3210, 12], [3391, 12], [3392, 16], [3627, 16],
    [2999, 8], [62211, 8], [20121, 8], [9999, 16], [10000, 8], [3000, 8],
  ];
  for (const [magic, size] of cases) assert.equal(headerSizeFor(magic), size, String(magic));
  // the row's version decides when the table knows it: a 2.x number is 8 bytes whatever its value
  assert.equal(headerSizeFor(3500, '2.7'), 8);
  assert.equal(headerSizeFor(3300, '3.6'), 12);
  // other implementations follow the language version
  assert.deepEqual(['3.2', '3.3', '3.6', '3.7', '3.10'].map((v) => headerSizeFor(336, v, 'PyPy')), [8, 12, 12, 16, 16]);
  assert.equal(headerSizeFor(62218, '2.7', 'PyPy'), 8);
  assert.equal(headerSizeFor(21150, '3.8', 'GraalPy'), 16);
  assert.equal(headerSizeFor(336, undefined, 'PyPy'), 8, 'no version: the number alone');
});

test('a caller that knows the era better decides the size: PyPy 3.9 writes 336 with a 16-byte header', () => {
  const bytes = Buffer.from('50010d0a000000000102030405060708', 'hex');
  const as8 = decodeHeader(bytes);
  assert.ok(as8.ok);
  assert.deepEqual([as8.header.headerSize, as8.header.mtime, as8.header.flags], [8, 0, null]);
  const as16 = decodeHeader(bytes, 16);
  assert.ok(as16.ok);
  assert.deepEqual([as16.header.headerSize, as16.header.flags, as16.header.mtime, as16.header.sourceSize], [16, 0, 0x04030201, 0x08070605]);
  const as12 = decodeHeader(bytes.subarray(0, 12), 12);
  assert.ok(as12.ok);
  assert.deepEqual([as12.header.headerSize, as12.header.mtime, as12.header.sourceSize, as12.header.flags, as12.header.sourceHash, as12.header.kind], [12, 0, 0x04030201, null, null, 'timestamp']);
  const short = decodeHeader(bytes.subarray(0, 15), 16);
  assert.deepEqual(short, { ok: false, magic: 336, reason: '15 bytes: shorter than the 16-byte header of its era' });
});

test('every field of every kind, from the bytes', () => {
  const ts = decodeHeader(Buffer.from('2b0e0d0a00000000ffffffff01000080', 'hex'));
  assert.deepEqual(ts, { ok: true, header: { magic: 3627, headerSize: 16, kind: 'timestamp', flags: 0, mtime: 0xffffffff, sourceSize: 0x80000001, sourceHash: null } });
  const checked = decodeHeader(Buffer.from('2b0e0d0a030000000123456789abcdef', 'hex'));
  assert.deepEqual(checked, { ok: true, header: { magic: 3627, headerSize: 16, kind: 'checked-hash', flags: 3, mtime: null, sourceSize: null, sourceHash: '0123456789abcdef' } });
  const unchecked = decodeHeader(Buffer.from('2b0e0d0a01000000fedcba9876543210', 'hex'));
  assert.deepEqual(unchecked, { ok: true, header: { magic: 3627, headerSize: 16, kind: 'unchecked-hash', flags: 1, mtime: null, sourceSize: null, sourceHash: 'fedcba9876543210' } });
  const old = decodeHeader(Buffer.from('03f30d0a78563412', 'hex'));
  assert.deepEqual(old, { ok: true, header: { magic: 62211, headerSize: 8, kind: 'timestamp', flags: null, mtime: 0x12345678, sourceSize: null, sourceHash: null } });
  const three = decodeHeader(Buffer.from('330d0d0a7856341221436587', 'hex'));
  assert.deepEqual(three, { ok: true, header: { magic: 3379, headerSize: 12, kind: 'timestamp', flags: null, mtime: 0x12345678, sourceSize: 0x87654321, sourceHash: null } });
  // a header inside a larger buffer: only its own bytes are read
  const inside = Buffer.from('ffff2b0e0d0a030000000123456789abcdefff', 'hex').subarray(2, 18);
  const r = decodeHeader(new Uint8Array(inside.buffer, inside.byteOffset, inside.byteLength));
  assert.ok(r.ok);
  assert.equal(r.header.sourceHash, '0123456789abcdef');
  assert.equal(hex(new Uint8Array(inside.buffer, inside.byteOffset + 14, 2)), 'cdef');
});

test('flag bits beyond the two PEP 552 defines are refused, whichever they are', () => {
  for (const flags of ['04000000', '08000000', '00010000', '00000080', '07000000']) {
    const r = decodeHeader(Buffer.from(`2b0e0d0a${flags}0000000000000000`, 'hex'));
    assert.equal(r.ok, false, flags);
    if (!r.ok) assert.equal(r.reason, `unknown PEP 552 flag bits 0x${Buffer.from(flags, 'hex').readUInt32LE(0).toString(16)}`);
  }
});

test('only 0x9902 and 0x9903 followed by 0x99 0x00 are word magics', () => {
  assert.equal(decodeHeader(Buffer.from('0299990001020304', 'hex')).ok, true);
  for (const bytes of ['0499990001020304', '0299990101020304', '0299980001020304', '0299000001020304']) {
    const r = decodeHeader(Buffer.from(bytes, 'hex'));
    assert.equal(r.ok, false, bytes);
    if (!r.ok) assert.match(r.reason, /^bytes 2-3 are [0-9a-f]{4}, not \\r\\n: not a \.pyc header$/);
  }
  // 1.0-1.2 headers are 8 bytes: 7 are too few
  const short = decodeHeader(Buffer.from('02999900010203', 'hex'));
  assert.deepEqual(short, { ok: false, magic: 0x9902, reason: '7 bytes: shorter than the 8-byte header of its era' });
  assert.deepEqual(decodeHeader(Buffer.from('2b0e0d', 'hex')), { ok: false, magic: 3627, reason: '3 bytes: shorter than any .pyc header' });
  assert.deepEqual(decodeHeader(Buffer.from('2b', 'hex')), { ok: false, magic: null, reason: '1 bytes: shorter than any .pyc header' });
  assert.deepEqual(decodeHeader(Buffer.from('2b0e0d0b', 'hex')), { ok: false, magic: 3627, reason: 'bytes 2-3 are 0d0b, not \\r\\n: not a .pyc header' });
  assert.deepEqual(decodeHeader(Buffer.from('2b0e0c0a', 'hex')), { ok: false, magic: 3627, reason: 'bytes 2-3 are 0c0a, not \\r\\n: not a .pyc header' });
});

test("CPython's own pre-releases go by the number: 3.7a3 (3391) wrote 12 bytes, 3.3 development builds (3200) 8", () => {
  assert.equal(headerSizeFor(3391, '3.7'), 12);
  assert.equal(headerSizeFor(3392, '3.7'), 16);
  assert.equal(headerSizeFor(3200, '3.3'), 8);
  assert.equal(headerSizeFor(3210, '3.3'), 12);
  const a3 = decodeHeader(Buffer.from('3f0d0d0a0000655301000000', 'hex'));
  assert.deepEqual(a3, { ok: true, header: { magic: 3391, headerSize: 12, kind: 'timestamp', flags: null, mtime: 0x53650000, sourceSize: 1, sourceHash: null } });
});

test('four bytes are a whole magic but no whole header; two are a magic', () => {
  assert.deepEqual(decodeHeader(Buffer.from('2b0e0d0a', 'hex')), { ok: false, magic: 3627, reason: '4 bytes: shorter than the 16-byte header of its era' });
  assert.deepEqual(decodeHeader(Buffer.from('2b0e', 'hex')), { ok: false, magic: 3627, reason: '2 bytes: shorter than any .pyc header' });
});
