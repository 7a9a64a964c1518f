// Walks a tar stream once and keeps only what an audit needs: the first 16 bytes of every .pyc
// member and the whole of a few small metadata files. Every other body is skipped as it streams.
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { HEADER_BYTES } from '../header.js';
import type { ArtifactEntries, PycMember } from './types.js';

/** Metadata files read whole; anything larger is a broken package, not metadata. */
const METADATA_LIMIT = 4 << 20;
const METADATA = new Set(['info/index.json']);

export function isPycPath(path: string): boolean {
  return path.endsWith('.pyc');
}

function normalize(name: string): string {
  return name.replace(/^(\.\/)+/, '');
}

/** Reads `input` (an uncompressed tar stream) to its end, adding what it finds to `into`. */
export function scanTar(input: Readable, into: ArtifactEntries): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const extract = tar.extract();
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      input.unpipe?.(extract);
      input.destroy();
      extract.destroy();
      reject(err);
    };

    extract.on('entry', (header, body, next) => {
      const path = normalize(header.name);
      const isFile = header.type === 'file' || header.type === 'contiguous-file';
      const wantHead = isFile && isPycPath(path);
      const wantWhole = isFile && METADATA.has(path) && (header.size ?? 0) <= METADATA_LIMIT;
      if (!wantHead && !wantWhole) {
        body.on('end', next);
        body.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let kept = 0;
      const limit = wantWhole ? METADATA_LIMIT : HEADER_BYTES;
      body.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        if (kept >= limit) return;
        const part = chunk.length > limit - kept ? chunk.subarray(0, limit - kept) : chunk;
        // Copy: the parser may reuse the chunk's memory after this callback.
        chunks.push(Buffer.from(part));
        kept += part.length;
      });
      body.on('end', () => {
        const bytes = Buffer.concat(chunks);
        if (wantWhole) into.metadata.set(path, bytes);
        else into.pyc.push({ path, size: header.size ?? bytes.length, head: bytes } satisfies PycMember);
        next();
      });
      body.on('error', fail);
    });
    extract.on('finish', () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    });
    extract.on('error', fail);
    input.on('error', fail);
    input.pipe(extract);
  });
}
