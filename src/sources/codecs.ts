// Streaming decoders: zstd (.conda), bzip2 (.tar.bz2), gzip (.tar.gz). Each reads compressed chunks from
// `input` and calls `sink` with decompressed chunks; a chunk is valid only during that call (the
// fastest decoders reuse one output buffer). Each rejects with an Error that says, in plain
// words, what is wrong with the data.
//
// Which decoder runs is decided once per process, fastest first (measurements: docs/performance.md):
//   zstd:  zstd-napi (libzstd in-process; an optional dependency built at install)
//          > the `zstd` program on PATH > fzstd (pure JavaScript)
//   bzip2: lbzip2 / pbzip2 / bzip2 on PATH > unbzip2-stream (pure JavaScript)
// PYC_AUDIT_ZSTD=napi|tool|js and PYC_AUDIT_BZIP2=tool|js|PROGRAM force a choice.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Readable, Duplex } from 'node:stream';

// The fallbacks load when chosen: every module costs start-up time, in the main thread and again
// in each reader thread, and a machine with zstd-napi needs neither child_process nor fzstd.
const require = createRequire(import.meta.url);
const childProcess = () => require('node:child_process') as typeof import('node:child_process');

export type Sink = (chunk: Buffer) => void;
export type Decoder = (input: AsyncIterable<Buffer>, sink: Sink) => Promise<void>;
export interface Codec {
  name: string;
  decode: Decoder;
  /** Decodes a whole file by itself (a program given the path: no input passes through Node). */
  decodeFile?: (path: string, sink: Sink) => Promise<void>;
  /** It is done with each input chunk before asking for the next, so the reader may reuse one buffer. */
  consumesSynchronously: boolean;
}

// ---- finding what this machine has ------------------------------------------------------------

function onPath(program: string): boolean {
  return childProcess().spawnSync(program, ['--help'], { stdio: 'ignore', timeout: 5000 }).error === undefined;
}

interface ZstdBinding {
  DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number]; reset(directive: number): void };
  ResetDirective: { sessionOnly: number };
}

function loadZstdNapi(): ZstdBinding | null {
  try {
    return require('zstd-napi/binding') as ZstdBinding;
  } catch {
    return null;
  }
}

let zstdCodec: Codec | undefined;
let bzip2Codec: Codec | undefined;

export function zstd(): Codec {
  if (zstdCodec) return zstdCodec;
  const forced = process.env.PYC_AUDIT_ZSTD;
  const napi = forced === 'tool' || forced === 'js' ? null : loadZstdNapi();
  if (napi) zstdCodec = { name: 'zstd-napi', decode: napiZstd(napi), consumesSynchronously: true };
  else if (forced !== 'js' && forced !== 'napi' && onPath('zstd')) {
    zstdCodec = { name: 'zstd (program)', decode: (input, sink) => runProgram('zstd', ['-dc'], input, sink, zstdToolMessage), consumesSynchronously: false };
  }
  else zstdCodec = { name: 'fzstd', decode: fzstd, consumesSynchronously: false };
  return zstdCodec;
}

export function bzip2(): Codec {
  if (bzip2Codec) return bzip2Codec;
  const forced = process.env.PYC_AUDIT_BZIP2;
  const candidates = forced === 'js' ? [] : forced && forced !== 'tool' ? [forced] : ['lbzip2', 'pbzip2', 'bzip2'];
  const tool = candidates.find(onPath);
  if (!tool) {
    bzip2Codec = { name: 'unbzip2-stream', decode: jsBzip2, consumesSynchronously: false };
    return bzip2Codec;
  }
  // lbzip2 and pbzip2 use every core for one stream: running two at once only makes them fight
  // (4 big .tar.bz2 here: 4.5 s one at a time, 6.3 s two at a time), so they take turns.
  const multithreaded = /^(lbzip2|pbzip2)$/.test(tool);
  const threads = availableParallelism();
  const flags = tool === 'lbzip2' ? ['-dc', '-n', String(threads)] : tool === 'pbzip2' ? ['-dc', `-p${threads}`] : ['-dc'];
  const turns = multithreaded ? oneAtATime() : <T>(f: () => Promise<T>) => f();
  bzip2Codec = {
    name: `${tool} (program)`,
    decode: (input, sink) => turns(() => runProgram(tool, flags, input, sink, bzip2ToolMessage)),
    decodeFile: (path, sink) => turns(() => runProgram(tool, [...flags, '--', path], null, sink, bzip2ToolMessage)),
    consumesSynchronously: false,
  };
  return bzip2Codec;
}

// ---- zstd ---------------------------------------------------------------------------------------

const OUT_SIZE = 1 << 20;
const EMPTY = Buffer.alloc(0);

function napiZstd(binding: ZstdBinding): Decoder {
  // Contexts and output buffers are reused: a context holds the frame's window (8 MiB at level
  // 19), and allocating it anew per tarball fragments the heap. One pair per concurrent decode.
  type Slot = { dctx: InstanceType<ZstdBinding['DCtx']>; out: Buffer };
  const free: Slot[] = [];
  return async (input, sink) => {
    const slot = free.pop() ?? { dctx: new binding.DCtx(), out: Buffer.allocUnsafe(OUT_SIZE) };
    slot.dctx.reset(binding.ResetDirective.sessionOnly);
    try {
      await decodeWith(slot, input, sink);
    } finally {
      free.push(slot);
    }
  };
  async function decodeWith({ dctx, out }: Slot, input: AsyncIterable<Buffer>, sink: Sink): Promise<void> {
    let hint = 1; // ZSTD_decompressStream returns 0 once a frame is complete and flushed
    let any = false;
    const step = (src: Buffer): number => {
      let produced: number;
      let consumed: number;
      let next: number;
      try {
        [next, produced, consumed] = dctx.decompressStream(out, src);
        // A call with nothing to do at a frame boundary asks for the next frame's header: not news.
        if (produced || consumed) hint = next;
      } catch (err) {
        throw new Error(`corrupt zstd data: ${lowerFirst((err as Error).message)}`);
      }
      if (produced) sink(out.subarray(0, produced));
      return src === EMPTY ? produced : consumed;
    };
    for await (const chunk of input) {
      if (!chunk.length) continue;
      any = true;
      let src = chunk;
      while (src.length) src = src.subarray(step(src));
      // Output the context still holds when `out` filled up.
      while (step(EMPTY) === OUT_SIZE);
    }
    if (!any) throw new Error('corrupt zstd data: empty stream');
    if (hint !== 0) throw new Error('truncated: the zstd stream ends before its frame does');
  }
}

const FZSTD_ERRORS = ['invalid data', 'window size too large', 'invalid block type', 'FSE accuracy too high', 'match distance too far back', 'unexpected end of data'];

const fzstd: Decoder = async (input, sink) => {
  // Errors of the sink (the tar walker, a stop signal) pass through untouched; only fzstd's own
  // are reworded.
  let sinkError: { error: unknown } | null = null;
  const { Decompress } = require('fzstd') as typeof import('fzstd');
  const d = new Decompress((data) => {
    if (sinkError || !data.length) return;
    try {
      sink(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } catch (error) {
      sinkError = { error };
    }
  });
  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      d.push(chunk, final);
    } catch (err) {
      if (sinkError) throw sinkError.error;
      const code = (err as { code?: number }).code;
      if (code === 5) throw new Error('truncated: the zstd stream ends before its frame does');
      const what = typeof code === 'number' && FZSTD_ERRORS[code] ? FZSTD_ERRORS[code] : lowerFirst((err as Error).message);
      throw new Error(`corrupt zstd data: ${what}`);
    }
    if (sinkError) throw sinkError.error;
  };
  let any = false;
  for await (const chunk of input) {
    if (!chunk.length) continue;
    any = true;
    push(chunk, false);
  }
  if (!any) throw new Error('corrupt zstd data: empty stream');
  push(new Uint8Array(0), true);
};

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

// ---- a decoder program on PATH ------------------------------------------------------------------

/** A lock: calls run one after another. */
function oneAtATime(): <T>(f: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (f) => {
    const run = tail.then(f, f);
    tail = run.catch(() => {});
    return run;
  };
}

/** Runs a decoder program, feeding it `input` (or nothing: it reads a file named in `args`). */
async function runProgram(program: string, args: string[], input: AsyncIterable<Buffer> | null, sink: Sink, describe: (stderr: string, code: number | null) => string): Promise<void> {
    const child = childProcess().spawn(program, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
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
      if (!input || !stdin) return;
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
    try {
      for await (const chunk of child.stdout! as Readable) sink(chunk as Buffer);
      await feed;
      const code = await exited;
      if (code !== 0) throw new Error(describe(stderr, code));
    } catch (err) {
      // The decoder's own verdict on the data explains a failure better than what followed it.
      if (child.exitCode === null) child.kill();
      const code = await exited.catch(() => null);
      if (code !== 0 && code !== null && stderr) throw new Error(describe(stderr, code));
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
