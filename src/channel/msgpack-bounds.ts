// A msgpack document's shape checked before it is decoded: @msgpack/msgpack bounds the length of
// each string, array and map, but not how deep they nest nor how many values there are in all,
// so 6 KB of zstd (200 MiB of 0x91, arrays nested one inside the next) took V8's heap. This walks
// the headers only (payloads are skipped, nothing is allocated) and refuses a document nested
// deeper than `maxDepth` or holding more than `maxValues` values. Pure.

export interface MsgpackBounds {
  maxDepth: number;
  maxValues: number;
}

/** Throws an Error with a plain reason when `bytes` breaks the bounds or ends early. */
export function checkMsgpack(bytes: Uint8Array, bounds: MsgpackBounds): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Values still to read at each open level (the top level: one document).
  const pending: number[] = [1];
  let pos = 0;
  let values = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new Error('the document ends early');
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4));
  const skip = (n: number) => {
    need(n);
    pos += n;
  };
  const open = (count: number) => {
    if (count === 0) return;
    if (pending.length >= bounds.maxDepth) throw new Error(`nested more than ${bounds.maxDepth} deep`);
    pending.push(count);
  };
  while (pending.length) {
    if (pending[pending.length - 1] === 0) {
      pending.pop();
      continue;
    }
    pending[pending.length - 1]!--;
    if (++values > bounds.maxValues) throw new Error(`more than ${bounds.maxValues} values`);
    const b = u8();
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue; // fixint, nil, bool
    if (b >= 0x80 && b <= 0x8f) open((b & 0x0f) * 2);
    else if (b >= 0x90 && b <= 0x9f) open(b & 0x0f);
    else if (b >= 0xa0 && b <= 0xbf) skip(b & 0x1f);
    else
      switch (b) {
        case 0xc4: skip(u8()); break; // bin 8
        case 0xc5: skip(u16()); break;
        case 0xc6: skip(u32()); break;
        case 0xc7: skip(u8() + 1); break; // ext 8 (type byte)
        case 0xc8: skip(u16() + 1); break;
        case 0xc9: skip(u32() + 1); break;
        case 0xca: skip(4); break; // float 32
        case 0xcb: skip(8); break;
        case 0xcc: case 0xd0: skip(1); break;
        case 0xcd: case 0xd1: skip(2); break;
        case 0xce: case 0xd2: skip(4); break;
        case 0xcf: case 0xd3: skip(8); break;
        case 0xd4: skip(2); break; // fixext 1
        case 0xd5: skip(3); break;
        case 0xd6: skip(5); break;
        case 0xd7: skip(9); break;
        case 0xd8: skip(17); break;
        case 0xd9: skip(u8()); break; // str 8
        case 0xda: skip(u16()); break;
        case 0xdb: skip(u32()); break;
        case 0xdc: open(u16()); break; // array 16
        case 0xdd: open(u32()); break;
        case 0xde: open(u16() * 2); break; // map 16
        case 0xdf: open(u32() * 2); break;
        default: throw new Error(`byte 0x${b.toString(16)} at ${pos - 1} begins no msgpack value`);
      }
  }
  if (pos !== bytes.length) throw new Error(`${bytes.length - pos} bytes after the document`);
}
