// A tar parser as a state machine over chunks. It never keeps a reference to a chunk it is given
// (what it keeps, it copies), so a decoder may hand it the same output buffer over and over.
// Member bodies it does not want are skipped by arithmetic, not copied.
//
// Handles ustar (name + prefix), pax extended headers ('x' path/linkpath/size/mtime, 'g'
// ignored), GNU long names ('L'/'K'), hard links (type '1', to an earlier member), base-256
// sizes, and checks every header's checksum. Untrusted input: every size is bounded before
// anything is allocated for it, and a member name longer than PATH_MAX is refused.

const BLOCK = 512;
/** pax and GNU long-name bodies are read whole; a larger one is not a real archive. */
const MAX_META_BODY = 1 << 20;
/** The longest member name accepted: Linux's PATH_MAX. No file system could hold a longer one. */
export const MAX_NAME_BYTES = 4096;

export class TarError extends Error {}

const NOTHING = Buffer.alloc(0);

/** Sees a member's body as it streams past; must not keep a reference to the chunks it is given. */
export interface BodyObserver {
  update(chunk: Buffer): void;
}

/**
 * What to do with a member's body: a number of bytes to keep (0: skip it, and the sink never hears
 * of the member), or a plan, which always reaches the sink (kept bytes and an observer optional).
 */
export type KeepDecision = number | { keep: number; observer: BodyObserver | null };
export type KeepPolicy = (path: string, size: number) => KeepDecision;
/** `mtime`: the member's modification time in whole seconds (pax mtime truncated), null if absent. */
export type MemberSink = (path: string, size: number, kept: Buffer, mtime: number | null) => void;
/** A hard link: `path` has the content of the earlier member `target`. */
export type LinkSink = (path: string, target: string, mtime: number | null) => void;

type State =
  | { kind: 'header' }
  | {
      kind: 'body';
      path: string;
      size: number;
      mtime: number | null;
      remaining: number;
      keep: number;
      kept: Buffer[];
      keptLen: number;
      meta: Meta;
      keepMember: boolean;
      observer: BodyObserver | null;
    }
  | { kind: 'padding'; remaining: number }
  | { kind: 'end' };

type Meta = 'pax' | 'longname' | 'longlink' | null;

function parseOctal(buf: Buffer, start: number, len: number): number {
  // base-256 (GNU): high bit of the first byte set; sizes past 8 GiB.
  if (buf[start]! & 0x80) {
    let value = buf[start]! & 0x7f;
    for (let i = 1; i < len; i++) value = value * 256 + buf[start + i]!;
    return value;
  }
  let value = 0;
  let seen = false;
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c === 0 || (c === 0x20 && seen)) break;
    if (c === 0x20) continue;
    if (c < 0x30 || c > 0x37) return NaN;
    value = value * 8 + (c - 0x30);
    seen = true;
  }
  return seen ? value : 0;
}

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

function checksumOk(h: Buffer): boolean {
  const stored = parseOctal(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number(body.toString('latin1', at, space));
    if (!Number.isInteger(len) || len <= 0 || at + len > body.length) break;
    const record = body.toString('utf8', space + 1, at + len - 1); // drop the trailing "\n"
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

/** A member name, refused when longer than any file system allows (a cheap way to exhaust memory). */
function nameWithin(name: string): string {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new TarError(`corrupt tar: a member name of ${Buffer.byteLength(name)} bytes (the limit is ${MAX_NAME_BYTES}, PATH_MAX)`);
  return name;
}

export class TarWalker {
  private state: State = { kind: 'header' };
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private zeroBlocks = 0;
  private pending: { path?: string; size?: number; mtime?: number; longname?: string; linkpath?: string } = {};
  private lastPath = '';

  constructor(
    private readonly keep: KeepPolicy,
    private readonly sink: MemberSink,
    private readonly onLink: LinkSink | null = null,
  ) {}

  /** The end-of-archive blocks have been read: nothing after them belongs to the archive. */
  get finished(): boolean {
    return this.state.kind === 'end';
  }

  /** Consumes `chunk` completely; keeps no reference to it. */
  write(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0;
    while (at < buf.length) {
      const s = this.state;
      switch (s.kind) {
        case 'end':
          return; // trailing zero padding after the end-of-archive blocks
        case 'header': {
          const n = Math.min(BLOCK - this.headerFill, buf.length - at);
          buf.copy(this.header, this.headerFill, at, at + n);
          this.headerFill += n;
          at += n;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            this.onHeader();
          }
          break;
        }
        case 'body': {
          const n = Math.min(s.remaining, buf.length - at);
          if (s.keptLen < s.keep) {
            const take = Math.min(n, s.keep - s.keptLen);
            s.kept.push(Buffer.from(buf.subarray(at, at + take))); // copy: the chunk is not ours
            s.keptLen += take;
          }
          if (s.observer && n) s.observer.update(buf.subarray(at, at + n));
          s.remaining -= n;
          at += n;
          if (s.remaining === 0) this.finishBody(s);
          break;
        }
        case 'padding': {
          const n = Math.min(s.remaining, buf.length - at);
          s.remaining -= n;
          at += n;
          if (s.remaining === 0) this.state = { kind: 'header' };
          break;
        }
      }
    }
  }

  /** Call at the end of input: throws if the archive stopped inside a header or a member. */
  end(): void {
    const s = this.state;
    if (s.kind === 'end') return;
    if (s.kind === 'header' && this.headerFill === 0) return; // stopped between members
    if (s.kind === 'body') throw new TarError(`truncated: the tar archive ends inside ${s.path || 'a member'} (${s.remaining} of ${s.size} bytes missing)`);
    if (s.kind === 'padding') return; // padding of the last member only
    throw new TarError(`truncated: the tar archive ends inside a header${this.lastPath ? ` (after ${this.lastPath})` : ''}`);
  }

  private onHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      if (++this.zeroBlocks >= 2) this.state = { kind: 'end' };
      return;
    }
    this.zeroBlocks = 0;
    if (!checksumOk(h)) {
      throw new TarError(`corrupt tar header${this.lastPath ? ` after ${this.lastPath}` : ' at the start'}: checksum mismatch`);
    }
    const type = String.fromCharCode(h[156]!);
    let size = parseOctal(h, 124, 12);
    if (!Number.isFinite(size) || size < 0) throw new TarError(`corrupt tar header after ${this.lastPath || 'the start'}: bad size field`);
    const pax = this.pending;
    this.pending = {};
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META_BODY) throw new TarError(`corrupt tar: a ${type === 'x' || type === 'g' ? 'pax' : 'long-name'} header of ${size} bytes`);
      const meta = type === 'x' ? 'pax' : type === 'L' ? 'longname' : type === 'K' ? 'longlink' : null;
      // Keep what came before this extension header (a pax header may follow a long name).
      this.pending = pax;
      this.startBody('', size, null, type === 'g' ? 0 : size, meta, false, null);
      return;
    }
    let path = pax.path ?? pax.longname;
    if (path === undefined) {
      const name = cString(h, 0, 100);
      const ustar = h.toString('latin1', 257, 262) === 'ustar';
      const prefix = ustar && h[345] !== 0 ? cString(h, 345, 155) : '';
      path = prefix ? `${prefix}/${name}` : name;
    }
    if (pax.size !== undefined) size = pax.size;
    const mtimeField = parseOctal(h, 136, 12);
    const mtime = pax.mtime ?? (Number.isFinite(mtimeField) ? mtimeField : null);
    path = path.replace(/^(\.\/)+/, '');
    this.lastPath = path;
    if (type === '1') {
      // A hard link carries no body (a size field on one is skipped): the content is the target's.
      const target = (pax.linkpath ?? cString(h, 157, 100)).replace(/^(\.\/)+/, '');
      this.onLink?.(path, target, mtime);
      this.startBody(path, size, mtime, 0, null, false, null);
      return;
    }
    const isFile = type === '0' || type === '\0' || type === '7';
    // The sink hears only of members the policy wants (a 0-byte .pyc included); links,
    // directories and devices carry no body in practice, and a size field on them is skipped.
    const decision = isFile ? this.keep(path, size) : 0;
    if (typeof decision === 'number') this.startBody(path, size, mtime, Math.min(decision, size), null, decision > 0, null);
    else this.startBody(path, size, mtime, Math.min(decision.keep, size), null, true, decision.observer);
  }

  private startBody(
    path: string,
    size: number,
    mtime: number | null,
    keep: number,
    meta: Meta,
    keepMember: boolean,
    observer: BodyObserver | null,
  ): void {
    const s: State = { kind: 'body', path, size, mtime, remaining: size, keep, kept: [], keptLen: 0, meta, keepMember, observer };
    if (size === 0) this.finishBody(s);
    else this.state = s;
  }

  private finishBody(s: Extract<State, { kind: 'body' }>): void {
    const kept = s.kept.length === 1 ? s.kept[0]! : s.kept.length ? Buffer.concat(s.kept) : NOTHING;
    if (s.meta === 'pax') {
      const fields = parsePax(kept);
      const p = fields.get('path');
      const link = fields.get('linkpath');
      const sz = fields.get('size');
      const mt = Number(fields.get('mtime'));
      if (p !== undefined) this.pending.path = nameWithin(p);
      if (link !== undefined) this.pending.linkpath = nameWithin(link);
      // pax mtime is decimal seconds with an optional fraction; CPython compares int(st_mtime).
      if (Number.isFinite(mt)) this.pending.mtime = Math.trunc(mt);
      if (sz !== undefined) {
        const n = Number(sz);
        if (!Number.isSafeInteger(n) || n < 0) throw new TarError('corrupt tar: bad size in a pax header');
        this.pending.size = n;
      }
    } else if (s.meta === 'longname') {
      this.pending.longname = nameWithin(kept.toString('utf8').replace(/\0+$/, ''));
    } else if (s.meta === 'longlink') {
      this.pending.linkpath = nameWithin(kept.toString('utf8').replace(/\0+$/, ''));
    } else if (s.keepMember) {
      this.sink(s.path, s.size, kept, s.mtime);
    }
    const pad = (BLOCK - (s.size % BLOCK)) % BLOCK;
    this.state = pad ? { kind: 'padding', remaining: pad } : { kind: 'header' };
  }
}
