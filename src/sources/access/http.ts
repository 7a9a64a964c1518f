// http(s):// artifacts: an access path, nothing more. The first request asks for the last 64 KiB:
// if the server honours Range and the tail ends a zip (a .conda, a wheel), the zip is read with
// range requests (its central directory from the tail, then each member it needs), so a .conda
// is never downloaded whole; anything else, or a server that ignores Range, is read front to
// back as it downloads. Every request carries the idle timeout (--timeout) and the artifact's
// deadline (--deadline); a body is read only as far as the bytes asked for, and every body the
// reader stops reading is cancelled. Content-Encoding is refused: the bytes are the artifact's.
import { streamBytes, SNIFF_BYTES, type ArtifactBytes, type RandomAccess } from './access.js';
import { readBytes } from '../formats/read-bytes.js';
import { netFetch } from './net.js';
import type { ScanOptions } from '../formats/tar-members.js';
import { InputError, type ArtifactEntries } from '../types.js';

export interface HttpOptions {
  /** Seconds without a byte (connecting, or between chunks) before giving up. */
  timeoutSeconds: number;
  /** Seconds the whole read of the artifact may take. */
  deadlineSeconds: number;
  scan: ScanOptions;
}

/**
 * The suffix asked for first: the central directory of any package fits in it, and so does the
 * zip reader's own search for the end record (yauzl reads its 22 bytes, a comment of up to
 * 65,535 and a zip64 locator's 20 before it), so no byte of the tail is asked for again.
 */
export const TAIL_BYTES = 20 + 22 + 0xffff;

/** A response whose body is read at most as far as asked, and always cancelled when left. */
interface Got {
  response: Response;
  body: AsyncIterable<Buffer>;
  cancel: () => Promise<void>;
}

interface GetOptions {
  /** Byte range asked for: [start, end) or the last `suffix` bytes. */
  range?: { start: number; end: number } | { suffix: number };
  /** Accept what Content-Encoding the server chooses (the caller judges it). */
  anyEncoding?: boolean;
  /** Headers sent as given. */
  headers?: Record<string, string>;
}

/** One read of one URL: its requests share a deadline. */
class Download {
  private readonly deadline = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly url: string,
    private readonly timeoutSeconds: number,
    deadlineSeconds: number,
  ) {
    this.timer = setTimeout(() => this.deadline.abort(new InputError(`timed out: not complete after ${deadlineSeconds} s (--deadline)`)), deadlineSeconds * 1000);
    this.timer.unref(); // a watchdog, never a reason to keep the process alive
  }

  /** Responses not yet cancelled: close() ends them (a read that stopped early leaves none open). */
  private readonly open = new Set<() => Promise<void>>();

  close(): void {
    clearTimeout(this.timer);
    for (const cancel of this.open) void cancel();
  }

  /** The one place a request is made. */
  private request(headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    return netFetch(this.url, { headers, redirect: 'follow', signal });
  }

  async get(options: GetOptions = {}): Promise<Got> {
    const controller = new AbortController();
    const onDeadline = () => controller.abort(this.deadline.signal.reason);
    if (this.deadline.signal.aborted) throw this.deadline.signal.reason as Error;
    this.deadline.signal.addEventListener('abort', onDeadline);
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new InputError(`timed out: no data for ${this.timeoutSeconds} s`)), this.timeoutSeconds * 1000);
      idle.unref();
    };
    let stream: ReadableStream<Uint8Array> | null = null;
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    let cancelled = false;
    const cancel = async () => {
      if (cancelled) return;
      cancelled = true;
      this.open.delete(cancel);
      clearTimeout(idle);
      this.deadline.signal.removeEventListener('abort', onDeadline);
      await (reader ? reader.cancel() : stream?.cancel())?.catch(() => {});
    };
    const headers: Record<string, string> = { ...(options.anyEncoding ? {} : { 'accept-encoding': 'identity' }), ...options.headers };
    this.open.add(cancel);
    const range = options.range;
    if (range) headers.range = 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end - 1}`;
    arm();
    let response: Response;
    try {
      response = await this.request(headers, controller.signal);
    } catch (err) {
      await cancel();
      throw describeFetchError(err, controller.signal, this.url);
    }
    stream = response.body;
    try {
      if (!response.ok) throw new InputError(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
      const encoding = response.headers.get('content-encoding');
      if (!options.anyEncoding && encoding && encoding.toLowerCase() !== 'identity') {
        throw new InputError(`the server sent the file with Content-Encoding: ${encoding}, which was not asked for`);
      }
    } catch (err) {
      await cancel();
      throw err;
    }
    // What a 206 may carry: the bytes asked for, no more.
    let limit = Infinity;
    if (response.status === 206 && range) limit = 'suffix' in range ? range.suffix : range.end - range.start;
    async function* body(): AsyncGenerator<Buffer> {
      if (!stream || cancelled) return;
      reader = stream.getReader();
      let received = 0;
      try {
        for (;;) {
          arm();
          let next: ReadableStreamReadResult<Uint8Array>;
          try {
            next = await reader.read();
          } catch (err) {
            throw describeFetchError(err, controller.signal);
          }
          // The idle timeout waits on the server, not on the reader (a response left open to read
          // on later is not idle).
          clearTimeout(idle);
          if (next.done) return;
          received += next.value.byteLength;
          if (received > limit) throw new InputError(`the server sent more than the ${limit} bytes asked for`);
          yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        }
      } finally {
        await cancel();
      }
    }
    return { response, body: body(), cancel };
  }
}

function describeFetchError(err: unknown, signal: AbortSignal, url?: string): Error {
  if (err instanceof InputError) return err;
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  // undici: "Proxy response (403) !== 200 when HTTP Tunneling"
  let messages = '';
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) messages += ` ${(e as Error).message}`;
  const refused = /Proxy response \((\d+)\)/.exec(messages);
  if (refused && url) {
    const u = new URL(url);
    return new InputError(`proxy refused CONNECT ${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}: ${refused[1]}`);
  }
  if (cause?.code === 'ECONNREFUSED') return new InputError('connection refused');
  if (cause?.code === 'ENOTFOUND') return new InputError('host not found');
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return new InputError('connection closed by the server');
  return new InputError(`download failed: ${cause?.message ?? (err as Error).message}`);
}

/** A 206's Content-Range: the first byte, one past the last, and the file's size. */
function contentRange(response: Response): { start: number; end: number; total: number } {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
  const [start, last, total] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
  if (!m || !Number.isSafeInteger(total) || start > last || last >= total) {
    throw new InputError(`the server answered a range request with a bad Content-Range: ${JSON.stringify(response.headers.get('content-range'))}`);
  }
  return { start, end: last + 1, total };
}

/** A body read whole, where the server was asked for `length` bytes at most. */
async function collect(got: Got, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of got.body) {
    chunks.push(Buffer.from(chunk));
    size += chunk.length;
  }
  if (size !== length) throw new InputError(`the server sent ${size} of the ${length} bytes its Content-Range announced`);
  return Buffer.concat(chunks, size);
}

/** A zip's end-of-central-directory record in the last bytes of a file. */
function endsAZip(tail: Buffer): boolean {
  for (let at = tail.length - 22; at >= 0 && at >= tail.length - 22 - 0xffff; at--) {
    if (tail.readUInt32LE(at) === 0x06054b50) return true;
  }
  return false;
}

/**
 * Where the members of a zip begin (their local headers) and where the central directory
 * begins, in order, when the tail holds the whole central directory; [] otherwise (a zip64, or a
 * directory larger than the tail): then each range is asked for as it is.
 */
export function memberBounds(tail: { start: number; bytes: Buffer }): number[] {
  const b = tail.bytes;
  let at = -1;
  for (let i = b.length - 22; i >= 0 && i >= b.length - 22 - 0xffff; i--) {
    if (b.readUInt32LE(i) === 0x06054b50) {
      at = i;
      break;
    }
  }
  if (at < 0) return [];
  const count = b.readUInt16LE(at + 10);
  const size = b.readUInt32LE(at + 12);
  const offset = b.readUInt32LE(at + 16);
  if (count === 0xffff || offset === 0xffffffff || offset < tail.start || offset + size > tail.start + b.length) return [];
  const bounds: number[] = [];
  let p = offset - tail.start;
  for (let n = 0; n < count; n++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== 0x02014b50) return [];
    bounds.push(b.readUInt32LE(p + 42));
    p += 46 + b.readUInt16LE(p + 28) + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  bounds.push(offset);
  return [...new Set(bounds)].sort((x, y) => x - y);
}

/** A gap the reader skips over on an open response rather than asking again (bytes read and dropped). */
export const SKIP_BYTES = 64 << 10;

/** Responses one artifact keeps open to read on from (each holds a connection). */
const MAX_OPEN = 3;

/** One open response for [pos, to): read on when the next range starts at or shortly after `pos`. */
interface Cursor {
  got: Got;
  iterator: AsyncIterator<Buffer>;
  pos: number;
  to: number;
  /** Bytes read past `pos` and not yet asked for. */
  spare: Buffer | null;
  busy: boolean;
}

/** A response's strong ETag, or null: a weak one (W/"…") may differ between servers of the same file. */
function strongEtag(response: Response): string | null {
  const etag = response.headers.get('etag');
  return etag === null || etag.startsWith('W/') ? null : etag;
}

/**
 * The file through range requests, the tail (already fetched) served from memory: no byte is
 * asked for twice. Below the tail, a range opens one request that runs as far as `readOn` says
 * (the end of the zip member it falls in: a member's local header and its data come in one
 * request), and the next range that begins at or shortly after where that one stopped is read on
 * from the same response; any other range opens a request of its own. Each answer must be of the
 * same file as the first (the tail): the same size, and the same strong ETag when the server gives
 * one — else a verdict could mix the members of two files, one replaced between requests.
 */
function rangeAccess(download: Download, total: number, tail: { start: number; bytes: Buffer; etag: string | null }, readOn: (start: number, end: number) => number): RandomAccess {
  const cursors: Cursor[] = [];
  /** The file's first bytes as read (the sniff): kept, so a reader that starts again at 0 is served from memory. */
  let head = Buffer.alloc(0);
  const drop = async (c: Cursor | null) => {
    if (!c) return;
    const at = cursors.indexOf(c);
    if (at >= 0) cursors.splice(at, 1);
    await c.got.cancel();
  };
  async function open(start: number, to: number): Promise<Cursor> {
    const got = await download.get({ range: { start, end: to } });
    try {
      if (got.response.status !== 206) throw new InputError(`the server stopped honouring Range requests (HTTP ${got.response.status})`);
      const r = contentRange(got.response);
      if (r.total !== total) throw new InputError(`the file changed on the server while it was read (${total} bytes, then ${r.total})`);
      const etag = strongEtag(got.response);
      if (tail.etag !== null && etag !== null && etag !== tail.etag) throw new InputError(`the file changed on the server while it was read (ETag ${tail.etag.slice(0, 80)}, then ${etag.slice(0, 80)})`);
      if (r.start !== start || r.end !== to) throw new InputError(`the server sent bytes ${r.start}-${r.end - 1} for a request of ${start}-${to - 1}`);
    } catch (err) {
      await got.cancel();
      throw err;
    }
    return { got, iterator: got.body[Symbol.asyncIterator](), pos: start, to, spare: null, busy: false };
  }
  /** The next bytes of `c`, at most `max`. */
  async function next(c: Cursor, max: number): Promise<Buffer> {
    let chunk = c.spare;
    c.spare = null;
    if (!chunk) {
      const n = await c.iterator.next();
      if (n.done) throw new InputError(`truncated: the server stopped at offset ${c.pos} of a range ending at ${c.to}`);
      chunk = n.value;
    }
    if (chunk.length > max) {
      c.spare = chunk.subarray(max);
      chunk = chunk.subarray(0, max);
    }
    if (c.pos === head.length && c.pos < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - c.pos)]);
    c.pos += chunk.length;
    return chunk;
  }
  return {
    size: total,
    range: (start, end) =>
      (async function* () {
        end = Math.min(end, total);
        if (end <= start) return;
        const below = Math.min(end, tail.start);
        if (start < head.length) {
          yield head.subarray(start, Math.min(below, head.length));
          start = Math.min(below, head.length);
        }
        if (start < below) {
          // Read on from the open response, or open one up to the tail (or, when the open one is
          // busy with another range, one for exactly these bytes).
          // Read on from an open response that reaches these bytes, else open one that runs to
          // the end of their member; the others stay open for the reads that come back to them.
          let c = cursors.find((k) => !k.busy && k.pos <= start && start - k.pos <= SKIP_BYTES && below <= k.to);
          if (!c) {
            c = await open(start, Math.max(below, Math.min(tail.start, readOn(start, below))));
            cursors.push(c);
            if (cursors.length > MAX_OPEN) await drop(cursors.find((k) => !k.busy) ?? null);
          }
          c.busy = true;
          let ok = false;
          try {
            while (c.pos < start) await next(c, start - c.pos);
            while (c.pos < below) yield await next(c, below - c.pos);
            // Read to its end: the response is seen to end, so its connection is kept alive (a
            // body cancelled before its end closes it); a byte more than asked for is an error.
            if (c.pos >= c.to && (c.spare || !(await c.iterator.next()).done)) throw new InputError(`the server sent more than the bytes asked for (to offset ${c.to})`);
            ok = true;
          } finally {
            c.busy = false;
            // Left early (the reader stopped), failed, or read to its end: not read on.
            if (!ok || c.pos >= c.to) await drop(c);
          }
        }
        if (end > tail.start) yield tail.bytes.subarray(Math.max(start, tail.start) - tail.start, end - tail.start);
      })(),
  };
}

/** The whole body, front to back. */
async function wholeBody(download: Download, name: string, got?: Got): Promise<ArtifactBytes> {
  got ??= await download.get();
  try {
    return await streamBytes(got.body, name);
  } catch (err) {
    await got.cancel();
    throw err;
  }
}

/** Bytes held in memory (a file no larger than the tail) as random access. */
function memoryAccess(bytes: Buffer): RandomAccess {
  return {
    size: bytes.length,
    range: (start, end) =>
      (async function* () {
        if (end > start) yield bytes.subarray(start, end);
      })(),
  };
}

/**
 * A loose .pyc: its first bytes (the 16-byte header decides it) and its size from Content-Range,
 * in one range request; null when the server does not honour Range (then it is read as it comes).
 */
async function pycHead(download: Download, name: string): Promise<ArtifactBytes | null> {
  const got = await download.get({ range: { start: 0, end: SNIFF_BYTES } });
  if (got.response.status !== 206) {
    await got.cancel();
    return null;
  }
  let bytes: Buffer;
  let total: number;
  try {
    const r = contentRange(got.response);
    if (r.start !== 0) throw new InputError(`the server sent bytes ${r.start}-${r.end - 1} for a request of 0-${SNIFF_BYTES - 1}`);
    total = r.total;
    bytes = await collect(got, r.end);
  } finally {
    await got.cancel();
  }
  const access = memoryAccess(bytes);
  return { mode: 'random', name, first: bytes, access: { ...access, size: total } };
}

async function urlBytes(download: Download, name: string): Promise<ArtifactBytes> {
  if (/\.pyc$/i.test(name)) {
    const head = await pycHead(download, name).catch((err: unknown) => {
      if (err instanceof InputError && /^HTTP 416\b/.test(err.message)) return null; // empty, or no ranges
      throw err;
    });
    if (head) return head;
    return wholeBody(download, name);
  }
  let tail: Got;
  try {
    tail = await download.get({ range: { suffix: TAIL_BYTES } });
  } catch (err) {
    // 416: a server that refuses suffix ranges (or an empty file); read the whole body instead.
    if (!(err instanceof InputError && /^HTTP 416\b/.test(err.message))) throw err;
    return wholeBody(download, name);
  }
  // 200: the server sent everything from the start; read it as it comes.
  if (tail.response.status !== 206) return wholeBody(download, name, tail);
  let range;
  let bytes;
  try {
    range = contentRange(tail.response);
    if (range.end !== range.total) throw new InputError(`the server sent bytes ${range.start}-${range.end - 1} of ${range.total} for the last ${TAIL_BYTES}`);
    bytes = await collect(tail, range.end - range.start);
  } finally {
    await tail.cancel();
  }
  if (range.start === 0) return { mode: 'random', name, first: bytes.subarray(0, SNIFF_BYTES), access: memoryAccess(bytes) };
  if (!endsAZip(bytes)) return wholeBody(download, name);
  const tailBytes = { start: range.start, bytes, etag: strongEtag(tail.response) };
  const bounds = memberBounds(tailBytes);
  // To the end of the member a range ends in. A .conda's first bytes are read on into the member
  // they fall in (conda writes metadata.json, then the pkg- member, which is always read): the
  // sniff and that member come in one request.
  const memberEnd = (end: number) => bounds.find((b) => b >= end) ?? end;
  const conda = /\.conda$/i.test(name);
  const readOn = (start: number, end: number) => (start === 0 && end <= SNIFF_BYTES && !conda ? end : memberEnd(end));
  const access = rangeAccess(download, range.total, tailBytes, readOn);
  const first: Buffer[] = [];
  for await (const chunk of access.range(0, SNIFF_BYTES, false)) first.push(chunk);
  return { mode: 'random', name, first: Buffer.concat(first), access };
}

export async function readUrl(url: string, options: HttpOptions): Promise<ArtifactEntries> {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || url);
  const download = new Download(url, options.timeoutSeconds, options.deadlineSeconds);
  try {
    return await readBytes(await urlBytes(download, name), options.scan);
  } finally {
    download.close();
  }
}

/** Seconds a channel file (repodata, a shard) may take to download in all, unless --deadline says. */
const DOCUMENT_DEADLINE_SECONDS = 900;

/**
 * One GET for a channel's files (channel/bytes.ts): the response, and its body with the idle
 * timeout and a deadline (--deadline); the body is cancelled when its reader stops. `headers` are sent as
 * given, and what Content-Encoding comes back is the caller's to judge.
 */
export async function get(url: string, headers: Record<string, string>, timeoutSeconds: number, deadlineSeconds = DOCUMENT_DEADLINE_SECONDS): Promise<{ response: Response; body: AsyncIterable<Buffer> }> {
  const download = new Download(url, timeoutSeconds, deadlineSeconds);
  let got: Got;
  try {
    got = await download.get({ headers, anyEncoding: true });
  } catch (err) {
    download.close();
    throw err;
  }
  async function* body(): AsyncGenerator<Buffer> {
    try {
      yield* got.body;
    } finally {
      await got.cancel();
      download.close();
    }
  }
  return { response: got.response, body: body() };
}
