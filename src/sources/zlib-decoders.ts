// Decoders in Node's own zlib: zstd (libzstd, Node >= 22.15), driven synchronously on the thread
// that reads, or as a stream where its engine is not as expected; gzip (.tar.gz), as a stream.
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { Codec, Decoder, Sink } from './codecs.js';

const require = createRequire(import.meta.url);
// createZstdDecompress (Node >= 22.15) is not in @types/node 20, which types the oldest supported Node.
type ZstdZlib = typeof import('node:zlib') & {
  createZstdDecompress?: (options?: { chunkSize?: number }) => Duplex;
};
export const zlib = () => require('node:zlib') as ZstdZlib;

const OUT_CHUNK = 256 << 10;

/**
 * What a node:zlib stream is made of underneath (lib/zlib.js: the engine its own synchronous API
 * drives). Not public API, so it is checked for before use, and the stream path stays beside it.
 */
interface ZlibEngine extends Duplex {
  _handle?: { writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void; reset(): void } | null;
  _writeState?: Uint32Array;
}
const ZSTD_E_CONTINUE = 0;
const ZSTD_E_END = 2;

function zstdMessage(err: Error): Error {
  if (/unexpected end|truncated|premature|incomplete/i.test(err.message)) return new Error('truncated: the zstd stream ends before its frame does');
  if (/unknown frame descriptor|prefix unknown|unknown header/i.test(err.message)) return new Error('corrupt zstd data: not a zstd frame');
  return new Error(`corrupt zstd data: ${lowerFirst(err.message)}`);
}

/** A zstd decompressor of node:zlib driven synchronously, or null where its engine is not as expected. */
function syncZstdEngine(): ZlibEngine | null {
  const d = zlib().createZstdDecompress!() as ZlibEngine;
  if (typeof d._handle?.writeSync !== 'function' || !(d._writeState instanceof Uint32Array) || d._writeState.length < 2) {
    d.destroy();
    return null;
  }
  // An engine error destroys the stream, which then emits 'error': it is read from `errored`.
  d.on('error', () => {});
  return d;
}

let syncZstdWorks: boolean | undefined;

/**
 * zstd through Node's own zlib (libzstd), decoded on the thread that reads, into one output buffer
 * used over and over: no buffer per chunk for the garbage collector, no round trip to libuv's
 * thread pool per chunk. Both cores are used by reading artifacts on two threads (pool.ts).
 */
export const zlibZstd: Decoder = async (input, sink) => {
  if (syncZstdWorks === undefined) {
    const probe = syncZstdEngine();
    syncZstdWorks = probe !== null;
    probe?.destroy();
  }
  if (!syncZstdWorks) return zlibZstdStream(input, sink);
  const d = syncZstdEngine()!;
  const state = d._writeState!;
  const out = Buffer.allocUnsafe(OUT_CHUNK);
  // Never call the engine again once it has failed: libzstd's context is gone (Node aborts).
  const step = (flush: number, chunk: Buffer, inOff: number, inLen: number): void => {
    d._handle!.writeSync(flush, chunk, inOff, inLen, out, 0, OUT_CHUNK);
    if (d.errored || !d._handle) throw zstdMessage(d.errored ?? new Error('decoder closed'));
  };
  // Decodes `chunk` whole, handing each full or final output buffer to the sink.
  // Highly compressed input (RLE blocks: 128 KiB from 4 bytes) can make gigabytes of one chunk:
  // every YIELD_EVERY output buffers the thread's other work (timers, other artifacts) gets a turn.
  let outputs = 0;
  const feed = async (flush: number, chunk: Buffer): Promise<void> => {
    let inOff = 0;
    let inLen = chunk.length;
    for (;;) {
      step(flush, chunk, inOff, inLen);
      const availOut = state[0]!;
      const availIn = state[1]!;
      if (availOut < OUT_CHUNK) sink(out.subarray(0, OUT_CHUNK - availOut));
      if (++outputs % YIELD_EVERY === 0) await new Promise(setImmediate);
      if (availOut === OUT_CHUNK && availIn === inLen && inLen > 0) throw new Error('corrupt zstd data: the decoder makes no progress');
      inOff += inLen - availIn;
      inLen = availIn;
      if (availOut !== 0 && availIn === 0) return;
    }
  };
  try {
    await feedInput(input, feed);
  } finally {
    d.destroy();
  }
};
const NOTHING = Buffer.alloc(0);
/** Output buffers (of OUT_CHUNK) decoded between two turns of the event loop: 16 MiB. */
const YIELD_EVERY = 64;

/** Hands a zstd decoder every input chunk, then the end of its frame (a frame cut short says so there). */
async function feedInput(input: AsyncIterable<Buffer>, feed: (flush: number, chunk: Buffer) => Promise<void>): Promise<void> {
  let any = false;
  for await (const chunk of input) {
    if (!chunk.length) continue;
    any = true;
    await feed(ZSTD_E_CONTINUE, chunk);
  }
  if (!any) throw new Error('corrupt zstd data: empty stream');
  await feed(ZSTD_E_END, NOTHING);
}

/** Output buffer for small frames: most info components decode into it whole, in one piece for the walk. */
const SMALL_OUT = 2 << 20;
/** The engine and output buffer small frames are decoded with, kept for the next one (see decodeSmallZstd). */
let smallEngine: { d: ZlibEngine; out: Buffer } | null = null;

/**
 * Decodes a whole zstd frame held in memory (a .conda's small info component) on this thread,
 * handing the sink chunks of one output buffer; more than `limit` bytes out is an error. One
 * context serves every call, reset in between: a package cache's hundreds of archives would
 * otherwise allocate and free a context and its window each, which glibc keeps as a fragmented
 * heap. Returns false where the synchronous engine is not as expected (decode another way).
 */
export function decodeSmallZstd(compressed: Buffer, limit: number, sink: Sink): boolean {
  if (!smallEngine) {
    const d = syncZstdEngine();
    if (!d) return false;
    smallEngine = { d, out: Buffer.allocUnsafe(SMALL_OUT) };
  }
  const { d, out } = smallEngine;
  const state = d._writeState!;
  let produced = 0;
  let inOff = 0;
  let inLen = compressed.length;
  let stopped: { error: unknown } | null = null;
  try {
    for (;;) {
      d._handle!.writeSync(ZSTD_E_END, compressed, inOff, inLen, out, 0, SMALL_OUT);
      if (d.errored || !d._handle) throw zstdMessage(d.errored ?? new Error('decoder closed'));
      const availOut = state[0]!;
      const availIn = state[1]!;
      produced += SMALL_OUT - availOut;
      if (produced > limit) throw new Error(`decoded past ${limit} bytes`);
      if (availOut === SMALL_OUT && availIn === inLen) throw new Error('corrupt zstd data: the decoder makes no progress');
      try {
        if (availOut < SMALL_OUT) sink(out.subarray(0, SMALL_OUT - availOut));
      } catch (error) {
        stopped = { error }; // the sink's own error (the walk is done, or it failed): passed on as it is
        break;
      }
      inOff += inLen - availIn;
      inLen = availIn;
      if (availOut !== 0 && availIn === 0) break;
    }
    d._handle!.reset();
  } catch (err) {
    // A failed context is never used again (libzstd's state is gone); the next call makes another.
    smallEngine = null;
    d.destroy();
    throw new SmallZstdFailed((err as Error).message);
  }
  if (stopped) throw stopped.error;
  return true;
}

/** decodeSmallZstd's own failure (corrupt data, past the limit), told apart from the sink's errors. */
export class SmallZstdFailed extends Error {}

/**
 * What node:zlib's zstd streams are built on (its internal binding, reached through
 * process.binding): a decoder context whose asynchronous write runs on libuv's thread pool and
 * calls back with the counts in `state`. Not public API: checked on a small frame before use
 * (pooledZstdWorks), with the synchronous engine above as the way when it is not as expected.
 */
interface PooledHandle {
  init(params: Uint32Array, pledgedSrcSize: undefined, state: Uint32Array, done: () => void, dictionary: undefined, rejectGarbage: boolean): void;
  write(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  close(): void;
  onerror: (message: string) => void;
}

/** A decoder context and its callbacks, or null where the binding is not as expected. */
function pooledHandle(): { handle: PooledHandle; state: Uint32Array; on: { done: () => void; error: (message: string) => void } } | null {
  try {
    const binding = (process as unknown as { binding(name: string): { ZstdDecompress?: new () => PooledHandle } }).binding('zlib');
    if (typeof binding.ZstdDecompress !== 'function') return null;
    const handle = new binding.ZstdDecompress();
    const state = new Uint32Array(2);
    const on = { done: () => {}, error: (_message: string) => {} };
    // Parameters as node:zlib passes them: one slot per ZSTD_d_ parameter, all unset.
    const constants = zlib().constants as unknown as Record<string, number>;
    const slots = Math.max(...Object.keys(constants).filter((k) => k.startsWith('ZSTD_d_')).map((k) => constants[k]!)) + 1;
    handle.onerror = (message) => on.error(message);
    handle.init(new Uint32Array(slots).fill(0xffffffff), undefined, state, () => on.done(), undefined, false);
    return { handle, state, on };
  } catch {
    return null;
  }
}

let pooledZstdWorks: boolean | undefined;

function pendingDeprecation(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return process.env.NODE_PENDING_DEPRECATION === '1' || flags.includes('--pending-deprecation');
}

/**
 * A zstd frame of PROBE_TEXT (made once with node:zlib's zstdCompressSync; a frame's format does
 * not change), decoded to check a pooled context before use: embedded, because compressing it
 * would cost every run a compression context (docs/performance.md).
 */
const PROBE_FRAME = 'KLUv/WAYBYUBAHQCcHljLWF1ZGl0IGNoZWNrcyB0aGUgenN0ZCBkZWNvZGVyIG9uY2UKAQB3T/3qCQ==';
const PROBE_TEXT = 'pyc-audit checks the zstd decoder once\n'.repeat(40);

/** Whether a pooled context decodes a small frame as node:zlib does (checked once per thread). */
export function pooledZstdChecked(): boolean {
  if (pooledZstdWorks !== undefined) return pooledZstdWorks;
  pooledZstdWorks = false;
  // process.binding is deprecated: where the user asked to see pending deprecations, it would
  // print one, so the engine on this thread decodes instead.
  if (pendingDeprecation()) return false;
  const engine = typeof (process as { binding?: unknown }).binding === 'function' ? pooledHandle() : null;
  if (!engine) return false;
  try {
    const frame = Buffer.from(PROBE_FRAME, 'base64');
    const text = Buffer.from(PROBE_TEXT);
    const out = Buffer.alloc(text.length + 64);
    let failed = false;
    engine.on.error = () => (failed = true);
    engine.handle.writeSync(ZSTD_E_END, frame, 0, frame.length, out, 0, out.length);
    pooledZstdWorks = !failed && engine.state[1] === 0 && out.length - engine.state[0]! === text.length && out.subarray(0, text.length).equals(text);
  } catch {
    pooledZstdWorks = false;
  } finally {
    engine.handle.close();
  }
  return pooledZstdWorks;
}

const POOLED_OUT = 1 << 20;

/**
 * zstd through Node's own zlib (libzstd) on libuv's thread pool, two output buffers in turn: the
 * pool decodes into one while this thread hands the other to the sink (the tar walk). Two artifacts
 * read at once decode on two pool threads, so both cores work without a reader thread.
 */
export const zlibZstdPooled: Decoder = async (input, sink) => {
  if (!pooledZstdChecked()) return zlibZstd(input, sink);
  const engine = pooledHandle();
  if (!engine) return zlibZstd(input, sink);
  const { handle, state, on } = engine;
  const outs = [spareOuts.pop() ?? Buffer.allocUnsafe(POOLED_OUT), spareOuts.pop() ?? Buffer.allocUnsafe(POOLED_OUT)];
  let turn = 0;
  // Once the context has failed it is never written to again (libzstd's state is gone).
  let failure: Error | null = null;
  // The first write runs here, synchronously: libzstd allocates its window when it reads the frame
  // header, and memory allocated on this thread is reused by the next artifact's context (one
  // allocated on a pool thread stays in that thread's malloc arena).
  let first = true;
  const write = (flush: number, chunk: Buffer, inOff: number, inLen: number, out: Buffer) =>
    new Promise<void>((resolve, reject) => {
      on.done = () => (failure ? reject(failure) : resolve());
      on.error = (message) => {
        failure = zstdMessage(new Error(message));
        reject(failure);
      };
      if (!first) return handle.write(flush, chunk, inOff, inLen, out, 0, POOLED_OUT);
      first = false;
      handle.writeSync(flush, chunk, inOff, inLen, out, 0, POOLED_OUT);
      if (!failure) resolve();
    });
  // Decodes `chunk` whole; the next write is started before the sink sees the last one's output.
  const feed = async (flush: number, chunk: Buffer): Promise<void> => {
    let inOff = 0;
    let inLen = chunk.length;
    let pending: Promise<void> | null = write(flush, chunk, inOff, inLen, outs[turn]!);
    while (pending) {
      await pending;
      const out = outs[turn]!;
      const availOut = state[0]!;
      const availIn = state[1]!;
      if (availOut === POOLED_OUT && availIn === inLen && inLen > 0) throw new Error('corrupt zstd data: the decoder makes no progress');
      inOff += inLen - availIn;
      inLen = availIn;
      turn ^= 1;
      pending = availOut !== 0 && availIn === 0 ? null : write(flush, chunk, inOff, inLen, outs[turn]!);
      try {
        if (availOut < POOLED_OUT) sink(out.subarray(0, POOLED_OUT - availOut));
      } catch (err) {
        await pending?.catch(() => {});
        throw err;
      }
    }
  };
  try {
    await feedInput(input, feed);
  } finally {
    handle.close();
    // No write is running now: the buffers serve the next artifact (a cache has hundreds).
    if (spareOuts.length < MAX_SPARE_OUTS) spareOuts.push(...outs);
  }
};
/** Output buffers of finished pooled decodes, for the next ones: two per artifact decoded at once. */
const spareOuts: Buffer[] = [];
const MAX_SPARE_OUTS = 4;

/** zstd through Node's own zlib as a stream, which runs on libuv's thread pool, off the main thread. */
export const zlibZstdStream: Decoder = async (input, sink) => {
  const z = zlib();
  const d = z.createZstdDecompress!({ chunkSize: OUT_CHUNK });
  const done = streamInto(d, sink, zstdMessage);
  let any = false;
  for await (const chunk of input) {
    if (done.settled || d.destroyed) break;
    if (!chunk.length) continue;
    any = true;
    // Wait until zlib is done with this chunk: the reader may then reuse its buffer (no garbage).
    await Promise.race([new Promise((r) => d.write(chunk, r)), done.promise.catch(() => {})]);
  }
  if (!any && !done.settled) {
    d.destroy();
    throw new Error('corrupt zstd data: empty stream');
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
