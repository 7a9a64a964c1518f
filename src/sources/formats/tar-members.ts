// Decompresses a tarball and keeps only what an audit needs: the first 16 bytes of every .pyc
// member, a small record of every .py and .pyo, and the whole of a few small metadata files.
// Every other body is skipped as it streams; a .py body is hashed as it passes when a
// checked-hash .pyc seen before it asked for that.
import { HEADER_BYTES } from '../../judge/header.js';
import { pycLocation } from '../../judge/pyc-paths.js';
import { checkedHashMagic, hashKey, SourceHasher, rawMagic, type HashRequest } from '../../judge/source-hash.js';
import { formatLimit } from '../access/regular-file.js';
import { METADATA_FILES, metadataLimit } from './metadata.js';
import { TarWalker, type BodyObserver, type KeepDecision, type KeepPolicy, type LinkSink, type MemberSink } from './tar-walker.js';
import { StopRead } from '../codecs/types.js';
import { InputError, type ArtifactEntries, type PycMember, type SourceMember } from '../types.js';

export { checkedHashMagic, hashKey, metadataLimit, type HashRequest };

export function isPycPath(path: string): boolean {
  return path.endsWith('.pyc');
}


/**
 * The decompressed bytes one artifact may make the tool read, whatever its format: generous for
 * any real package (the largest conda packages unpack to a few GiB), and what stops an archive
 * that lists one huge member many times, or a member of a terabyte. --max-bytes sets another.
 */
export const DEFAULT_MAX_BYTES = 16 * 2 ** 30;

/** A cap on the decompressed bytes read from one artifact, shared by all its members. */
export interface ByteBudget {
  limit: number;
  used: number;
  /** Set by --max-bytes (else the default). */
  fromOption: boolean;
}

export function byteBudget(maxBytes: number | null | undefined): ByteBudget {
  return maxBytes ? { limit: maxBytes, used: 0, fromOption: true } : { limit: DEFAULT_MAX_BYTES, used: 0, fromOption: false };
}

/** Counts `n` decompressed bytes against the budget; throws once it is spent. */
export function spend(budget: ByteBudget | undefined, n: number): void {
  if (!budget) return;
  budget.used += n;
  if (budget.used <= budget.limit) return;
  const which = budget.fromOption ? '--max-bytes reached' : `the ${formatLimit(budget.limit)} limit on decompressed data reached (raise it with --max-bytes)`;
  throw new InputError(`${which}: stopped after ${budget.limit} bytes of decompressed data, not all of the artifact was audited`);
}

/** How a reader scans an artifact: the byte cap, and whether this is a second read for hashes only. */
export interface ScanOptions {
  budget?: ByteBudget;
  hashOnly?: HashRequest;
  /** Only the metadata files (info/index.json, info/paths.json): comparing an archive with a folder. */
  metadataOnly?: boolean;
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
  /** Members a later hard link may name (a tar's links point to earlier members). */
  private readonly pycByPath = new Map<string, PycMember>();
  private readonly sourceByPath = new Map<string, SourceMember>();

  constructor(
    readonly entries: ArtifactEntries,
    private readonly hashOnly?: HashRequest,
    private readonly metadataOnly = false,
  ) {}

  readonly keep: KeepPolicy = (path, size): KeepDecision => {
    if (this.metadataOnly) {
      const limit = metadataLimit(path);
      return limit && size <= limit ? size : 0;
    }
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

  /** A second read has hashed every source it was asked for (or found every metadata file): nothing more to read. */
  get complete(): boolean {
    if (this.metadataOnly) return METADATA_FILES.every((p) => this.entries.metadata.has(p));
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

  /** A hard link to an earlier member: the same content under another path. */
  readonly link: LinkSink = (path, target, mtime) => {
    if (this.hashOnly || this.metadataOnly) return;
    const pyc = this.pycByPath.get(target);
    const source = this.sourceByPath.get(target);
    if (pyc && isPycPath(path)) this.addPyc(path, pyc.size, pyc.head);
    else if (source && path.endsWith('.py')) this.addSource({ ...source, path, mtime: mtime ?? source.mtime });
    else if (path.endsWith('.pyo') && this.entries.pyo.includes(target)) this.entries.pyo.push(path);
    else if (metadataLimit(path) && this.entries.metadata.has(target)) this.entries.metadata.set(path, this.entries.metadata.get(target)!);
  };

  addPyc(path: string, size: number, head: Buffer): void {
    const member = { path, size, head };
    this.entries.pyc.push(member);
    this.pycByPath.set(path, member);
    const magic = checkedHashMagic(head);
    if (magic === null) return;
    const { source } = pycLocation(path);
    let magics = this.wanted.get(source);
    if (!magics) this.wanted.set(source, (magics = new Set()));
    magics.add(magic);
  }

  addSource(source: SourceMember): void {
    this.entries.sources.push(source);
    this.sourceByPath.set(source.path, source);
  }
}

/** Thrown through a decoder to stop it: the archive is complete (a zstd stream's rest is still checked), or all that is needed is read. */
const END_OF_ARCHIVE = new StopRead(true);
const ENOUGH = new StopRead(false);

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
  onLink: LinkSink | null = null,
): Promise<void> {
  const walker = new TarWalker(keep, onMember, onLink);
  let stopped = false;
  try {
    await decode((chunk) => {
      spend(budget, chunk.length);
      walker.write(chunk);
      if (walker.finished) throw END_OF_ARCHIVE;
      if (done()) throw ENOUGH;
    });
  } catch (err) {
    if (err !== END_OF_ARCHIVE && err !== ENOUGH) throw err;
    stopped = !walker.finished;
  }
  if (!stopped) walker.end();
}

/** The audit's walk of one tarball into the collector. */
export function scanTarball(decode: (sink: (chunk: Buffer) => void) => Promise<void>, into: MemberCollector, options: ScanOptions = {}): Promise<void> {
  return walkTarball(decode, into.keep, into.member, options.budget, () => into.complete, into.link);
}
