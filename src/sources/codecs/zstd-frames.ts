// The frame structure of a zstd stream, checked without decoding it: frame headers, block
// headers, skippable frames, checksums. node:zlib's zstd stops at the end of the last frame and
// ignores whatever follows it (garbage, a skippable frame cut short); the `zstd` program reads the
// whole input and rejects both. So that every decoder gives the same verdict, node:zlib's input
// goes through this check too, and the program's verdict is the rule (docs/security.md):
//   - fewer than 4 bytes where a frame's magic number belongs: "not a zstd frame" (corrupt);
//   - 4 or more bytes that are not a zstd or skippable magic number: corrupt;
//   - a frame or a skippable frame cut short: truncated;
//   - skippable frames only: no bytes, no error.
// Costs 3 bytes of parsing per block (blocks are up to 128 KiB).

const ZSTD_MAGIC = 0xfd2fb528;

export const TRUNCATED = 'truncated: the zstd stream ends before its frame does';
export const NOT_ZSTD = 'corrupt zstd data: not a zstd frame';

type State = 'magic' | 'skippable' | 'header' | 'skip' | 'block' | 'body' | 'checksum';

export class ZstdFrames {
  private state: State = 'magic';
  private acc: number[] = [];
  private want = 4;
  private remaining = 0;
  private lastBlock = false;
  private checksum = false;
  /** Frames (skippable ones included) seen whole. */
  frames = 0;

  /** Checks the next piece of the stream; throws an Error in plain words at the first fault. */
  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.state === 'body' || this.state === 'skip' || this.state === 'checksum') {
        const take = Math.min(this.remaining, chunk.length - pos);
        pos += take;
        this.remaining -= take;
        if (!this.remaining) this.afterSpan();
        continue;
      }
      while (this.acc.length < this.want && pos < chunk.length) this.acc.push(chunk[pos++]!);
      if (this.acc.length === this.want) this.gathered();
    }
  }

  /** The end of the stream: throws if it ends inside a frame. */
  end(): void {
    if (this.state === 'magic' && this.acc.length === 0) {
      if (!this.frames) throw new Error('corrupt zstd data: empty stream');
      return;
    }
    if (this.state === 'magic') throw new Error(NOT_ZSTD);
    throw new Error(TRUNCATED);
  }

  private toMagic(): void {
    this.state = 'magic';
    this.want = 4;
    this.frames++;
  }

  private afterSpan(): void {
    if (this.state === 'skip' || this.state === 'checksum') this.toMagic();
    else if (!this.lastBlock) {
      this.state = 'block';
      this.want = 3;
    } else if (this.checksum) {
      this.state = 'checksum';
      this.remaining = 4;
    } else this.toMagic();
  }

  private gathered(): void {
    const b = this.acc;
    this.acc = [];
    if (this.state === 'magic') {
      const magic = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      if (magic === ZSTD_MAGIC) {
        this.state = 'header';
        this.want = 5;
      } else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
        this.state = 'skippable';
        this.want = 8;
      } else throw new Error(NOT_ZSTD);
      this.acc = b;
    } else if (this.state === 'skippable') {
      this.remaining = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
      this.state = 'skip';
      if (!this.remaining) this.toMagic();
    } else if (this.state === 'header') {
      const fhd = b[4]!;
      if (fhd & 8) throw new Error('corrupt zstd data: invalid frame header');
      const fcf = fhd >> 6;
      const singleSegment = (fhd >> 5) & 1;
      const length = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + (fcf ? 1 << fcf : singleSegment);
      if (b.length < length) {
        this.want = length;
        this.acc = b;
        return;
      }
      this.checksum = ((fhd >> 2) & 1) === 1;
      this.state = 'block';
      this.want = 3;
    } else if (this.state === 'block') {
      const h = b[0]! | (b[1]! << 8) | (b[2]! << 16);
      const type = (h >> 1) & 3;
      if (type === 3) throw new Error('corrupt zstd data: invalid block type');
      this.lastBlock = (h & 1) === 1;
      this.remaining = type === 1 ? 1 : h >>> 3;
      this.state = 'body';
      if (!this.remaining) this.afterSpan();
    }
  }
}

/** The frame structure of a whole zstd stream held in memory (throws as ZstdFrames does). */
export function checkZstdFrames(bytes: Uint8Array): void {
  const f = new ZstdFrames();
  f.push(bytes);
  f.end();
}

/**
 * A zstd decoder's input, passed through as it is read and its frames checked behind it; after a
 * sink's StopRead the rest is read and checked (never decoded) by `rest()`. Closing the iteration
 * early (a decoder's `break`) leaves the source open for `rest()`.
 */
export class CheckedZstdInput implements AsyncIterable<Buffer> {
  private readonly frames = new ZstdFrames();
  private readonly source: AsyncIterator<Buffer>;
  private fault: unknown = null;
  private ended = false;
  private inflight: Promise<IteratorResult<Buffer>> | null = null;

  constructor(input: AsyncIterable<Buffer>) {
    this.source = input[Symbol.asyncIterator]();
  }

  private async next(): Promise<IteratorResult<Buffer>> {
    if (this.inflight) await this.inflight.catch(() => {});
    if (this.ended) return { done: true, value: undefined };
    this.inflight = this.source.next();
    const r = await this.inflight;
    this.inflight = null;
    if (r.done) this.ended = true;
    else if (this.fault === null) {
      // Checked as it passes (no copy: a reader may reuse its buffer); a fault waits for rest().
      try {
        this.frames.push(r.value);
      } catch (err) {
        this.fault = err;
      }
    }
    return r;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.next(), return: async () => ({ done: true, value: undefined }) };
  }

  /** Closes the source (a reader's file or download) unless it was read to its end. */
  async close(): Promise<void> {
    if (this.inflight) await this.inflight.catch(() => {});
    if (!this.ended) {
      this.ended = true;
      await this.source.return?.();
    }
  }

  /** Reads what is left and checks it; throws the first fault of the whole stream, if any. */
  async rest(): Promise<void> {
    while (!(await this.next()).done && this.fault === null);
    if (this.fault !== null) throw this.fault;
    this.frames.end();
  }
}
