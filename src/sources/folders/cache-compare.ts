// An extracted folder of a package cache and the archives of the same name beside it: do they
// hold the same package? The folder is what is audited (no decompression); an archive is read only
// as far as its info/index.json and info/paths.json, and those are compared with the folder: its
// own metadata, and the sizes of the .py and .pyc the walk saw. Hashing every extracted file
// against the archive's paths.json is the opt-in deep check (--hash-extracted).
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { readChunksSync } from '../access/regular-file.js';
import { readCondaInfo } from '../formats/conda-info.js';
import { parsePathsJson, type PathsEntry } from '../formats/metadata.js';
import type { ArtifactEntries } from '../types.js';

/** How an archive is read the general way (sources/index.ts's readArtifact), given by the caller. */
export type ArchiveReader = (path: string, options: { maxBytes?: number | null; metadataOnly: true }) => Promise<ArtifactEntries>;

export interface CompareOptions {
  /** --max-bytes: decompressed bytes of the archive's info/ (and, deep, bytes hashed in the folder). */
  maxBytes?: number | null;
  /** --hash-extracted: SHA-256 of every file the archive lists, read from the folder. */
  hashExtracted?: boolean;
}

interface PathRecord {
  sha256: string | null;
  size: number | null;
  /** hardlink (a file), softlink, directory. */
  type: string;
}

/** The listing by path (a path listed twice: its last record, in the place of its first). */
function byPath(paths: PathsEntry[] | null): Map<string, PathRecord> | null {
  return paths && new Map(paths.map((p) => [p.path, { sha256: p.sha256, size: p.size, type: p.type }]));
}

/** SHA-256 of a file in the folder (no link followed), within the byte budget. */
function sha256File(path: string, budget: { left: number } | null): { sha256: string; size: number } {
  const hash = createHash('sha256');
  const size = readChunksSync(path, { follow: false }, budget ? budget.left : Infinity, () => new Error('--max-bytes reached'), (chunk) => hash.update(chunk));
  if (budget) budget.left -= size;
  return { sha256: hash.digest('hex'), size };
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The paths of two listings that differ, as the note names them: "2 files differ (a, b)". */
function describeChanged(changed: string[], verb: string): string {
  changed.sort();
  return `${count(changed.length, 'file', 'files')} ${changed.length === 1 ? `${verb}s` : verb} (${changed.slice(0, 2).join(', ')}${changed.length > 2 ? ', …' : ''})`;
}

/**
 * What to say of an extracted folder and one archive of the same name beside it: that they agree,
 * or how they differ (a package re-downloaded over an old extraction, a folder edited in place).
 */
export async function compareWithArchive(folder: ArtifactEntries, folderPath: string, archive: string, readArtifact: ArchiveReader, options: CompareOptions = {}): Promise<string> {
  const name = basename(archive);
  let theirs: Map<string, Buffer>;
  try {
    // Read by its content (a .conda's info component only), as far as its metadata files: the
    // short way when it is a .conda of the usual layout, else the general way.
    theirs = (await readCondaInfo(archive, options.maxBytes)) ?? (await readArtifact(archive, { maxBytes: options.maxBytes, metadataOnly: true })).metadata;
  } catch (err) {
    return `read the extracted folder; ${name} beside it could not be read to compare: ${(err as Error).message}`;
  }
  const differences: string[] = [];
  if (folder.metadata.get('info/index.json')?.toString() !== theirs.get('info/index.json')?.toString()) differences.push('info/index.json differs');
  const ourBytes = folder.metadata.get('info/paths.json');
  const theirBytes = theirs.get('info/paths.json');
  const theirPaths = parsePathsJson(theirBytes);
  // Byte for byte the same listing (the usual case) needs no second parse, and no lookup by path.
  const same = !!ourBytes && !!theirBytes && ourBytes.equals(theirBytes);
  let compared = 'info/paths.json';
  if (!same) {
    const ours = byPath(parsePathsJson(ourBytes));
    const listed = byPath(theirPaths);
    if (ours && listed) {
      const changed = [...new Set([...ours.keys(), ...listed.keys()])].filter((p) => {
        const a = ours.get(p);
        const b = listed.get(p);
        return !a || !b || a.sha256 !== b.sha256 || a.size !== b.size;
      });
      if (changed.length) differences.push(describeChanged(changed, 'differ'));
    } else if (!ours !== !listed) {
      differences.push('only one of them has info/paths.json');
    }
  }
  if (theirPaths) {
    // What the walk saw of the folder itself: the size of every .py and .pyc.
    const seen = new Map<string, number>();
    for (const p of folder.pyc) seen.set(p.path, p.size);
    for (const s of folder.sources) seen.set(s.path, s.size);
    const listedSize = new Map<string, number | null>();
    for (const r of theirPaths) if (seen.has(r.path)) listedSize.set(r.path, r.size);
    const resized = [...listedSize].filter(([p, size]) => size !== null && seen.get(p) !== size).map(([p]) => p);
    if (resized.length) differences.push(`${describeChanged(resized, 'differ')} in size on disk`);
    if (options.hashExtracted) {
      compared = 'info/paths.json and the SHA-256 of every file';
      const hashBudget = options.maxBytes ? { left: options.maxBytes } : null;
      const changed: string[] = [];
      const unread: string[] = [];
      for (const [p, r] of byPath(theirPaths)!) {
        if (r.type !== 'hardlink' || r.sha256 === null) continue;
        try {
          const got = sha256File(join(folderPath, ...p.split('/')), hashBudget);
          if (got.sha256 !== r.sha256 || (r.size !== null && got.size !== r.size)) changed.push(p);
        } catch (err) {
          unread.push(`${p} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      }
      if (changed.length) differences.push(`${describeChanged(changed, 'differ')} from their SHA-256 in ${name}`);
      if (unread.length) differences.push(`${count(unread.length, 'file', 'files')} could not be hashed (${unread.slice(0, 2).join(', ')}${unread.length > 2 ? ', …' : ''})`);
    }
  }
  return differences.length
    ? `read the extracted folder, which DISAGREES with ${name} beside it: ${differences.join('; ')}`
    : `read the extracted folder; ${name} beside it agrees (${compared})`;
}

/** One note per archive beside the folder. */
export async function compareWithArchives(folder: ArtifactEntries, folderPath: string, archives: readonly string[], readArtifact: ArchiveReader, options: CompareOptions = {}): Promise<string[]> {
  const notes: string[] = [];
  for (const archive of archives) notes.push(await compareWithArchive(folder, folderPath, archive, readArtifact, options));
  return notes;
}
