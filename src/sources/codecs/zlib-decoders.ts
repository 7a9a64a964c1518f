// Decoders in Node's own zlib, through its public API only: zstd (libzstd, where node:zlib's is sound: zlibZstdIsSound) as a
// stream, which does its work on libuv's thread pool, or in one piece for a small frame held in
// memory; gzip (.tar.gz) as a stream.
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { Codec, Decoder, Sink } from './types.js';
import { checkZstdFrames, ZstdFrames } from './zstd-frames.js';

const require = createRequire(import.meta.url);
// The zstd functions (Node >= 22.15) are not in @types/node 20, which types the oldest supported Node.
type ZstdZlib = typeof import('node:zlib') & {
  createZstdDecompress?: (options?: { chunkSize?: number }) => Duplex;
  zstdDecompressSync?: (input: Buffer, options?: { maxOutputLength?: number }) => Buffer;
};
export const zlib = () => require('node:zlib') as ZstdZlib;

/** Output pieces of a zstd stream: a .conda's pkg component decodes to tens of MiB. */
const OUT_CHUNK = 1 << 20;

function zstdMessage(err: Error): Error {
  if (/unexpected end|truncated|premature|incomplete/i.test(err.message)) return new Error('truncated: the zstd stream ends before its frame does');
  if (/unknown frame descriptor|prefix unknown|unknown header/i.test(err.message)) return new Error('corrupt zstd data: not a zstd frame');
  return new Error(`corrupt zstd data: ${lowerFirst(err.message)}`);
}

/**
 * A zstd frame of PROBE_TEXT (made once with node:zlib's zstdCompressSync; a frame's format does
 * not change), embedded so that checking the decoder costs no compression context.
 */
const PROBE_FRAME = 'KLUv/WAYBYUBAHQCcHljLWF1ZGl0IGNoZWNrcyB0aGUgenN0ZCBkZWNvZGVyIG9uY2UKAQB3T/3qCQ==';
const PROBE_TEXT = 'pyc-audit checks the zstd decoder once\n'.repeat(40);
/** A skippable frame (magic 0x184D2A50, four bytes of user data), which a decoder passes over. */
const SKIPPABLE = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]);

let sound: boolean | undefined;

/**
 * Whether node:zlib has zstd and decodes it as libzstd's own tools do, checked once through its
 * public functions: a frame after a skippable frame decodes whole, and a frame cut short is an
 * error. Node 22's zstd (experimental there) does neither: it returns nothing for the first and
 * what it has for the second, so a truncated package would read as a whole one. Checking public
 * functions can only throw, never abort the process.
 */
export function zlibZstdIsSound(): boolean {
  if (sound !== undefined) return sound;
  sound = false;
  const z = zlib();
  if (typeof z.createZstdDecompress !== 'function' || typeof z.zstdDecompressSync !== 'function') return sound;
  const frame = Buffer.from(PROBE_FRAME, 'base64');
  try {
    if (z.zstdDecompressSync(Buffer.concat([SKIPPABLE, frame])).toString('latin1') !== PROBE_TEXT) return sound;
  } catch {
    return sound;
  }
  try {
    z.zstdDecompressSync(frame.subarray(0, frame.length - 4));
  } catch {
    sound = true;
  }
  return sound;
}

/**
 * Decodes a whole zstd frame held in memory (a .conda's small info component) in one call and
 * hands it to the sink; more than `limit` bytes out is an error (SmallZstdFailed, as is corrupt or
 * truncated data). libzstd runs on this thread: no round trip through libuv's thread pool for a
 * package cache's hundreds of small components.
 */
export function decodeSmallZstd(compressed: Buffer, limit: number, sink: Sink): void {
  let decoded: Buffer;
  try {
    // libzstd here stops at the last frame's end; what follows it is judged as the zstd program does.
    checkZstdFrames(compressed);
    decoded = zlib().zstdDecompressSync!(compressed, { maxOutputLength: limit });
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new SmallZstdFailed(e.code === 'ERR_BUFFER_TOO_LARGE' ? `decoded past ${limit} bytes` : zstdMessage(e).message);
  }
  if (decoded.length) sink(decoded);
}

/** decodeSmallZstd's own failure (corrupt data, past the limit), told apart from the sink's errors. */
export class SmallZstdFailed extends Error {}

/** zstd through Node's own zlib as a stream, which decodes on libuv's thread pool, off the thread that reads. */
export const zlibZstd: Decoder = async (input, sink) => {
  const d = zlib().createZstdDecompress!({ chunkSize: OUT_CHUNK });
  const done = streamInto(d, sink, zstdMessage);
  // zlib or the sink ended it with an error: that error is the outcome.
  let failed = false;
  done.promise.catch(() => (failed = true));
  // libzstd stops at the last frame's end and ignores what follows; the zstd program does not,
  // and its verdict is the rule (zstd-frames.ts): the frames are checked here as they pass, to the
  // end of the input even when zlib has finished.
  const frames = new ZstdFrames();
  let any = false;
  let whole = true;
  const fault = (err: unknown) => {
    d.destroy();
    throw err;
  };
  for await (const chunk of input) {
    if (failed || d.destroyed) {
      whole = false;
      break;
    }
    if (!chunk.length) continue;
    any = true;
    // Wait until zlib is done with this chunk: the reader may then reuse its buffer (no garbage).
    if (!done.settled) await Promise.race([new Promise((r) => d.write(chunk, r)), done.promise.catch(() => {})]);
    if (failed) {
      whole = false;
      break;
    }
    // Checked after zlib had it, as the program decodes a frame before it reads past it.
    try {
      frames.push(chunk);
    } catch (err) {
      fault(err);
    }
  }
  if (!any && !done.settled) {
    d.destroy();
    throw new Error('corrupt zstd data: empty stream');
  }
  if (whole && any) {
    try {
      frames.end();
    } catch (err) {
      if (!failed) fault(err);
    }
  }
  if (!d.destroyed) d.end();
  await done.promise;
};

/** Sends a transform stream's output to `sink`; its errors become `describe(err)`, the sink's pass through. */
export function streamInto(t: Duplex, sink: Sink, describe: (err: Error) => Error): { promise: Promise<void>; settled: boolean } {
  const state = { settled: false, promise: Promise.resolve() };
  let sinkError: { error: unknown } | null = null;
  state.promise = new Promise<void>((resolve, reject) => {
    t.on('data', (chunk: Buffer) => {
      if (sinkError) return;
      try {
        sink(chunk);
      } catch (error) {
        sinkError = { error };
        t.destroy();
        reject(error);
      }
    });
    t.on('end', resolve);
    t.on('error', (err: Error) => reject(describe(err)));
    t.on('close', () => reject(new Error('decoder closed early')));
  });
  state.promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

// ---- gzip (.tar.gz sdists and tarballs) -----------------------------------------------------------

/** gzip through Node's own zlib. */
export const gzip: Codec = {
  name: 'zlib',
  consumesSynchronously: false,
  offThread: true,
  decode: async (input, sink) => {
    const gunzip = zlib().createGunzip();
    const done = streamInto(gunzip, sink, (err) =>
      /unexpected end/i.test(err.message) ? new Error('truncated: the gzip stream ends early') : new Error(`corrupt gzip data: ${lowerFirst(err.message)}`),
    );
    done.promise.catch(() => {});
    for await (const chunk of input) {
      if (done.settled || gunzip.destroyed) break;
      if (!gunzip.write(chunk)) await Promise.race([new Promise((r) => gunzip.once('drain', r)), done.promise.catch(() => {})]);
    }
    if (!gunzip.destroyed) gunzip.end();
    await done.promise;
  },
};
