// Reading an artifact from a stream that cannot seek (stdin, an HTTP body): the format is sniffed
// from its first bytes, then the stream is read once, front to back.
import { HEADER_BYTES } from '../header.js';
import { bzip2, gzip, zstd } from './codecs.js';
import { isPycPath, MemberCollector, scanTarball, type ScanOptions } from './tar-members.js';
import { emptyEntries, InputError, type ArtifactEntries, type ArtifactKind } from './types.js';
import { readZipStream } from './zip-stream.js';
import { sniff } from './sniff.js';

const SNIFF = 512;

/** The first `n` bytes of a stream, and the whole stream again (those bytes included). */
export async function peek(input: AsyncIterable<Buffer>, n: number): Promise<{ first: Buffer; stream: AsyncIterable<Buffer> }> {
  const iter = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < n) {
    const next = await iter.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    length += next.value.length;
  }
  const first = Buffer.concat(head);
  async function* again() {
    try {
      if (first.length) yield first;
      if (ended) return;
      for (;;) {
        const next = await iter.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      // Closed early (a reader that has what it needs): close the source too, a download included.
      if (!ended) await iter.return?.();
    }
  }
  return { first: first.subarray(0, n), stream: again() };
}

async function firstBytesInflated(data: AsyncIterable<Buffer>, method: number, n: number): Promise<Buffer> {
  if (method === 0) {
    const chunks: Buffer[] = [];
    let kept = 0;
    for await (const chunk of data) {
      chunks.push(Buffer.from(chunk.subarray(0, n - kept)));
      kept += Math.min(n - kept, chunk.length);
      if (kept >= n) break;
    }
    return Buffer.concat(chunks);
  }
  if (method !== 8) throw new InputError(`unsupported zip compression method ${method}`);
  const { createInflateRaw } = await import('node:zlib');
  const inflate = createInflateRaw();
  const out: Buffer[] = [];
  let kept = 0;
  const done = new Promise<void>((resolve, reject) => {
    inflate.on('data', (c: Buffer) => {
      if (kept < n) {
        out.push(Buffer.from(c.subarray(0, n - kept)));
        kept += Math.min(n - kept, c.length);
      }
      if (kept >= n) resolve();
    });
    inflate.on('end', resolve);
    inflate.on('error', (err: Error) => reject(new InputError(`corrupt deflate data: ${err.message}`)));
  });
  done.catch(() => {});
  for await (const chunk of data) {
    if (kept >= n) break;
    if (!inflate.write(chunk)) await Promise.race([new Promise((r) => inflate.once('drain', r)), done]);
  }
  if (kept < n) inflate.end();
  await done;
  inflate.destroy();
  return Buffer.concat(out);
}

const COMPONENT = /^(info|pkg)-.+\.tar\.zst$/;

/** Reads one artifact from `input`; `name` is used for messages and the .pyc tie-break. */
export async function readStream(input: AsyncIterable<Buffer>, name: string, scan: ScanOptions = {}): Promise<ArtifactEntries> {
  const { first, stream } = await peek(input, SNIFF);
  const kind = sniff(first, name);
  switch (kind) {
    case 'zip-stream': {
      const entries = emptyEntries('zip');
      const collector = new MemberCollector(entries, scan.hashOnly);
      let components = 0;
      let wheel = false;
      await readZipStream(stream, async (member, data) => {
        if (COMPONENT.test(member.name) && member.method === 0) {
          components++;
          const codec = zstd();
          try {
            await scanTarball((sink) => codec.decode(data, sink), collector, scan);
          } catch (err) {
            if (err instanceof InputError) throw err;
            throw new InputError(`${member.name}: ${(err as Error).message}`, member.name);
          }
        } else if (isPycPath(member.name) && !scan.hashOnly) {
          collector.addPyc(member.name, member.uncompressedSize, await firstBytesInflated(data, member.method, HEADER_BYTES));
        } else if (member.name.endsWith('.py') && !scan.hashOnly) {
          // A zip records local time without a zone: its .py times are not compared (size is).
          collector.addSource({ path: member.name, size: member.uncompressedSize, mtime: null });
        } else if (member.name.endsWith('.pyo') && !scan.hashOnly) {
          entries.pyo.push(member.name);
        } else if (/^[^/]+\.dist-info\/WHEEL$/.test(member.name)) {
          wheel = true;
        }
      });
      if (!components && name.endsWith('.conda')) throw new InputError('not a conda package: the zip has no pkg-*.tar.zst');
      entries.kind = components ? 'conda' : wheel ? 'whl' : 'zip';
      return entries;
    }
    case 'tar.bz2':
    case 'tar.gz':
    case 'tar': {
      const entries = emptyEntries(kind);
      const collector = new MemberCollector(entries, scan.hashOnly);
      const codec = kind === 'tar.bz2' ? bzip2() : kind === 'tar.gz' ? gzip : null;
      await scanTarball(codec ? (sink) => codec.decode(stream, sink) : async (sink) => {
        for await (const chunk of stream) sink(chunk);
      }, collector, scan).catch((err: Error) => {
        throw err instanceof InputError ? err : new InputError(err.message);
      });
      return entries;
    }
    case 'pyc': {
      let size = 0;
      for await (const chunk of stream) size += chunk.length;
      const entries = emptyEntries('pyc');
      entries.pyc.push({ path: name, size, head: first.subarray(0, HEADER_BYTES) });
      return entries;
    }
    default:
      if (!first.length) throw new InputError('empty input');
      throw new InputError(`not a conda artifact: starts with ${first.subarray(0, 4).toString('hex')} (expected a zip, bzip2, gzip, a tar or a .pyc)`);
  }
}
