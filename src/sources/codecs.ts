// Streaming decoders: zstd (.conda), bzip2 (.tar.bz2), gzip (.tar.gz). Each reads compressed chunks from
// `input` and calls `sink` with decompressed chunks; a chunk is valid only during that call. Each
// rejects with an Error that says, in plain words, what is wrong with the data.
//
// Which decoder runs is decided once per process (measurements: docs/performance.md):
//   zstd:  node:zlib (Node >= 22.15: libzstd in-process, on libuv's thread pool)
//          > the `zstd` program on PATH > fzstd (pure JavaScript, bounded: fzstd-bounded.ts)
//   bzip2: lbzip2 / pbzip2 on PATH (multi-threaded) > bzip2 on PATH, a big file cut into runs of
//          blocks decoded by several `bzip2 -dc` at once (bzip2-blocks.ts) > unbzip2-stream (pure JavaScript)
// PYC_AUDIT_ZSTD=zlib|tool|js and PYC_AUDIT_BZIP2=tool|js|PROGRAM force a choice; a forced decoder
// this machine does not have is an error (DecoderUnavailable), never a silent fallback.
import { createRequire } from 'node:module';
import { CORES } from '../cores.js';
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Duplex } from 'node:stream';
import { cutRuns, mapBlocks, wrapRun } from './bzip2-blocks.js';
import { boundedFzstd } from './fzstd-bounded.js';

// Modules load when chosen: every module costs start-up time, in the main thread and again in
// each reader thread.
const require = createRequire(import.meta.url);
const childProcess = () => require('node:child_process') as typeof import('node:child_process');
// createZstdDecompress (Node >= 22.15) is not in @types/node 20, which types the oldest supported Node.
type ZstdZlib = typeof import('node:zlib') & { createZstdDecompress?: (options?: { chunkSize?: number }) => Duplex };
const zlib = () => require('node:zlib') as ZstdZlib;

export type Sink = (chunk: Buffer) => void;
export type Decoder = (input: AsyncIterable<Buffer>, sink: Sink) => Promise<void>;
export interface Codec {
  name: string;
  decode: Decoder;
  /** Decodes a whole open file by itself (a program given its descriptor: no input passes through Node). */
  decodeFile?: (file: FileHandle, sink: Sink) => Promise<void>;
  /** It is done with each input chunk before asking for the next, so the reader may reuse one buffer. */
  consumesSynchronously: boolean;
}

/** A decoder forced by PYC_AUDIT_ZSTD / PYC_AUDIT_BZIP2 that this machine does not have, or a bad value. */
export class DecoderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecoderUnavailable';
  }
}

// ---- finding what this machine has ------------------------------------------------------------

const found = new Map<string, boolean>();
function onPath(program: string): boolean {
  let ok = found.get(program);
  if (ok === undefined) {
    ok = childProcess().spawnSync(program, ['--help'], { stdio: 'ignore', timeout: 5000 }).error === undefined;
    found.set(program, ok);
  }
  return ok;
}

/** node:zlib decodes zstd from Node 22.15 / 23.8 on. */
export function zlibHasZstd(): boolean {
  return typeof zlib().createZstdDecompress === 'function';
}

export { CORES };

let zstdCodec: Codec | undefined;
let bzip2Codec: Codec | undefined;

export function zstd(): Codec {
  if (zstdCodec) return zstdCodec;
  const forced = process.env.PYC_AUDIT_ZSTD || undefined;
  if (forced && !['zlib', 'tool', 'js'].includes(forced)) throw new DecoderUnavailable(`PYC_AUDIT_ZSTD=${forced}: expected zlib, tool or js`);
  if (forced === 'zlib' && !zlibHasZstd()) throw new DecoderUnavailable(`PYC_AUDIT_ZSTD=zlib: this Node (${process.version}) has no zstd in node:zlib (Node >= 22.15 has)`);
  if (forced === 'tool' && !onPath('zstd')) throw new DecoderUnavailable('PYC_AUDIT_ZSTD=tool: no zstd program on PATH');
  if (forced === 'zlib' || (!forced && zlibHasZstd())) {
    zstdCodec = { name: 'node:zlib', decode: zlibZstd, consumesSynchronously: true };
  } else if (forced === 'tool' || (!forced && onPath('zstd'))) {
    zstdCodec = { name: 'zstd (program)', decode: (input, sink) => slots.run(() => runProgram('zstd', ['-dc'], input, sink, zstdToolMessage)), consumesSynchronously: false };
  } else {
    zstdCodec = { name: 'fzstd (JavaScript)', decode: boundedFzstd, consumesSynchronously: false };
  }
  return zstdCodec;
}

/** Compressed bytes per run of blocks a `bzip2 -dc` decodes (PYC_AUDIT_BZIP2_RUN_BYTES; 0 turns block-parallel decoding off). */
function runBytes(): number {
  const v = process.env.PYC_AUDIT_BZIP2_RUN_BYTES;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 2 << 20;
}

export function bzip2(): Codec {
  if (bzip2Codec) return bzip2Codec;
  const forced = process.env.PYC_AUDIT_BZIP2 || undefined;
  if (forced && forced !== 'js' && forced !== 'tool' && !/^[\w.+-]+$/.test(forced)) throw new DecoderUnavailable(`PYC_AUDIT_BZIP2=${forced}: expected tool, js or a program name`);
  const candidates = forced === 'js' ? [] : forced && forced !== 'tool' ? [forced] : ['lbzip2', 'pbzip2', 'bzip2'];
  const tool = candidates.find(onPath);
  if (!tool && forced && forced !== 'js') throw new DecoderUnavailable(`PYC_AUDIT_BZIP2=${forced}: ${forced === 'tool' ? 'no lbzip2, pbzip2 or bzip2' : `no ${forced}`} program on PATH`);
  if (!tool) {
    bzip2Codec = { name: 'unbzip2-stream (JavaScript)', decode: jsBzip2, consumesSynchronously: false };
    return bzip2Codec;
  }
  // lbzip2 and pbzip2 use every core for one stream: running two at once only makes them fight,
  // so they take turns (docs/performance.md).
  const multithreaded = /^(lbzip2|pbzip2)$/.test(tool);
  const flags = tool === 'lbzip2' ? ['-dc', '-n', String(CORES)] : tool === 'pbzip2' ? ['-dc', `-p${CORES}`] : ['-dc'];
  const turns = multithreaded ? oneAtATime() : <T>(f: () => Promise<T>) => f();
  const run = runBytes();
  const blockParallel = !multithreaded && CORES > 1 && run > 0;
  const whole = (file: FileHandle, sink: Sink) => turns(() => slots.run(() => runProgram(tool, flags, file.fd, sink, bzip2ToolMessage)));
  bzip2Codec = {
    name: `${tool} (program${blockParallel ? `, block-parallel ×${LANES}` : ''})`,
    decode: (input, sink) => turns(() => slots.run(() => runProgram(tool, flags, input, sink, bzip2ToolMessage))),
    decodeFile: blockParallel ? (file, sink) => decodeRuns(tool, file, run, sink, whole) : whole,
    consumesSynchronously: false,
  };
  return bzip2Codec;
}

/** Every zstd decoder this machine has, by the name PYC_AUDIT_ZSTD gives it (for tests that compare them). */
export function zstdDecoders(): Record<string, Decoder> {
  const all: Record<string, Decoder> = { js: boundedFzstd };
  if (zlibHasZstd()) Object.assign(all, { zlib: zlibZstd, 'zlib-stream': zlibZstdStream });
  if (onPath('zstd')) all.tool = (input, sink) => slots.run(() => runProgram('zstd', ['-dc'], input, sink, zstdToolMessage));
  return all;
}

/** What this machine decodes with, for `pyc-audit --version --verbose`. Throws DecoderUnavailable. */
export function decoderReport(): string[] {
  return [`zstd: ${zstd().name}`, `bzip2: ${bzip2().name}`, `gzip: node:zlib`, `cores: ${CORES} (decoder programs and reader threads at once)`];
}

// ---- zstd ---------------------------------------------------------------------------------------

const OUT_CHUNK = 256 << 10;

/**
 * What a node:zlib stream is made of underneath (lib/zlib.js: the engine its own synchronous API
 * drives). Not public API, so it is checked for before use, and the stream path stays beside it.
 */
interface ZlibEngine extends Duplex {
  _handle?: { writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void } | null;
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
const zlibZstd: Decoder = async (input, sink) => {
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
    let any = false;
    for await (const chunk of input) {
      if (!chunk.length) continue;
      any = true;
      await feed(ZSTD_E_CONTINUE, chunk);
    }
    if (!any) throw new Error('corrupt zstd data: empty stream');
    await feed(ZSTD_E_END, NOTHING); // a frame cut short says so here
  } finally {
    d.destroy();
  }
};
const NOTHING = Buffer.alloc(0);
/** Output buffers (of OUT_CHUNK) decoded between two turns of the event loop: 16 MiB. */
const YIELD_EVERY = 64;

/** zstd through Node's own zlib as a stream, which runs on libuv's thread pool, off the main thread. */
const zlibZstdStream: Decoder = async (input, sink) => {
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
function streamInto(t: Duplex, sink: Sink, describe: (err: Error) => Error): { promise: Promise<void>; settled: boolean } {
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

function zstdToolMessage(stderr: string, code: number | null): string {
  if (/truncated|unexpected end|premature/i.test(stderr)) return 'truncated: the zstd stream ends before its frame does';
  if (/unknown header|not in zstd format|unsupported format/i.test(stderr)) return 'corrupt zstd data: not a zstd frame';
  const detail = stderr.replace(/^.*?: /, '').replace(/\s+/g, ' ').trim();
  return `corrupt zstd data${detail ? `: ${detail.slice(0, 160)}` : ` (zstd exit ${code})`}`;
}

// ---- bzip2 --------------------------------------------------------------------------------------

function bzip2ToolMessage(stderr: string, code: number | null): string {
  const text = stderr.replace(/\s+/g, ' ');
  if (/ends unexpectedly|unexpected end|premature/i.test(text)) return 'truncated bzip2 data: compressed stream ends unexpectedly';
  if (/not a bzip2 file|bad magic|not bzip2/i.test(text)) return 'not bzip2 data';
  if (/data integrity|crc/i.test(text)) return 'corrupt bzip2 data: data integrity (CRC) error';
  // lbzip2 cannot tell a cut-off stream from a damaged one: "compressed data error: bad block header magic".
  const lbzip2 = /compressed data error: ([^\n]+)/.exec(stderr);
  if (lbzip2) return `corrupt or truncated bzip2 data: ${lbzip2[1]!.trim()}`;
  return `corrupt bzip2 data (decoder exit ${code}${text.trim() ? `: ${text.trim().slice(0, 160)}` : ''})`;
}

/** unbzip2-stream reports truncation as a TypeError and corruption in jokes; say it plainly. */
function jsBzip2Message(err: Error): string {
  if (err instanceof TypeError || /prematurely/.test(err.message)) return 'truncated bzip2 data: compressed stream ends unexpectedly';
  if (/No magic number|Not a BZIP/.test(err.message)) return 'not bzip2 data';
  if (/crc32/.test(err.message)) return 'corrupt bzip2 data: data integrity (CRC) error';
  return 'corrupt bzip2 data';
}

const jsBzip2: Decoder = async (input, sink) => {
  const decoder = (require('unbzip2-stream') as () => Duplex)();
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', (chunk: Buffer) => {
      try {
        sink(chunk);
      } catch (err) {
        // From the sink (the tar walker, a stop signal): end here, with that error as it is.
        reject(err);
        decoder.destroy();
      }
    });
    decoder.on('end', resolve);
    decoder.on('close', () => reject(new Error('corrupt bzip2 data')));
    decoder.on('error', (err: Error) => reject(new Error(jsBzip2Message(err))));
  });
  done.catch(() => {}); // observed below; avoid an unhandled rejection while still writing
  let settled = false;
  done.finally(() => (settled = true)).catch(() => {});
  for await (const chunk of input) {
    if (settled) break;
    if (!decoder.write(chunk)) await Promise.race([new Promise((r) => decoder.once('drain', r)), done.catch(() => {})]);
  }
  if (!settled) decoder.end();
  await done;
};

// ---- block-parallel bzip2 ------------------------------------------------------------------------

/**
 * Runs of one artifact decoded at once: one per core, at most 4. Each holds its re-wrapped input
 * (~2 MiB) and its output ahead of the reader in this process: on a machine of many cores, a
 * lane per core would hold hundreds of MB for one file.
 */
const LANES = Math.min(CORES, 4);
/** Decoded bytes a run that is not yet the one being read may hold before its program is paused: 16 MiB over all lanes. */
const AHEAD_BYTES = Math.min(8 << 20, Math.floor((16 << 20) / LANES));

/**
 * A big .tar.bz2 decoded by several `bzip2 -dc` at once, each on a run of whole blocks re-wrapped
 * as a stream of its own (bzip2-blocks.ts). Output reaches `sink` in order: the run being read
 * streams straight through, the runs after it hold up to AHEAD_BYTES each, then wait. A file that
 * is not one well-formed stream, or has a single run, is decoded whole.
 */
async function decodeRuns(program: string, file: FileHandle, runBytes: number, sink: Sink, whole: (file: FileHandle, sink: Sink) => Promise<void>): Promise<void> {
  const { size } = await file.stat();
  const map = size >= 2 * runBytes ? await mapBlocks(file) : null;
  const runs = map ? cutRuns(map, runBytes) : [];
  if (!map || runs.length < 2) return whole(file, sink);
  const lanes = LANES;
  const started: Promise<RunDecoder>[] = [];
  const all: RunDecoder[] = [];
  let next = 0;
  try {
    for (let head = 0; head < runs.length; head++) {
      // One run more than there are lanes: a run that finished before the one being read
      // frees its lane for the next while its output waits.
      while (next < runs.length && next <= head + lanes) {
        const run = runs[next++]!;
        const p = slots.acquire().then(async (release) => {
          try {
            const d = new RunDecoder(program, await wrapRun(file, map.level, run), release);
            all.push(d);
            return d;
          } catch (err) {
            release();
            throw err;
          }
        });
        p.catch(() => {});
        started.push(p);
      }
      await (await started[head]!).readAsHead(sink);
    }
  } finally {
    for (const d of all) d.stop();
    // Runs still waiting for a slot or being wrapped: stop them as they arrive.
    for (const p of started) p.then((d) => d.stop(), () => {});
  }
}

/** One `bzip2 -dc` over one re-wrapped run; holds its output until it is the run being read. */
class RunDecoder {
  private readonly child: import('node:child_process').ChildProcess;
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private sink: Sink | null = null;
  private sinkError: { error: unknown } | null = null;
  private stderr = '';
  private readonly exited: Promise<number | null>;

  constructor(
    program: string,
    stream: Buffer,
    release: () => void,
  ) {
    this.child = childProcess().spawn(program, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise<number | null>((resolve, reject) => {
      this.child.on('error', (err) => reject(new Error(`${program}: ${err.message}`)));
      this.child.on('close', (code) => resolve(code));
    });
    this.exited.catch(() => {}).finally(release);
    this.child.stdin!.on('error', () => {});
    this.child.stdin!.end(stream);
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      if (this.stderr.length < 4096) this.stderr += s;
    });
    const out = this.child.stdout!;
    out.on('data', (chunk: Buffer) => {
      if (this.sink) this.deliver(chunk);
      else {
        this.held.push(chunk);
        this.heldBytes += chunk.length;
        if (this.heldBytes >= AHEAD_BYTES) out.pause();
      }
    });
  }

  private deliver(chunk: Buffer): void {
    if (this.sinkError) return;
    try {
      this.sink!(chunk);
    } catch (error) {
      // The rest of the run is discarded as it comes, for a moment: when the data is damaged,
      // bzip2's verdict (a CRC error at the end of the block) says so better than the tar walker
      // did. A stop (--max-bytes, all that is needed read) does not wait for a whole run.
      this.sinkError = { error };
      (setTimeout(() => this.stop(), 2000) as unknown as NodeJS.Timeout).unref();
    }
  }

  /** Sends what is held, then the rest as it comes; resolves when the program has exited cleanly. */
  async readAsHead(sink: Sink): Promise<void> {
    this.sink = sink;
    for (const chunk of this.held.splice(0)) this.deliver(chunk);
    this.heldBytes = 0;
    const out = this.child.stdout!;
    const ended = new Promise<void>((resolve) => (out.readableEnded || out.destroyed ? resolve() : out.once('close', resolve)));
    out.resume();
    const code = await this.exited;
    await ended;
    if (code !== 0 && code !== null && !WRITE_FAILED.test(this.stderr)) throw new Error(bzip2ToolMessage(this.stderr, code));
    if (this.sinkError) throw this.sinkError.error;
    if (code !== 0) throw new Error(bzip2ToolMessage(this.stderr, code));
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }
}

// ---- a decoder program on PATH ------------------------------------------------------------------

/** At most LANES decoder programs run at once (one per core, at most 4: each holds buffers here); the rest wait their turn, first come first served. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          const nextWaiter = this.waiting.shift();
          if (nextWaiter) nextWaiter();
          else this.free++;
        });
      };
      if (this.free > 0) {
        this.free--;
        grant();
      } else this.waiting.push(grant);
    });
  }
  async run<T>(f: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await f();
    } finally {
      release();
    }
  }
}
const slots = new Slots(LANES);

/** A lock: calls run one after another. */
function oneAtATime(): <T>(f: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (f) => {
    const run = tail.then(f, f);
    tail = run.catch(() => {});
    return run;
  };
}

/** What a decoder program says when the reader of its output went away. */
const WRITE_FAILED = /write error|broken pipe|connection reset|EPIPE|cannot write/i;

/**
 * Runs a decoder program, feeding it `input`, or giving it an open file's descriptor (at offset 0)
 * to read by itself.
 */
async function runProgram(program: string, args: string[], input: AsyncIterable<Buffer> | number, sink: Sink, describe: (stderr: string, code: number | null) => string): Promise<void> {
    const child = childProcess().spawn(program, args, { stdio: [typeof input === 'number' ? input : 'pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s;
    });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`${program}: ${err.message}`)));
      child.on('close', (code) => resolve(code));
    });
    exited.catch(() => {});
    const stdin = child.stdin;
    // EPIPE when the decoder stops reading bad input: 'drain' then never comes, so a write that
    // waits for it also gives up when the pipe closes.
    stdin?.on('error', () => {});
    const pipeClosed = stdin ? new Promise<void>((r) => stdin.once('close', r)) : Promise.resolve();
    const feed = (async () => {
      if (typeof input === 'number' || !stdin) return;
      try {
        for await (const chunk of input) {
          if (stdin.destroyed) break;
          if (!stdin.write(chunk)) await Promise.race([new Promise((r) => stdin.once('drain', r)), pipeClosed]);
        }
      } finally {
        stdin.end();
      }
    })();
    feed.catch(() => {});
    let sinkFailed = false;
    try {
      for await (const chunk of child.stdout! as Readable) {
        try {
          sink(chunk as Buffer);
        } catch (err) {
          sinkFailed = true;
          throw err;
        }
      }
      await feed;
      const code = await exited;
      if (code !== 0) throw new Error(describe(stderr, code));
    } catch (err) {
      // The decoder's own verdict on the data explains a failure better than what followed it.
      // The decoder's own verdict on the data explains a failure better than what followed it
      // (the tar walker choking on the garbage it wrote), unless it only failed to write because
      // the sink stopped reading (--max-bytes, the end of what is needed).
      if (child.exitCode === null && !sinkFailed) child.kill();
      const code = await Promise.race([exited.catch(() => null), new Promise<null>((r) => (setTimeout(r, 2000) as unknown as NodeJS.Timeout).unref())]);
      if (child.exitCode === null) child.kill();
      if (code !== 0 && code !== null && stderr && !WRITE_FAILED.test(stderr)) throw new Error(describe(stderr, code));
      throw err;
    }
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

// ---- gzip (.tar.gz sdists and tarballs) -----------------------------------------------------------

/** gzip through Node's own zlib. */
export const gzip: Codec = {
  name: 'zlib',
  consumesSynchronously: false,
  decode: async (input, sink) => {
    const { createGunzip } = await import('node:zlib');
    const gunzip = createGunzip();
    let sinkError: { error: unknown } | null = null;
    const done = new Promise<void>((resolve, reject) => {
      gunzip.on('data', (chunk: Buffer) => {
        if (sinkError) return;
        try {
          sink(chunk);
        } catch (error) {
          sinkError = { error };
          gunzip.destroy();
          reject(error);
        }
      });
      gunzip.on('end', resolve);
      gunzip.on('error', (err: Error) =>
        reject(/unexpected end/i.test(err.message) ? new Error('truncated: the gzip stream ends early') : new Error(`corrupt gzip data: ${lowerFirst(err.message)}`)),
      );
    });
    done.catch(() => {});
    for await (const chunk of input) {
      if (sinkError || gunzip.destroyed) break;
      if (!gunzip.write(chunk)) await Promise.race([new Promise((r) => gunzip.once('drain', r)), done.catch(() => {})]);
    }
    if (!gunzip.destroyed) gunzip.end();
    await done;
  },
};
