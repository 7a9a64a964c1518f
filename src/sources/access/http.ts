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

/** The suffix asked for first: the central directory of any package fits in it. */
export const TAIL_BYTES = 64 << 10;

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

  close(): void {
    clearTimeout(this.timer);
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
      clearTimeout(idle);
      this.deadline.signal.removeEventListener('abort', onDeadline);
      await (reader ? reader.cancel() : stream?.cancel())?.catch(() => {});
    };
    const headers: Record<string, string> = { ...(options.anyEncoding ? {} : { 'accept-encoding': 'identity' }), ...options.headers };
    const range = options.range;
    if (range) headers.range = 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end - 1}`;
    arm();
    let response: Response;
    try {
      response = await this.request(headers, controller.signal);
    } catch (err) {
      await cancel();
      throw describeFetchError(err, controller.signal);
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

function describeFetchError(err: unknown, signal: AbortSignal): Error {
  if (err instanceof InputError) return err;
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
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

/** The file through range requests, the tail (already fetched) served from memory. */
function rangeAccess(download: Download, total: number, tail: { start: number; bytes: Buffer }): RandomAccess {
  return {
    size: total,
    range: (start, end) =>
      (async function* () {
        end = Math.min(end, total);
        if (end <= start) return;
        if (start >= tail.start) {
          yield tail.bytes.subarray(start - tail.start, end - tail.start);
          return;
        }
        const got = await download.get({ range: { start, end } });
        try {
          if (got.response.status !== 206) throw new InputError(`the server stopped honouring Range requests (HTTP ${got.response.status})`);
          const r = contentRange(got.response);
          if (r.start !== start || r.end !== end) throw new InputError(`the server sent bytes ${r.start}-${r.end - 1} for a request of ${start}-${end - 1}`);
          let received = 0;
          for await (const chunk of got.body) {
            received += chunk.length;
            yield chunk;
          }
          if (received !== end - start) throw new InputError(`truncated: the server sent ${received} of ${end - start} bytes`);
        } finally {
          await got.cancel();
        }
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

async function urlBytes(download: Download, name: string): Promise<ArtifactBytes> {
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
  const access = rangeAccess(download, range.total, { start: range.start, bytes });
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

/** Seconds a channel file (repodata, a shard) may take to download in all. */
const DOCUMENT_DEADLINE_SECONDS = 3600;

/**
 * One GET for a channel's files (channel/bytes.ts): the response, and its body with the idle
 * timeout and a deadline; the body is cancelled when its reader stops. `headers` are sent as
 * given, and what Content-Encoding comes back is the caller's to judge.
 */
export async function get(url: string, headers: Record<string, string>, timeoutSeconds: number): Promise<{ response: Response; body: AsyncIterable<Buffer> }> {
  const download = new Download(url, timeoutSeconds, DOCUMENT_DEADLINE_SECONDS);
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
