// Block-parallel bzip2: one .tar.bz2 decoded on every core by several `bzip2 -dc` at once.
//
// A bzip2 stream is a 4-byte header ("BZh" and the block size), blocks that each start with the
// 48-bit magic 0x314159265359 followed by the block's CRC, and an end-of-stream marker
// 0x177245385090 followed by the stream CRC, which folds the block CRCs. Blocks are independent
// and not byte-aligned. This module finds every block (`mapBlocks`), cuts them into runs of whole
// blocks, re-wraps each run as a standalone stream (`writeRun`: the run's bits shifted to follow
// a fresh header, and an end-of-stream marker whose CRC is folded from the run's block CRCs).
// Each `bzip2 -dc` then verifies every block's CRC against the data it decodes. A false magic
// match inside compressed data is caught before anything is decoded: the fold of the CRCs found
// must equal the stream CRC the file ends with; if it does not, or the file is anything but one
// well-formed stream, the caller decodes it whole, as before.
import type { FileHandle } from 'node:fs/promises';

const BLOCK_MAGIC = 0x314159265359;
const END_MAGIC = 0x177245385090;
const SCAN_CHUNK = 1 << 20;

export interface Block {
  /** Bit offset of the block magic from the start of the file. */
  bit: number;
  crc: number;
}

export interface BlockMap {
  /** The header's block-size digit, '1'..'9'. */
  level: number;
  blocks: Block[];
  /** Bit offset of the end-of-stream marker. */
  endBit: number;
}

export interface Run {
  startBit: number;
  endBit: number;
  crc: number;
}

/** Folds block CRCs the way bzip2 computes its stream CRC. */
export function foldCrcs(crcs: Iterable<number>): number {
  let combined = 0;
  for (const crc of crcs) combined = (((combined << 1) | (combined >>> 31)) ^ crc) >>> 0;
  return combined;
}

/** For a magic starting `shift` bits into a byte: the 5 whole bytes after that byte, and masks for the partial bytes around them. */
function needles(magic: number) {
  return Array.from({ length: 8 }, (_, shift) => {
    const bytes = Buffer.alloc(8);
    // the 48-bit magic at bits [shift, shift + 48) of 8 bytes, most significant bit first
    const v = BigInt(magic) << BigInt(16 - shift);
    bytes.writeBigUInt64BE(v);
    return { shift, whole: bytes.subarray(1, 6), first: bytes[0]!, firstMask: 0xff >> shift, last: bytes[6]!, lastMask: (0xff00 >> shift) & 0xff };
  });
}
const BLOCK_NEEDLES = needles(BLOCK_MAGIC);

/** 32 bits starting at bit offset `bit` of `buf` (which must hold them). */
function read32(buf: Buffer, bit: number): number {
  const byte = bit >>> 3;
  const shift = bit & 7;
  const hi = buf.readUInt32BE(byte);
  if (!shift) return hi;
  return ((hi << shift) | (buf[byte + 4]! >>> (8 - shift))) >>> 0;
}

/** Offsets (bits, within `buf`) where `magic` starts, in any bit alignment, with 4 bytes after it in `buf`. */
function find(buf: Buffer, table: ReturnType<typeof needles>, from: number): number[] {
  const hits: number[] = [];
  for (const n of table) {
    for (let i = buf.indexOf(n.whole, Math.max(1, from)); i !== -1; i = buf.indexOf(n.whole, i + 1)) {
      const at = i - 1; // the byte the magic starts in
      if (at + Math.ceil((n.shift + 80) / 8) > buf.length) break; // the magic and the CRC after it must be in this buffer
      if ((buf[at]! & n.firstMask) !== (n.first & n.firstMask)) continue;
      if (n.shift && (buf[i + 5]! & n.lastMask) !== (n.last & n.lastMask)) continue;
      hits.push(at * 8 + n.shift);
    }
  }
  return hits;
}

/**
 * Every block of a one-stream bzip2 file, or null when the file is not exactly one well-formed
 * stream (bad header, truncated, several streams, trailing bytes, a CRC fold that disagrees).
 * The end-of-stream marker is looked for only where it must be, in the file's last 11 bytes: a
 * match of its pattern inside compressed data does not matter.
 */
export async function mapBlocks(handle: FileHandle): Promise<BlockMap | null> {
  const { size } = await handle.stat();
  if (size < 4 + 10) return null;
  const tail = Buffer.alloc(16);
  const tailStart = size - 12;
  if ((await handle.read(tail, 0, 12, tailStart)).bytesRead !== 12) return null;
  // The marker and its CRC (80 bits), then 0-7 bits of padding to a whole byte.
  const ends: Block[] = [];
  for (let pad = 0; pad < 8; pad++) {
    const at = 12 * 8 - 80 - pad;
    if (read48(tail, at) === END_MAGIC) ends.push({ bit: tailStart * 8 + at, crc: read32(tail, at + 48) });
  }
  if (ends.length !== 1) return null;
  const end = ends[0]!;
  const overlap = 16;
  const buf = Buffer.allocUnsafe(SCAN_CHUNK + overlap);
  const blocks: Block[] = [];
  let level = 0;
  let base = 0; // file offset of buf[0]
  let kept = 0; // bytes at the start of buf carried over from the previous read
  for (;;) {
    const { bytesRead } = await handle.read(buf, kept, SCAN_CHUNK, base + kept);
    const len = kept + bytesRead;
    const view = buf.subarray(0, len);
    if (base === 0) {
      if (len < 4 || view.toString('latin1', 0, 3) !== 'BZh' || view[3]! < 0x31 || view[3]! > 0x39) return null;
      level = view[3]! - 0x30;
    }
    for (const bit of find(view, BLOCK_NEEDLES, 0)) blocks.push({ bit: base * 8 + bit, crc: read32(view, bit + 48) });
    if (base + len >= size || bytesRead === 0) break;
    // Carry the tail over: a magic and its CRC may straddle the boundary (found twice, deduplicated).
    buf.copyWithin(0, len - overlap, len);
    base += len - overlap;
    kept = overlap;
  }
  dedupe(blocks);
  if (!blocks.length || blocks[0]!.bit !== 32 || blocks[blocks.length - 1]!.bit > end.bit) return null;
  if (foldCrcs(blocks.map((b) => b.crc)) !== end.crc) return null;
  return { level, blocks, endBit: end.bit };
}

/** 48 bits starting at bit offset `bit` of `buf` (which must hold them), as a number. */
function read48(buf: Buffer, bit: number): number {
  return read32(buf, bit) * 0x10000 + (read32(buf, bit + 16) & 0xffff);
}

function dedupe(list: Block[]): void {
  list.sort((a, b) => a.bit - b.bit);
  for (let i = list.length - 1; i > 0; i--) if (list[i]!.bit === list[i - 1]!.bit) list.splice(i, 1);
}

/** Cuts the blocks into runs of about `targetBytes` of compressed data each. */
export function cutRuns(map: BlockMap, targetBytes: number): Run[] {
  const runs: Run[] = [];
  const target = targetBytes * 8;
  let first = 0;
  for (let i = 1; i <= map.blocks.length; i++) {
    const startBit = map.blocks[first]!.bit;
    const endBit = i < map.blocks.length ? map.blocks[i]!.bit : map.endBit;
    if (endBit - startBit >= target || i === map.blocks.length) {
      runs.push({ startBit, endBit, crc: foldCrcs(map.blocks.slice(first, i).map((b) => b.crc)) });
      first = i;
    }
  }
  return runs;
}

/** Compressed bytes `writeRun` reads, shifts and hands on at a time. */
export const PIECE_BYTES = 256 << 10;

/**
 * A run of blocks as a standalone bzip2 stream: the header, the run's bits read from the open file
 * and shifted to follow it, then an end-of-stream marker with the run's CRC. Handed to `write` a
 * piece at a time, in two buffers reused in turn: `write` must be done with a piece when the
 * promise it returns resolves (the next piece is made meanwhile). The whole run is never held (a
 * run may be any size).
 */
export async function writeRun(handle: FileHandle, level: number, run: Run, write: (piece: Buffer) => Promise<void>, pieceBytes = PIECE_BYTES): Promise<void> {
  const from = run.startBit >>> 3;
  const shift = run.startBit & 7;
  const bits = run.endBit - run.startBit;
  const whole = bits >>> 3; // whole bytes of the run, once shifted
  const span = Math.ceil(run.endBit / 8) - from; // bytes of the file the run touches
  const src = Buffer.allocUnsafe(pieceBytes + 2);
  // Two buffers in turn: the next piece is read and shifted while the last one is being written.
  const outs = [Buffer.allocUnsafe(pieceBytes + 16), Buffer.allocUnsafe(pieceBytes + 16)];
  let out = outs[0]!;
  let writing: Promise<void> = Promise.resolve();
  const send = async (piece: Buffer) => {
    await writing;
    writing = write(piece);
    writing.catch(() => {}); // seen by the next send, or awaited at the end
  };
  out.write(`BZh${level}`, 0, 'latin1');
  let fill = 4;
  // Reads file bytes [from + at, from + at + n), and up to `extra` more when the file has them
  // (zeros past the run's last byte: they are shifted into bits that are cut off).
  const readSrc = async (at: number, n: number, extra: number) => {
    const want = Math.min(n + extra, span - at);
    if (want > 0) {
      const { bytesRead } = await handle.read(src, 0, want, from + at);
      if (bytesRead !== want) throw new Error(`file shrank while being read (short read at offset ${from + at})`);
    }
    src.fill(0, Math.max(0, want), n + extra);
  };
  for (let j = 0; j < whole; ) {
    const n = Math.min(pieceBytes - fill, whole - j);
    await readSrc(j, n, 1);
    if (shift) shiftBytes(src, out, fill, n, shift);
    else src.copy(out, fill, 0, n);
    fill += n;
    j += n;
    if (j < whole) {
      await send(out.subarray(0, fill));
      out = out === outs[0] ? outs[1]! : outs[0]!;
      fill = 0;
    }
  }
  // The last partial byte of the run, then the end-of-stream marker and the run's CRC, bit by bit.
  out.fill(0, fill, fill + 12);
  const w = new BitWriter(out, fill * 8);
  const rest = bits & 7;
  if (rest) {
    await readSrc(whole, 1, 1);
    w.put((((src[0]! << shift) | (src[1]! >>> (8 - shift))) & 0xff) >>> (8 - rest), rest);
  }
  w.put(Math.floor(END_MAGIC / 2 ** 24), 24);
  w.put(END_MAGIC & 0xffffff, 24);
  w.put(run.crc >>> 16, 16);
  w.put(run.crc & 0xffff, 16);
  await send(out.subarray(0, Math.ceil(w.at / 8)));
  await writing;
}

/** out[at + j] = the byte at bit `shift` of src[j..j+1], for j < n (src holds n + 1 bytes); four bytes at a time. */
function shiftBytes(src: Buffer, out: Buffer, at: number, n: number, shift: number): void {
  const from = new DataView(src.buffer, src.byteOffset, src.length);
  const to = new DataView(out.buffer, out.byteOffset, out.length);
  const back = 8 - shift;
  const words = n & ~3;
  let j = 0;
  for (; j < words; j += 4) to.setUint32(at + j, ((from.getUint32(j) << shift) | (src[j + 4]! >>> back)) >>> 0);
  for (; j < n; j++) out[at + j] = ((src[j]! << shift) | (src[j + 1]! >>> back)) & 0xff;
}

class BitWriter {
  constructor(
    private readonly out: Buffer,
    private bit: number,
  ) {}
  get at(): number {
    return this.bit;
  }
  /** Writes the low `n` bits of `value` (n ≤ 24), most significant first. */
  put(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      if ((value >>> i) & 1) this.out[this.bit >>> 3] = this.out[this.bit >>> 3]! | (0x80 >>> (this.bit & 7));
      this.bit++;
    }
  }
}
