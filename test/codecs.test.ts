// The zstd decoders side by side on frames built here: same bytes out whatever the input's chunking,
// and the same plain messages for a frame cut short, for bytes that are not zstd, and for a sink
// that stops the read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { zlibHasZstd, zstdDecoders } from '../src/sources/codecs/codecs.js';
import { decodeSmallZstd, SmallZstdFailed } from '../src/sources/codecs/zlib-decoders.js';
import { zstdRuns } from './archives.js';

const decoders = Object.entries(zstdDecoders());
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `bytes` in pieces of `size` (the last shorter), as a reader hands them over. */
async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

// Several MiB of output from a small frame: many output buffers' worth, raw and RLE blocks mixed.
const raw = randomBytes(300 << 10);
const parts = [raw, { byte: 7, count: 3 << 20 }, raw.subarray(0, 1000), { byte: 0, count: 1 << 20 }, raw];
const expected = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.alloc(p.count, p.byte))));
const frame = zstdRuns(parts);

async function decode(name: string, input: AsyncIterable<Buffer>, stopAfter = Infinity): Promise<{ hash: string; length: number }> {
  const decoder = zstdDecoders()[name]!;
  const h = createHash('sha256');
  let length = 0;
  await decoder(input, (chunk) => {
    if (length >= stopAfter) throw new Error('stop: enough read');
    h.update(chunk);
    length += chunk.length;
  });
  return { hash: h.digest('hex'), length };
}

test('every zstd decoder gives the same bytes, whatever the input chunking', async () => {
  assert.ok(decoders.length >= 1);
  for (const [name] of decoders) {
    for (const size of [997, 1 << 20]) {
      const got = await decode(name, pieces(frame, size));
      assert.equal(got.length, expected.length, `${name}, chunks of ${size}`);
      assert.equal(got.hash, sha(expected), `${name}, chunks of ${size}`);
    }
  }
});

test('a zstd frame cut short, bytes that are not zstd, no bytes: plain messages from every in-process decoder', async () => {
  for (const [name] of decoders.filter(([n]) => n !== 'tool')) {
    await assert.rejects(decode(name, pieces(frame.subarray(0, frame.length - 1000), 65536)), /^Error: (truncated: the zstd stream ends before its frame does|corrupt zstd data)/, name);
    await assert.rejects(decode(name, pieces(Buffer.from('not a zstd frame at all, just words'), 8)), /^Error: corrupt zstd data/, name);
    await assert.rejects(decode(name, pieces(Buffer.alloc(0), 1)), /^Error: corrupt zstd data/, name);
  }
});

test('a sink that stops the read ends it with its own error, and the next decode still works', async () => {
  for (const [name] of decoders) {
    await assert.rejects(decode(name, pieces(frame, 65536), 1), /stop: enough read/, name);
    // After a stop and after a failure (libzstd's context gone), a fresh decode is whole.
    await assert.rejects(decode(name, pieces(Buffer.from('garbage garbage garbage'), 4)));
    assert.equal((await decode(name, pieces(frame, 65536))).hash, sha(expected), name);
  }
});

test('a small frame decodes in one piece, within its limit; corrupt, cut short or too large is SmallZstdFailed, the sink\'s own error passes through', { skip: zlibHasZstd() ? false : 'no sound zstd in node:zlib' }, () => {
  const whole = (bytes: Buffer, limit = 8 << 20) => {
    const h = createHash('sha256');
    let length = 0;
    decodeSmallZstd(bytes, limit, (chunk) => {
      h.update(chunk);
      length += chunk.length;
    });
    return { hash: h.digest('hex'), length };
  };
  const good = { hash: sha(expected), length: expected.length };
  assert.deepEqual(whole(frame), good);
  assert.throws(() => whole(frame.subarray(0, frame.length - 1000)), (err: Error) => err instanceof SmallZstdFailed && /^truncated/.test(err.message));
  assert.throws(() => whole(Buffer.from('not a zstd frame at all')), (err: Error) => err instanceof SmallZstdFailed && /^corrupt zstd data/.test(err.message));
  assert.throws(() => whole(frame, 1 << 20), (err: Error) => err instanceof SmallZstdFailed && /decoded past 1048576 bytes/.test(err.message));
  const stop = new Error('stop: enough read');
  assert.throws(() => decodeSmallZstd(frame, 8 << 20, () => { throw stop; }), (err) => err === stop);
  assert.deepEqual(whole(frame), good);
});
