// Decoding the fixed header at the start of a .pyc file. Pure: bytes in, fields out.
//
//   before 3.3   magic(2) "\r\n" mtime(4)                            8 bytes
//   3.3 - 3.6    magic(2) "\r\n" mtime(4) source size(4)            12 bytes
//   3.7 +        magic(2) "\r\n" flags(4) then either                16 bytes
//                  flags = 0: mtime(4) source size(4)
//                  flags bit 0 set: source hash(8); bit 1 = check_source
// Python 1.0-1.2 wrote a plain 4-byte word (0x00999902, 0x00999903) instead of magic + "\r\n".

export const HEADER_BYTES = 16;

export type PycKind = 'timestamp' | 'unchecked-hash' | 'checked-hash';

export interface PycHeader {
  magic: number;
  /** Header length for the magic's era: 8, 12 or 16. */
  headerSize: 8 | 12 | 16;
  kind: PycKind;
  /** PEP 552 flags (3.7+). */
  flags: number | null;
  /** Source modification time (seconds, mod 2**32) for timestamp pycs. */
  mtime: number | null;
  /** Source size mod 2**32 (3.3+ timestamp pycs). */
  sourceSize: number | null;
  /** SipHash of the source as 16 hex digits (hash-based pycs). */
  sourceHash: string | null;
}

export type HeaderResult = { ok: true; header: PycHeader } | { ok: false; magic: number | null; reason: string };

/** Magics of Python 1.0-1.2, whose bytes 2-3 are 0x99 0x00 rather than "\r\n". */
const WORD_MAGICS = new Set([0x9902, 0x9903]);
const PREFIX_1_0 = Buffer.from([0x99, 0x00]);

/**
 * The header size of a magic's era. CPython 3 numbers are 3000 and up (3.n starts at 2900 + 50n):
 * 3210 (3.3a1) added the source size, 3392 (3.7a4, PEP 552) the flags word. Python 1.x/2.x
 * numbers (5892, 11913, 20121 ... 62211) have the 8-byte header whatever their value; `version`,
 * from the magic table, tells them apart. Other implementations follow the language version.
 */
export function headerSizeFor(magic: number, version?: string, implementation = 'CPython'): 8 | 12 | 16 {
  const major = version ? Number(version.split('.')[0]) : magic >= 3000 && magic < 10000 ? 3 : 2;
  if (major !== 3) return 8;
  if (implementation !== 'CPython' && version) {
    const minor = Number(version.split('.')[1]);
    return minor >= 7 ? 16 : minor >= 3 ? 12 : 8;
  }
  return magic >= 3392 ? 16 : magic >= 3210 ? 12 : 8;
}

/**
 * Decode the first bytes of a .pyc. `head` is at most the first 16 bytes. `size` is the header
 * size of the magic's era when the caller knows better than the CPython numbering (PyPy).
 */
export function decodeHeader(head: Uint8Array, size?: 8 | 12 | 16): HeaderResult {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (buf.length < 4) {
    return { ok: false, magic: buf.length >= 2 ? buf.readUInt16LE(0) : null, reason: `${buf.length} bytes: shorter than any .pyc header` };
  }
  const magic = buf.readUInt16LE(0);
  const wordEra = WORD_MAGICS.has(magic) && buf.subarray(2, 4).equals(PREFIX_1_0);
  if (!wordEra && (buf[2] !== 0x0d || buf[3] !== 0x0a)) {
    return { ok: false, magic, reason: `bytes 2-3 are ${hex(buf.subarray(2, 4))}, not \\r\\n: not a .pyc header` };
  }
  size ??= headerSizeFor(magic);
  if (buf.length < size) {
    return { ok: false, magic, reason: `${buf.length} bytes: shorter than the ${size}-byte header of its era` };
  }
  if (size === 8) {
    return { ok: true, header: { magic, headerSize: 8, kind: 'timestamp', flags: null, mtime: buf.readUInt32LE(4), sourceSize: null, sourceHash: null } };
  }
  if (size === 12) {
    return { ok: true, header: { magic, headerSize: 12, kind: 'timestamp', flags: null, mtime: buf.readUInt32LE(4), sourceSize: buf.readUInt32LE(8), sourceHash: null } };
  }
  const flags = buf.readUInt32LE(4);
  if (flags & ~0b11) {
    return { ok: false, magic, reason: `unknown PEP 552 flag bits 0x${flags.toString(16)}` };
  }
  if (!(flags & 1)) {
    // Not hash-based (bit 1, check_source, means nothing without bit 0: CPython validates the timestamp).
    return { ok: true, header: { magic, headerSize: 16, kind: 'timestamp', flags, mtime: buf.readUInt32LE(8), sourceSize: buf.readUInt32LE(12), sourceHash: null } };
  }
  return {
    ok: true,
    header: { magic, headerSize: 16, kind: flags & 2 ? 'checked-hash' : 'unchecked-hash', flags, mtime: null, sourceSize: null, sourceHash: hex(buf.subarray(8, 16)) },
  };
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
