// Decompresses a tarball and keeps only what an audit needs: the first 16 bytes of every .pyc
// member, a small record of every .py and .pyo, and the whole of a few small metadata files.
// Every other body is skipped as it streams; a .py body is hashed as it passes when a
// checked-hash .pyc seen before it asked for that.
import { HEADER_BYTES } from '../header.js';
import { pycLocation } from '../pyc-paths.js';
import { SourceHasher, rawMagic, type SipRounds } from '../source-hash.js';
import { TarWalker, type BodyObserver, type KeepDecision, type KeepPolicy, type MemberSink } from './tar-walker.js';
import { InputError, type ArtifactEntries, type SourceMember } from './types.js';

/** Metadata files read whole, with the size above which each is a broken package, not metadata. */
const METADATA = new Map([
  ['info/index.json', 4 << 20],
  ['info/paths.json', 64 << 20],
]);

export function isPycPath(path: string): boolean {
  return path.endsWith('.pyc');
}

export function metadataLimit(path: string): number {
  return METADATA.get(path) ?? 0;
}

/** The key of a source hash in SourceMember.hashes. */
export function hashKey(magic: number, rounds: SipRounds): string {
  return `${magic}/${rounds}`;
}

/** Sources to hash on a second read: path -> the magics of the checked-hash .pyc that need them. */
export type HashRequest = ReadonlyMap<string, readonly number[]>;

/** A cap on the decompressed bytes read from one artifact (--max-bytes), shared by its tarballs. */
export interface ByteBudget {
  limit: number;
  used: number;
}

/** How a reader scans an artifact: the byte cap, and whether this is a second read for hashes only. */
export interface ScanOptions {
  budget?: ByteBudget;
  hashOnly?: HashRequest;
}

/** Feeds one body to a hasher per magic and rounds (the rounds are settled later, by the table). */
export class SourceHashes implements BodyObserver {
  private readonly hashers: [string, SourceHasher][] = [];
  constructor(magics: Iterable<number>) {
    for (const magic of magics) {
      for (const rounds of ['2-4', '1-3'] as const) this.hashers.push([hashKey(magic, rounds), new SourceHasher(rawMagic(magic), rounds)]);
    }
  }
  update(chunk: Buffer): void {
    for (const [, h] of this.hashers) h.update(chunk);
  }
  digests(): Map<string, string> {
    return new Map(this.hashers.map(([key, h]) => [key, h.digest()]));
  }
}

/** A checked-hash .pyc (PEP 552 flags 0b11 in a 16-byte header): its magic, else null. */
export function checkedHashMagic(head: Buffer): number | null {
  if (head.length < 16 || head[2] !== 0x0d || head[3] !== 0x0a) return null;
  return head.readUInt32LE(4) === 3 ? head.readUInt16LE(0) : null;
}

/** A .py or .pyo member: the sink hears of it (path, size, mtime), its body is skipped. */
const RECORD_ONLY: KeepDecision = Object.freeze({ keep: 0, observer: null });

/**
 * What an audit keeps of the members of one artifact, as a keep policy and a sink for a tar
 * walker (or the zip and folder readers). Memory grows with the number of members, not their bytes.
 */
export class MemberCollector {
  /** Checked-hash .pyc seen so far: their source path -> magics. */
  private readonly wanted = new Map<string, Set<number>>();
  private hashing: { path: string; hashes: SourceHashes } | null = null;

  constructor(
    readonly entries: ArtifactEntries,
    private readonly hashOnly?: HashRequest,
  ) {}

  readonly keep: KeepPolicy = (path, size): KeepDecision => {
    if (this.hashOnly) {
      const magics = this.hashOnly.get(path);
      return magics ? this.startHashing(path, magics) : 0;
    }
    if (isPycPath(path)) return HEADER_BYTES;
    if (path.endsWith('.py')) {
      const magics = this.wanted.get(path);
      return magics ? this.startHashing(path, magics) : RECORD_ONLY;
    }
    if (path.endsWith('.pyo')) return RECORD_ONLY;
    const limit = metadataLimit(path);
    return limit && size <= limit ? size : 0;
  };

  /** A second read has hashed every source it was asked for: nothing more to read. */
  get complete(): boolean {
    return !!this.hashOnly && this.entries.sources.length >= this.hashOnly.size;
  }

  /** Sources a zip or folder reader should hash now: every checked-hash .pyc's source, or the request. */
  sourcesToHash(): ReadonlyMap<string, Iterable<number>> {
    return this.hashOnly ?? this.wanted;
  }

  private startHashing(path: string, magics: Iterable<number>): KeepDecision {
    this.hashing = { path, hashes: new SourceHashes(magics) };
    return { keep: 0, observer: this.hashing.hashes };
  }

  readonly member: MemberSink = (path, size, kept, mtime) => {
    if (path.endsWith('.py')) {
      const hashes = this.hashing?.path === path ? this.hashing.hashes.digests() : undefined;
      this.hashing = null;
      this.addSource({ path, size, mtime, ...(hashes ? { hashes } : {}) });
    } else if (this.hashOnly) {
      // a second read keeps nothing else
    } else if (isPycPath(path)) {
      this.addPyc(path, size, kept);
    } else if (path.endsWith('.pyo')) {
      this.entries.pyo.push(path);
    } else {
      this.entries.metadata.set(path, kept);
    }
  };

  addPyc(path: string, size: number, head: Buffer): void {
    this.entries.pyc.push({ path, size, head });
    const magic = checkedHashMagic(head);
    if (magic === null) return;
    const { source } = pycLocation(path);
    let magics = this.wanted.get(source);
    if (!magics) this.wanted.set(source, (magics = new Set()));
    magics.add(magic);
  }

  addSource(source: SourceMember): void {
    this.entries.sources.push(source);
  }
}

/** Thrown through a decoder to stop it: the archive is complete. */
const END_OF_ARCHIVE = new Error('end of archive');

/**
 * Runs `decode` (a decoder already given its input) through a tar walker that keeps what `keep`
 * asks for and hands it to `onMember`. Decoding stops at the tar's end-of-archive blocks
 * (whatever follows, a bomb's gigabytes of zeros, is never decompressed), or as soon as `done()`.
 */
export async function walkTarball(
  decode: (sink: (chunk: Buffer) => void) => Promise<void>,
  keep: KeepPolicy,
  onMember: MemberSink,
  budget?: ByteBudget,
  done: () => boolean = () => false,
): Promise<void> {
  const walker = new TarWalker(keep, onMember);
  let stopped = false;
  try {
    await decode((chunk) => {
      if (budget) {
        budget.used += chunk.length;
        if (budget.used > budget.limit) {
          throw new InputError(`--max-bytes reached: stopped after ${budget.limit} bytes of decompressed tar, not all of the artifact was audited`);
        }
      }
      walker.write(chunk);
      if (walker.finished || done()) throw END_OF_ARCHIVE;
    });
  } catch (err) {
    if (err !== END_OF_ARCHIVE) throw err;
    stopped = !walker.finished;
  }
  if (!stopped) walker.end();
}

/** The audit's walk of one tarball into the collector. */
export function scanTarball(decode: (sink: (chunk: Buffer) => void) => Promise<void>, into: MemberCollector, options: ScanOptions = {}): Promise<void> {
  return walkTarball(decode, into.keep, into.member, options.budget, () => into.complete);
}
