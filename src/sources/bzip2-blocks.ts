// Block-parallel bzip2: one .tar.bz2 decoded on every core by several `bzip2 -dc` at once.
//
// A bzip2 stream is a 4-byte header ("BZh" and the block size), blocks that each start with the
// 48-bit magic 0x314159265359 followed by the block's CRC, and an end-of-stream marker
// 0x177245385090 followed by the stream CRC, which folds the block CRCs. Blocks are independent
// and not byte-aligned. This module finds every block (`mapBlocks`), cuts them into runs of whole
// blocks, re-wraps each run as a standalone stream (`wrapRun`: the run's bits shifted to follow
// a fresh header, and an end-of-stream marker whose CRC is folded from the run's block CRCs).
// Each `bzip2 -dc` then verifies every block's CRC against the data it decodes. A false magic
// match inside compressed data is caught before anything is decoded: the fold of the CRCs found
// must equal the stream CRC the file ends with; if it does not, or the file is anything but one
// well-formed stream, the caller decodes it whole, as before.
import type { FileHandle } from 'node:fs/promises';

const BLOCK_MAGIC = 0x314159265359;
const END_MAGIC = 0x177245385090;
const SCAN_CHUNK = 4 << 20;

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
const END_NEEDLES = needles(END_MAGIC);

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
 */
export async function mapBlocks(handle: FileHandle): Promise<BlockMap | null> {
  const { size } = await handle.stat();
  const overlap = 16;
  const buf = Buffer.allocUnsafe(SCAN_CHUNK + overlap);
  const blocks: Block[] = [];
  const ends: Block[] = [];
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
    const at = (table: ReturnType<typeof needles>, into: Block[]) => {
      for (const bit of find(view, table, 0)) into.push({ bit: base * 8 + bit, crc: read32(view, bit + 48) });
    };
    at(BLOCK_NEEDLES, blocks);
    at(END_NEEDLES, ends);
    if (base + len >= size || bytesRead === 0) break;
    // Carry the tail over: a magic and its CRC may straddle the boundary (found twice, deduplicated).
    buf.copyWithin(0, len - overlap, len);
    base += len - overlap;
    kept = overlap;
  }
  dedupe(blocks);
  dedupe(ends);
  if (ends.length !== 1 || !blocks.length) return null;
  const end = ends[0]!;
  if (blocks[0]!.bit !== 32 || blocks[blocks.length - 1]!.bit > end.bit) return null;
  // One stream, nothing after it: the marker and CRC (80 bits), then padding to a whole byte.
  if (Math.ceil((end.bit + 80) / 8) !== size) return null;
  if (foldCrcs(blocks.map((b) => b.crc)) !== end.crc) return null;
  return { level, blocks, endBit: end.bit };
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

/** Reads a run's bits from the open file and returns it as a standalone bzip2 stream. */
export async function wrapRun(handle: FileHandle, level: number, run: Run): Promise<Buffer> {
  const from = run.startBit >>> 3;
  const to = Math.ceil(run.endBit / 8);
  const src = Buffer.allocUnsafe(to - from + 1);
  const { bytesRead } = await handle.read(src, 0, to - from, from);
  if (bytesRead !== to - from) throw new Error(`file shrank while being read (short read at offset ${from})`);
  src[to - from] = 0;
  const bits = run.endBit - run.startBit;
  const out = Buffer.alloc(4 + Math.ceil((bits + 80) / 8));
  out.write(`BZh${level}`, 0, 'latin1');
  const shift = run.startBit & 7;
  const whole = bits >>> 3;
  if (shift) for (let j = 0; j < whole; j++) out[4 + j] = ((src[j]! << shift) | (src[j + 1]! >>> (8 - shift))) & 0xff;
  else src.copy(out, 4, 0, whole);
  // The last partial byte of the run, then the end-of-stream marker and the run's CRC, bit by bit.
  const w = new BitWriter(out, (4 + whole) * 8);
  const rest = bits & 7;
  if (rest) {
    const v = (((src[whole]! << shift) | (src[whole + 1]! >>> (8 - shift))) & 0xff) >>> (8 - rest);
    w.put(v, rest);
  }
  w.put(Math.floor(END_MAGIC / 2 ** 24), 24);
  w.put(END_MAGIC & 0xffffff, 24);
  w.put(run.crc >>> 16, 16);
  w.put(run.crc & 0xffff, 16);
  return out;
}

class BitWriter {
  constructor(
    private readonly out: Buffer,
    private bit: number,
  ) {}
  /** Writes the low `n` bits of `value` (n ≤ 24), most significant first. */
  put(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      if ((value >>> i) & 1) this.out[this.bit >>> 3] = this.out[this.bit >>> 3]! | (0x80 >>> (this.bit & 7));
      this.bit++;
    }
  }
}
