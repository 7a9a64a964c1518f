// Building small archives byte by byte for tests: ustar headers, stored zips, zstd frames.

/** A ustar header (checksum filled in). `base256` writes the size in GNU base-256 form. */
export function tarHeader(name: string, size: number, type = '0', opts: { prefix?: string; base256?: boolean } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  if (opts.base256) {
    h[124] = 0x80;
    h.writeUIntBE(size, 130, 6);
  } else {
    h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  }
  h.write('14533431060\0', 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  if (opts.prefix) h.write(opts.prefix, 345, 155, 'utf8');
  return resumTarHeader(h);
}

/** Recomputes the (unsigned) checksum of a tar header, after it was built or edited by hand. */
export function resumTarHeader(h: Buffer): Buffer {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip of stored (uncompressed) members, each with the given DOS time and date (0: none). */
export function zipOf(members: Record<string, Buffer> | { name: string; data: Buffer }[], dos: { time?: number; date?: number } = {}): Buffer {
  const list = Array.isArray(members) ? members : Object.entries(members).map(([name, data]) => ({ name, data }));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of list) {
    const name = Buffer.from(m.name);
    const crc = crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(dos.time ?? 0, 10);
    local.writeUInt16LE(dos.date ?? 0, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(m.data.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(dos.time ?? 0, 12);
    central.writeUInt16LE(dos.date ?? 0, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(m.data.length, 20);
    central.writeUInt32LE(m.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, m.data);
    centrals.push(central, name);
    offset += 30 + name.length + m.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(list.length, 8);
  end.writeUInt16LE(list.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A zip of one stored (uncompressed) member. */
export function storedZip(memberName: string, data: Buffer): Buffer {
  return zipOf([{ name: memberName, data }]);
}

/**
 * A zstd frame built by hand: `raw` as raw blocks, then `zeros` bytes as RLE blocks (4 bytes of
 * frame per 128 KiB of output): a gigabyte of output from 32 KiB.
 */
export function zstdFrame(raw: Buffer, zeros = 0): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])]; // magic; no size, no checksum; window 128 KiB
  const block = (type: number, size: number, last: boolean) => {
    const v = (last ? 1 : 0) | (type << 1) | (size << 3);
    return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
  };
  const MAX = 128 << 10;
  for (let at = 0; at < raw.length; at += MAX) {
    const piece = raw.subarray(at, at + MAX);
    parts.push(block(0, piece.length, zeros === 0 && at + MAX >= raw.length), piece);
  }
  for (let left = zeros; left > 0; left -= MAX) {
    const n = Math.min(MAX, left);
    parts.push(block(1, n, left <= MAX), Buffer.from([0]));
  }
  return Buffer.concat(parts);
}


/**
 * A zstd frame of raw blocks and RLE runs in the order given: `{ byte, count }` is `count` copies
 * of one byte for 4 bytes of frame per 128 KiB, so long repetitive members cost almost nothing.
 */
export function zstdRuns(parts: (Buffer | { byte: number; count: number })[]): Buffer {
  const out: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  const MAX = 128 << 10;
  const blocks: [number, number, Buffer][] = [];
  for (const part of parts) {
    if (Buffer.isBuffer(part)) {
      for (let at = 0; at < part.length; at += MAX) {
        const piece = part.subarray(at, at + MAX);
        blocks.push([0, piece.length, piece]);
      }
    } else {
      for (let left = part.count; left > 0; left -= MAX) blocks.push([1, Math.min(MAX, left), Buffer.from([part.byte])]);
    }
  }
  blocks.forEach(([type, size, body], i) => {
    const v = (i === blocks.length - 1 ? 1 : 0) | (type << 1) | (size << 3);
    out.push(Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]), body);
  });
  return Buffer.concat(out);
}

/** A zip whose central directory lists its one stored member `copies` times (all at offset 0). */
export function overlappingZip(memberName: string, data: Buffer, copies: number): Buffer {
  const one = storedZip(memberName, data);
  const name = Buffer.from(memberName);
  const localLength = 30 + name.length + data.length;
  const central = one.subarray(localLength, localLength + 46 + name.length);
  const end = Buffer.from(one.subarray(one.length - 22));
  end.writeUInt16LE(copies, 8);
  end.writeUInt16LE(copies, 10);
  end.writeUInt32LE(central.length * copies, 12);
  return Buffer.concat([one.subarray(0, localLength), ...Array.from({ length: copies }, () => central), end]);
}
