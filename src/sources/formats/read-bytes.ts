// An artifact's bytes, from any access path, into the entries an audit keeps: the format is
// sniffed from the first bytes and read by its one reader.
import { HEADER_BYTES } from '../../judge/header.js';
import type { ArtifactBytes } from '../access/access.js';
import { sniff } from './sniff.js';
import { readTarball } from './tarball.js';
import { spend, type ScanOptions } from './tar-members.js';
import { emptyEntries, InputError, type ArtifactEntries } from '../types.js';
import { readZipArchive } from './zip-archive.js';

/** A loose .pyc: its first 16 bytes, and its size (counted when it comes as a stream). */
async function readLoosePyc(bytes: ArtifactBytes, scan: ScanOptions): Promise<ArtifactEntries> {
  let size = 0;
  if (bytes.mode === 'random') size = bytes.access.size;
  else {
    for await (const chunk of bytes.stream) {
      spend(scan.budget, chunk.length);
      size += chunk.length;
    }
  }
  const entries = emptyEntries('pyc');
  entries.pyc.push({ path: bytes.name, size, head: Buffer.from(bytes.first.subarray(0, HEADER_BYTES)) });
  return entries;
}

/** Reads one artifact. Throws InputError with a reason a person can act on. */
export async function readBytes(bytes: ArtifactBytes, scan: ScanOptions): Promise<ArtifactEntries> {
  try {
    const format = sniff(bytes.first, bytes.name);
    switch (format) {
      case 'zip':
        return await readZipArchive(bytes, scan);
      case 'tar.bz2':
      case 'tar.gz':
      case 'tar':
        return await readTarball(format, bytes, scan);
      case 'pyc':
        return await readLoosePyc(bytes, scan);
      default: {
        if (!bytes.first.length) throw new InputError(bytes.mode === 'random' && bytes.access.path ? 'empty file' : 'empty input');
        const start = bytes.first.subarray(0, 4).toString('hex');
        throw new InputError(`not a conda artifact: starts with ${start} (expected a zip for .conda and .whl, bzip2 or gzip for .tar.bz2 and .tar.gz, a tar, or a .pyc)`);
      }
    }
  } finally {
    // Whatever was left unread is not wanted: end the source (a download is cancelled).
    if (bytes.mode === 'stream') await bytes.close();
  }
}
