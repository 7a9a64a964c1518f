// Streaming decoders: zstd (.conda), bzip2 (.tar.bz2), gzip (.tar.gz). Each reads compressed chunks from
// `input` and calls `sink` with decompressed chunks; a chunk is valid only during that call. Each
// rejects with an Error that says, in plain words, what is wrong with the data.
//
// Which decoder runs is decided once per process (measurements: docs/performance.md):
//   zstd:  node:zlib (libzstd on libuv's thread pool, where node:zlib has zstd that reports a
//          frame cut short: Node >= 23.8 / 24; zlib-decoders.ts)
//          > the `zstd` program on PATH > fzstd (pure JavaScript, bounded: fzstd-bounded.ts)
//   bzip2: lbzip2 / pbzip2 on PATH (multi-threaded) > bzip2 on PATH, a big file cut into runs of
//          blocks decoded by several `bzip2 -dc` at once (bzip2-runs.ts) > unbzip2-stream (pure JavaScript)
// The programs, how many run at once and what their complaints mean: decoder-programs.ts.
// PYC_AUDIT_ZSTD=zlib|tool|js and PYC_AUDIT_BZIP2=tool|js|PROGRAM force a choice; a forced decoder
// this machine does not have is an error (DecoderUnavailable), never a silent fallback.
import { createRequire } from 'node:module';
import { CORES } from '../../run/cores.js';
import type { FileHandle } from 'node:fs/promises';
import { StopRead, type Codec, type Decoder, type Sink } from './types.js';
import { CheckedZstdInput } from './zstd-frames.js';
import type { Duplex } from 'node:stream';
import { decodeRuns } from './bzip2-runs.js';
import { bzip2ToolMessage, type Command, LANES, largeWrites, onPath, oneAtATime, runProgram, slots, zstdToolMessage } from './decoder-programs.js';
import { boundedFzstd } from './fzstd-bounded.js';
import { zlib, zlibZstd, zlibZstdIsSound } from './zlib-decoders.js';
export { gzip } from './zlib-decoders.js';

// Modules load when chosen: every module costs start-up time, in the main thread and again in
// each reader thread.
const require = createRequire(import.meta.url);

export type { Codec, Decoder, Sink } from './types.js';
export { StopRead } from './types.js';

/** A decoder forced by PYC_AUDIT_ZSTD / PYC_AUDIT_BZIP2 that this machine does not have, or a bad value. */
export class DecoderUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecoderUnavailable';
  }
}

// ---- finding what this machine has ------------------------------------------------------------

/** node:zlib decodes zstd (from Node 22.15 / 23.8 on) and says when a frame is cut short (not Node 22's). */
export function zlibHasZstd(): boolean {
  return zlibZstdIsSound();
}

function zlibZstdLack(): string {
  return typeof zlib().createZstdDecompress === 'function'
    ? `this Node (${process.version}) has zstd in node:zlib that does not report a frame cut short (Node >= 23.8 does)`
    : `this Node (${process.version}) has no zstd in node:zlib (Node >= 23.8 has)`;
}


let zstdCodec: Codec | undefined;
let bzip2Codec: Codec | undefined;

export function zstd(): Codec {
  if (zstdCodec) return zstdCodec;
  const forced = process.env.PYC_AUDIT_ZSTD || undefined;
  if (forced && !['zlib', 'tool', 'js'].includes(forced)) throw new DecoderUnavailable(`PYC_AUDIT_ZSTD=${forced}: expected zlib, tool or js`);
  if (forced === 'zlib' && !zlibHasZstd()) throw new DecoderUnavailable(`PYC_AUDIT_ZSTD=zlib: ${zlibZstdLack()}`);
  if (forced === 'tool' && !onPath('zstd')) throw new DecoderUnavailable('PYC_AUDIT_ZSTD=tool: no zstd program on PATH');
  if (forced === 'zlib' || (!forced && zlibHasZstd())) {
    zstdCodec = { name: 'node:zlib', decode: judgedToTheEnd(zlibZstd), consumesSynchronously: true, offThread: true };
  } else if (forced === 'tool' || (!forced && onPath('zstd'))) {
    zstdCodec = { name: 'zstd (program)', decode: judgedToTheEnd(zstdTool), consumesSynchronously: false, offThread: true };
  } else {
    zstdCodec = { name: 'fzstd (JavaScript)', decode: judgedToTheEnd(boundedFzstd), consumesSynchronously: false, offThread: false };
  }
  return zstdCodec;
}

/** The `zstd` program; no input at all is "empty stream", as the in-process decoders say (the program says "unexpected end"). */
const zstdTool: Decoder = async (input, sink) => {
  let any = false;
  const counted = (async function* () {
    for await (const chunk of input) {
      if (chunk.length) any = true;
      yield chunk;
    }
  })();
  try {
    await slots.run(() => runProgram('zstd', ['-dc'], counted, sink, zstdToolMessage));
  } catch (err) {
    if (!any && !(err instanceof StopRead)) throw new Error('corrupt zstd data: empty stream');
    throw err;
  }
};

/**
 * One verdict whatever the decoder (docs/security.md): a sink that stops at a tar's end leaves the
 * rest of the stream undecoded, but its frames are still read and checked to the end, as the zstd
 * program would judge them: a tail of garbage or a frame cut short is an error with every decoder.
 */
export function judgedToTheEnd(decode: Decoder): Decoder {
  return async (input, sink) => {
    const checked = new CheckedZstdInput(input);
    try {
      await decode(checked, sink);
    } catch (err) {
      if (err instanceof StopRead && err.checkRest) await checked.rest();
      throw err;
    } finally {
      await checked.close();
    }
  };
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
    bzip2Codec = { name: 'unbzip2-stream (JavaScript)', decode: jsBzip2, consumesSynchronously: false, offThread: false };
    return bzip2Codec;
  }
  // lbzip2 and pbzip2 use every core for one stream: running two at once only makes them fight,
  // so they take turns (docs/performance.md).
  const multithreaded = /^(lbzip2|pbzip2)$/.test(tool);
  const flags = tool === 'lbzip2' ? ['-dc', '-n', String(CORES)] : tool === 'pbzip2' ? ['-dc', `-p${CORES}`] : ['-dc'];
  const turns = multithreaded ? oneAtATime() : <T>(f: () => Promise<T>) => f();
  const run = runBytes();
  const blockParallel = !multithreaded && CORES > 1 && run > 0;
  // lbzip2 and pbzip2 write large pieces by themselves; bzip2 is given a larger output buffer.
  let command: Command | undefined;
  const cmd = (): Command => (command ??= multithreaded ? { command: tool, args: flags } : largeWrites(tool, flags));
  const whole = (file: FileHandle, sink: Sink) => turns(() => slots.run(() => runProgram(cmd().command, cmd().args, file.fd, sink, bzip2ToolMessage)));
  bzip2Codec = {
    name: `${tool} (program${blockParallel ? `, block-parallel ×${LANES}` : ''})`,
    decode: (input, sink) => turns(() => slots.run(() => runProgram(cmd().command, cmd().args, input, sink, bzip2ToolMessage))),
    decodeFile: blockParallel ? (file, sink) => decodeRuns(cmd(), file, run, sink, whole) : whole,
    consumesSynchronously: false,
    offThread: true,
  };
  return bzip2Codec;
}

/** Every zstd decoder this machine has, by the name PYC_AUDIT_ZSTD gives it (for tests that compare them). */
export function zstdDecoders(): Record<string, Decoder> {
  const all: Record<string, Decoder> = { js: judgedToTheEnd(boundedFzstd) };
  if (zlibHasZstd()) all.zlib = judgedToTheEnd(zlibZstd);
  if (onPath('zstd')) all.tool = judgedToTheEnd(zstdTool);
  return all;
}

/** What this machine decodes with, for `pyc-audit --version --verbose`. Throws DecoderUnavailable. */
export function decoderReport(): string[] {
  return [`zstd: ${zstd().name}`, `bzip2: ${bzip2().name}`, `gzip: node:zlib`, `cores: ${CORES} (decoder programs and reader threads at once)`];
}

// ---- bzip2 --------------------------------------------------------------------------------------

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

