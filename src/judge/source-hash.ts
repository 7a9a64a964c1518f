// The source hash a checked-hash .pyc (PEP 552) carries: CPython's _imp.source_hash, computed
// incrementally so a .py member can be hashed as it streams past, never held whole. Pure.
//
//   key   = the .pyc's 4 magic bytes read as a little-endian u32 (importlib's _RAW_MAGIC_NUMBER),
//           used as SipHash k0 with k1 = 0 (Python/pyhash.c, _Py_KeyedHash)
//   rounds = SipHash-2-4 up to 3.11a1, SipHash-1-3 from 3.11a2 on (pyhash.c at v3.11.0a2)
//   digest = the 64-bit result as 8 little-endian bytes, as the .pyc header stores it
//
// 64-bit words are kept as two unsigned 32-bit halves: JavaScript numbers hold 53 bits exactly, and
// BigInt arithmetic allocates a number per operation.

export type SipRounds = '2-4' | '1-3';

export class SourceHasher {
  // v0..v3 as (high, low) pairs
  private a0 = 0; private b0 = 0;
  private a1 = 0; private b1 = 0;
  private a2 = 0; private b2 = 0;
  private a3 = 0; private b3 = 0;
  private readonly tail = new Uint8Array(8);
  private tailLength = 0;
  private length = 0;
  private readonly c: number;
  private readonly d: number;

  constructor(key: number, readonly rounds: SipRounds) {
    [this.c, this.d] = rounds === '2-4' ? [2, 4] : [1, 3];
    const k0lo = key >>> 0;
    this.a0 = 0x736f6d65; this.b0 = (0x70736575 ^ k0lo) >>> 0;
    this.a1 = 0x646f7261; this.b1 = 0x6e646f6d;
    this.a2 = 0x6c796765; this.b2 = (0x6e657261 ^ k0lo) >>> 0;
    this.a3 = 0x74656462; this.b3 = 0x79746573;
  }

  private compress(mHi: number, mLo: number, rounds: number): void {
    let a0 = this.a0, b0 = this.b0, a1 = this.a1, b1 = this.b1, a2 = this.a2, b2 = this.b2;
    let a3 = (this.a3 ^ mHi) >>> 0, b3 = (this.b3 ^ mLo) >>> 0;
    for (let r = 0; r < rounds; r++) {
      let lo: number, t: number;
      // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
      lo = (b0 + b1) >>> 0; a0 = (a0 + a1 + (lo < b0 ? 1 : 0)) >>> 0; b0 = lo;
      t = a1; a1 = ((a1 << 13) | (b1 >>> 19)) >>> 0; b1 = ((b1 << 13) | (t >>> 19)) >>> 0;
      a1 = (a1 ^ a0) >>> 0; b1 = (b1 ^ b0) >>> 0;
      t = a0; a0 = b0; b0 = t;
      // v2 += v3; v3 = rotl(v3, 16) ^ v2
      lo = (b2 + b3) >>> 0; a2 = (a2 + a3 + (lo < b2 ? 1 : 0)) >>> 0; b2 = lo;
      t = a3; a3 = ((a3 << 16) | (b3 >>> 16)) >>> 0; b3 = ((b3 << 16) | (t >>> 16)) >>> 0;
      a3 = (a3 ^ a2) >>> 0; b3 = (b3 ^ b2) >>> 0;
      // v0 += v3; v3 = rotl(v3, 21) ^ v0
      lo = (b0 + b3) >>> 0; a0 = (a0 + a3 + (lo < b0 ? 1 : 0)) >>> 0; b0 = lo;
      t = a3; a3 = ((a3 << 21) | (b3 >>> 11)) >>> 0; b3 = ((b3 << 21) | (t >>> 11)) >>> 0;
      a3 = (a3 ^ a0) >>> 0; b3 = (b3 ^ b0) >>> 0;
      // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
      lo = (b2 + b1) >>> 0; a2 = (a2 + a1 + (lo < b2 ? 1 : 0)) >>> 0; b2 = lo;
      t = a1; a1 = ((a1 << 17) | (b1 >>> 15)) >>> 0; b1 = ((b1 << 17) | (t >>> 15)) >>> 0;
      a1 = (a1 ^ a2) >>> 0; b1 = (b1 ^ b2) >>> 0;
      t = a2; a2 = b2; b2 = t;
    }
    this.a0 = (a0 ^ mHi) >>> 0; this.b0 = (b0 ^ mLo) >>> 0;
    this.a1 = a1; this.b1 = b1; this.a2 = a2; this.b2 = b2; this.a3 = a3; this.b3 = b3;
  }

  /** Feeds bytes; keeps no reference to `chunk`. */
  update(chunk: Uint8Array): void {
    this.length += chunk.length;
    let at = 0;
    const tail = this.tail;
    if (this.tailLength) {
      while (this.tailLength < 8 && at < chunk.length) tail[this.tailLength++] = chunk[at++]!;
      if (this.tailLength < 8) return;
      this.word(tail, 0);
      this.tailLength = 0;
    }
    const end = chunk.length - 8;
    for (; at <= end; at += 8) this.word(chunk, at);
    while (at < chunk.length) tail[this.tailLength++] = chunk[at++]!;
  }

  private word(buf: Uint8Array, at: number): void {
    const lo = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
    const hi = (buf[at + 4]! | (buf[at + 5]! << 8) | (buf[at + 6]! << 16) | (buf[at + 7]! << 24)) >>> 0;
    this.compress(hi, lo, this.c);
  }

  /** The hash as 16 hex digits of its 8 little-endian bytes (how header.ts shows a .pyc's hash). */
  digest(): string {
    const last = new Uint8Array(8);
    last.set(this.tail.subarray(0, this.tailLength));
    last[7] = this.length & 0xff;
    const lo = (last[0]! | (last[1]! << 8) | (last[2]! << 16) | (last[3]! << 24)) >>> 0;
    const hi = (last[4]! | (last[5]! << 8) | (last[6]! << 16) | (last[7]! << 24)) >>> 0;
    this.compress(hi, lo, this.c);
    this.b2 = (this.b2 ^ 0xff) >>> 0;
    this.compress(0, 0, this.d);
    const out = Buffer.alloc(8);
    out.writeUInt32LE((this.b0 ^ this.b1 ^ this.b2 ^ this.b3) >>> 0, 0);
    out.writeUInt32LE((this.a0 ^ this.a1 ^ this.a2 ^ this.a3) >>> 0, 4);
    return out.toString('hex');
  }
}

/** The source hash CPython would store for `source` under a .pyc magic (the 2-byte number). */
export function sourceHash(magic: number, rounds: SipRounds, source: Uint8Array): string {
  const h = new SourceHasher(rawMagic(magic), rounds);
  h.update(source);
  return h.digest();
}

/** The 4 magic bytes (number + "\r\n") as a little-endian u32: the SipHash key. */
export function rawMagic(magic: number): number {
  return ((magic & 0xffff) | (0x0a0d << 16)) >>> 0;
}

/** The key of a source hash in SourceMember.hashes. */
export function hashKey(magic: number, rounds: SipRounds): string {
  return `${magic}/${rounds}`;
}

/** Sources to hash on a second read: path -> the magics of the checked-hash .pyc that need them. */
export type HashRequest = ReadonlyMap<string, readonly number[]>;

/** A checked-hash .pyc (PEP 552 flags 0b11 in a 16-byte header): its magic, else null. */
export function checkedHashMagic(head: Buffer): number | null {
  if (head.length < 16 || head[2] !== 0x0d || head[3] !== 0x0a) return null;
  return head.readUInt32LE(4) === 3 ? head.readUInt16LE(0) : null;
}
