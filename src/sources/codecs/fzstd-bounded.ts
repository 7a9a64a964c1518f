// The pure-JavaScript zstd decoder (fzstd), for a Node without sound zstd in node:zlib (< 23.8) on a
// machine without the zstd program, made safe for hostile input.
//
// fzstd on its own allocates each frame's declared window (up to 2 GiB), copies the whole window
// once per block, and recurses once per frame within a chunk (a stream of thousands of tiny
// frames overflows the stack). So the stream is cut into frames here, by their headers and block
// headers, and each frame goes to its own fzstd decoder; a window above MAX_WINDOW is refused; a
// frame whose content size is known and smaller than its window is rewritten as single-segment
// (its window is then its size, as zstd allows); and the work the window copies cost is bounded
// by the bytes they produce.
import { createRequire } from 'node:module';
import type { Decoder } from './types.js';
import { NOT_ZSTD, TRUNCATED } from './zstd-frames.js';

const require = createRequire(import.meta.url);

/** zstd level 19 uses 8 MiB, level 22 (--ultra) 128 MiB; this decoder accepts up to 32 MiB. */
export const MAX_WINDOW = 32 << 20;
/** Window bytes copied per decoded byte allowed beyond a fixed allowance (8 MiB windows and full 128 KiB blocks cost 64). */
const WORK_PER_BYTE = 512;
const WORK_ALLOWANCE = 1 << 30;

const ZSTD_MAGIC = 0xfd2fb528;
const FZSTD_ERRORS = ['invalid data', 'window size too large', 'invalid block type', 'FSE accuracy too high', 'match distance too far back', 'unexpected end of data'];

const TOO_COSTLY =
  'zstd data too costly for the pure-JavaScript decoder (blocks or frames far smaller than their window): install the zstd program, or run on Node >= 24, which decodes zstd natively';

function corrupt(what: string): Error {
  return new Error(`corrupt zstd data: ${what}`);
}

type Decompressor = { push(chunk: Uint8Array, final?: boolean): void };

export const boundedFzstd: Decoder = async (input, sink) => {
  const { Decompress } = require('fzstd') as typeof import('fzstd');
  let sinkError: { error: unknown } | null = null;
  let produced = 0;
  let work = 0;
  let window = 0;
  const onData = (data: Uint8Array) => {
    if (sinkError || !data.length) return;
    produced += data.length;
    try {
      sink(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } catch (error) {
      sinkError = { error };
    }
  };
  let d: Decompressor | null = null;
  const push = (bytes: Uint8Array, final = false) => {
    try {
      d!.push(bytes, final);
    } catch (err) {
      if (sinkError) throw sinkError.error;
      const code = (err as { code?: number }).code;
      if (code === 5) throw new Error(TRUNCATED);
      throw corrupt(typeof code === 'number' && FZSTD_ERRORS[code] ? FZSTD_ERRORS[code]! : String((err as Error).message));
    }
    if (sinkError) throw sinkError.error;
  };

  type State = 'magic' | 'header' | 'skippable' | 'skip' | 'block' | 'body' | 'checksum';
  let state = 'magic' as State;
  let acc: Buffer = Buffer.alloc(0);
  let want = 4;
  let remaining = 0;
  let lastBlock = false;
  let checksum = false;

  let any = false;

  const startFrame = (header: Buffer) => {
    const fhd = header[4]!;
    const singleSegment = (fhd >> 5) & 1;
    const fcf = fhd >> 6;
    if (fhd & 8) throw corrupt('invalid data');
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = fcf ? 1 << fcf : singleSegment;
    const fcsAt = 5 + (singleSegment ? 0 : 1) + dictBytes;
    let size: number | null = null;
    if (fcsBytes) {
      size = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + header[fcsAt + i]!;
      if (fcf === 1) size += 256;
    }
    let frame = header;
    if (singleSegment) window = size!;
    else {
      const wd = header[5]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
      if (size !== null && fcf >= 1 && size < window) {
        // Same frame, single-segment: the window is the content size.
        frame = Buffer.concat([header.subarray(0, 4), Buffer.from([fhd | 0x20]), header.subarray(6)]);
        window = size;
      }
    }
    if (window > MAX_WINDOW) {
      throw new Error(
        `zstd window of ${Math.round(window / 2 ** 20)} MiB is more than the pure-JavaScript decoder accepts (${MAX_WINDOW >> 20} MiB): install the zstd program, or run on Node >= 24, which decodes zstd natively`,
      );
    }
    checksum = ((fhd >> 2) & 1) === 1;
    d = new Decompress(onData);
    charge();
    push(frame);
  };
  const charge = () => {
    work += window;
    if (work > WORK_ALLOWANCE + WORK_PER_BYTE * produced) throw new Error(TOO_COSTLY);
  };
  // Back to reading a frame's magic number: four bytes, whatever the last thing gathered was (a
  // skippable frame's header is eight; leaving `want` at 8 made the next take negative and the
  // reading position walk backwards, forever).
  const toMagic = () => {
    state = 'magic';
    want = 4;
  };
  const endFrame = () => {
    push(new Uint8Array(0), true);
    d = null;

    toMagic();
  };
  const afterBody = () => {
    if (!lastBlock) {
      state = 'block';
      want = 3;
    } else if (checksum) {
      state = 'checksum';
      remaining = 4;
    } else endFrame();
  };
  const gathered = (bytes: Buffer) => {
    acc = Buffer.alloc(0);
    if (state === 'magic') {
      const magic = bytes.readUInt32LE(0);
      if (magic === ZSTD_MAGIC) {
        state = 'header';
        want = 5;
        acc = bytes;
      } else if ((magic & 0xfffffff0) === 0x184d2a50) {
        state = 'skippable';
        want = 8;
        acc = bytes;
      } else throw new Error(NOT_ZSTD);
    } else if (state === 'skippable') {
      state = 'skip';
      remaining = bytes.readUInt32LE(4);
      if (!remaining) toMagic();
    } else if (state === 'header') {
      const fhd = bytes[4]!;
      const fcf = fhd >> 6;
      const singleSegment = (fhd >> 5) & 1;
      const length = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + (fcf ? 1 << fcf : singleSegment);
      if (bytes.length < length) {
        want = length;
        acc = bytes;
        return;
      }
      startFrame(bytes);
      state = 'block';
      want = 3;
    } else if (state === 'block') {
      const h = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16);
      const type = (h >> 1) & 3;
      if (type === 3) throw corrupt('invalid block type');
      lastBlock = (h & 1) === 1;
      remaining = type === 1 ? 1 : h >>> 3;
      charge();
      push(bytes);
      state = 'body';
      if (!remaining) afterBody();
    }
  };

  for await (const chunk of input) {
    if (!chunk.length) continue;
    any = true;
    let pos = 0;
    while (pos < chunk.length) {
      if (state === 'body' || state === 'skip' || state === 'checksum') {
        const take = Math.min(remaining, chunk.length - pos);
        if (state !== 'skip') push(chunk.subarray(pos, pos + take));
        pos += take;
        remaining -= take;
        if (remaining) continue;
        if (state === 'body') afterBody();
        else if (state === 'checksum') endFrame();
        else toMagic();
        continue;
      }
      const take = Math.min(want - acc.length, chunk.length - pos);
      // Never a step backwards or in place: a state error here must end the read, not loop.
      if (take <= 0) throw new Error(`zstd decoder state error (${state}, ${acc.length} of ${want} bytes)`);
      acc = Buffer.concat([acc, chunk.subarray(pos, pos + take)]);
      pos += take;
      if (acc.length === want) gathered(acc);
    }
  }
  if (!any) throw corrupt('empty stream');
  // As the zstd program judges the end (zstd-frames.ts): a partial magic number is no frame, a
  // frame or skippable frame cut short is truncated, skippable frames alone decode to nothing.
  if (state === 'magic' && acc.length) throw new Error(NOT_ZSTD);
  if (state !== 'magic') throw new Error(TRUNCATED);
};
