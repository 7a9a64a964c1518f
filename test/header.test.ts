import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeHeader } from '../src/header.js';
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
