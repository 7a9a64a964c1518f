// The tar family (.tar.bz2, .tar.gz, .tar): one tar stream, decompressed as it is read, through
// the tar walker. A file may be handed to a decoder program by its open descriptor; every other
// access path feeds the decoder its bytes.
import type { ArtifactBytes } from '../access/access.js';
import { bzip2, gzip, type Codec } from '../codecs/codecs.js';
import { MemberCollector, scanTarball, type ScanOptions } from './tar-members.js';
import { emptyEntries, InputError, type ArtifactEntries } from '../types.js';

export type TarKind = 'tar.bz2' | 'tar.gz' | 'tar';

function codecFor(kind: TarKind): Codec | null {
  return kind === 'tar.bz2' ? bzip2() : kind === 'tar.gz' ? gzip : null;
}

export async function readTarball(kind: TarKind, bytes: ArtifactBytes, scan: ScanOptions): Promise<ArtifactEntries> {
  const entries = emptyEntries(kind);
  const collector = new MemberCollector(entries, scan.hashOnly, scan.metadataOnly);
  const codec = codecFor(kind);
  let decode: (sink: (chunk: Buffer) => void) => Promise<void>;
  if (bytes.mode === 'random' && codec?.decodeFile && bytes.access.opened) {
    const { decodeFile } = codec;
    const file = bytes.access.opened;
    decode = (sink) => decodeFile(file, sink);
  } else {
    // The tar walker copies what it keeps, so a plain tar's chunks may reuse one buffer too.
    const input = bytes.mode === 'random' ? bytes.access.range(0, bytes.access.size, codec ? codec.consumesSynchronously : true) : bytes.stream;
    decode = codec
      ? (sink) => codec.decode(input, sink)
      : async (sink) => {
          for await (const chunk of input) sink(chunk);
        };
  }
  try {
    await scanTarball(decode, collector, scan);
  } catch (err) {
    throw err instanceof InputError ? err : new InputError((err as Error).message);
  }
  return entries;
}
