// A zip read front to back, from a stream that cannot seek (stdin, a download from a server that
// ignores Range): local file headers in order, each member's bytes handed to a consumer, until
// the central directory starts. It needs each member's size in its local header, which conda
// (stored members) and wheel writers give; a member sized only after its data (flag bit 3) is
// refused with a plain reason rather than guessed at.
import yauzl from 'yauzl';
import { InputError } from '../types.js';

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const MAX_NAME = 0xffff;

export interface ZipMember {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
}

/** Receives a member and its (compressed) bytes as an async stream it must read to the end. */
export type MemberHandler = (member: ZipMember, data: AsyncIterable<Buffer>) => Promise<void>;

/** Pulls exact byte counts out of an async stream of chunks. */
class Pull {
  private buffered: Buffer[] = [];
  private length = 0;
  private readonly iter: AsyncIterator<Buffer>;
  private done = false;

  constructor(input: AsyncIterable<Buffer>) {
    this.iter = input[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async take(n: number): Promise<Buffer> {
    while (this.length < n && !this.done) {
      const next = await this.iter.next();
      if (next.done) this.done = true;
      else if (next.value.length) {
        this.buffered.push(next.value);
        this.length += next.value.length;
      }
    }
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.buffered = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  /** Up to `n` bytes: what is buffered, else the next chunk; empty only at the end. */
  async takeUpTo(n: number): Promise<Buffer> {
    if (!this.length && !this.done) {
      const next = await this.iter.next();
      if (next.done) this.done = true;
      else {
        this.buffered = [next.value];
        this.length = next.value.length;
      }
    }
    if (!this.length) return Buffer.alloc(0);
    const head = this.buffered[0]!;
    const part = head.subarray(0, Math.min(n, head.length));
    if (part.length === head.length) this.buffered.shift();
    else this.buffered[0] = head.subarray(part.length);
    this.length -= part.length;
    return part;
  }

  async drain(): Promise<void> {
    this.buffered = [];
    this.length = 0;
    await this.iter.return?.();
  }
}

/** A member's name decoded as yauzl decodes it (UTF-8 flag, Info-ZIP Unicode path, else CP437), so both ways of reading a zip name members alike. */
function memberName(flags: number, nameBytes: Buffer, extra: Buffer): string {
  let fields;
  try {
    fields = yauzl.parseExtraFields(extra);
  } catch (err) {
    throw new InputError(`corrupt zip: ${(err as Error).message}`);
  }
  return yauzl.getFileNameLowLevel(flags, nameBytes, fields, false);
}

function zip64Sizes(extra: Buffer, compressed: number, uncompressed: number): [number, number] {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const len = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      let p = at + 4;
      if (uncompressed === 0xffffffff && p + 8 <= at + 4 + len) {
        uncompressed = Number(extra.readBigUInt64LE(p));
        p += 8;
      }
      if (compressed === 0xffffffff && p + 8 <= at + 4 + len) compressed = Number(extra.readBigUInt64LE(p));
      break;
    }
    at += 4 + len;
  }
  return [compressed, uncompressed];
}

export async function readZipStream(input: AsyncIterable<Buffer>, onMember: MemberHandler): Promise<number> {
  const pull = new Pull(input);
  let members = 0;
  try {
    for (;;) {
      const sig = await pull.take(4);
      if (sig.length < 4) {
        if (!members) throw new InputError('truncated: not a complete zip');
        throw new InputError(`truncated: the zip ends after ${members} members, before its central directory`);
      }
      const signature = sig.readUInt32LE(0);
      if (signature === CENTRAL || signature === END) return members;
      if (signature !== LOCAL) throw new InputError(`corrupt zip: bad record signature 0x${signature.toString(16)} after ${members} members`);
      const h = await pull.take(26);
      if (h.length < 26) throw new InputError('truncated: the zip ends inside a local file header');
      const flags = h.readUInt16LE(2);
      const method = h.readUInt16LE(4);
      const nameLen = h.readUInt16LE(22);
      const extraLen = h.readUInt16LE(24);
      const nameBytes = await pull.take(Math.min(nameLen, MAX_NAME));
      const extra = await pull.take(extraLen);
      if (nameBytes.length < nameLen || extra.length < extraLen) throw new InputError('truncated: the zip ends inside a local file header');
      const name = memberName(flags, nameBytes, extra);
      if (flags & 0x8) throw new InputError(`cannot read this zip as a stream: ${name} is sized after its data (give the file itself, not a stream)`);
      if (flags & 0x1) throw new InputError(`encrypted zip member: ${name}`);
      const [compressedSize, uncompressedSize] = zip64Sizes(extra, h.readUInt32LE(14), h.readUInt32LE(18));
      members++;
      // The member's bytes, as an iterable the handler may abandon early (a tar's end): closing
      // it does not close the zip stream, and what it left unread is skipped below.
      let left = compressedSize;
      const data: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => ({
          next: async (): Promise<IteratorResult<Buffer>> => {
            if (left <= 0) return { done: true, value: undefined };
            const chunk = await pull.takeUpTo(Math.min(left, 1 << 20));
            if (!chunk.length) return { done: true, value: undefined };
            left -= chunk.length;
            return { done: false, value: chunk };
          },
          return: async (): Promise<IteratorResult<Buffer>> => ({ done: true, value: undefined }),
        }),
      };
      await onMember({ name, method, compressedSize, uncompressedSize }, data);
      while (left > 0) {
        const chunk = await pull.takeUpTo(Math.min(left, 1 << 20));
        if (!chunk.length) break;
        left -= chunk.length;
      }
      if (left > 0) throw new InputError(`truncated: the zip ends inside ${name} (${left} of ${compressedSize} bytes missing)`);
    }
  } finally {
    await pull.drain();
  }
}
