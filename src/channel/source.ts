// Reads a channel's index from a URL or a local folder: which subdirs it has, and the records of
// each, selected as they are read. Per subdir, the first form the channel has is read:
//   repodata_shards.msgpack.zst (CEP-16: only the shards of wanted names are fetched)
//   > repodata.json.zst > repodata.json (streamed: memory holds one record at a time)
// A form that is there but damaged gives way to the next, with a warning. The artifacts
// themselves are read later, by the audit.
import { mkdir, opendir, rename, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { zstd } from '../sources/codecs/codecs.js';
import { formatLimit, readRegularFile } from '../sources/access/regular-file.js';
import { hostPolicy } from '../sources/access/net.js';
import { isUrl, openBytes, readBytes, sha256Hex } from './bytes.js';
import { RepodataScanner } from './repodata-scan.js';
import { addCounts, describeSkipped, emptyCounts, RecordSelector, type ChannelRecord, type RecordSelection, type SelectionCounts } from './repodata.js';
import { PythonBuilds } from './python-builds.js';
import { parseShardIndex, resolveBase, shardRecords, SHARD_INDEX_FILE } from './shards.js';

/** A limit in MiB from the environment (tests set smaller ones), else the default. */
function limitMiB(name: string, fallback: number): number {
  const v = process.env[name];
  return (v !== undefined && /^\d{1,6}$/.test(v) && Number(v) > 0 ? Number(v) : fallback) * 1024 ** 2;
}

/**
 * Decompressed repodata.json is streamed, so this bounds time, not memory: well above the
 * largest channel's (conda-forge linux-64 is a few hundred MB), far below a zstd bomb's.
 */
export const REPODATA_LIMIT = limitMiB('PYC_AUDIT_REPODATA_MB', 2048);
/** channeldata.json, a shard index and one shard are read whole (decompressed, for the last two). */
export const CHANNELDATA_LIMIT = 128 << 20;
export const SHARD_INDEX_LIMIT = 256 << 20;
export const SHARD_LIMIT = 64 << 20;
/** A shard as fetched (zstd): a real one is a few hundred KB at most. */
export const SHARD_COMPRESSED_LIMIT = 16 << 20;
/** Shards fetched at once (each held compressed until decoded). */
const SHARD_CONCURRENCY = 16;
/** Shards decompressed and decoded at once: each may be SHARD_LIMIT bytes and its objects. */
const SHARD_DECODES = 2;
/** Subdirs looked for when a channel URL has no channeldata.json and no --subdir is given. */
const KNOWN_SUBDIRS = ['noarch', 'linux-64', 'linux-aarch64', 'linux-ppc64le', 'linux-s390x', 'osx-64', 'osx-arm64', 'win-64', 'win-arm64'];
const FORMS = [SHARD_INDEX_FILE, 'repodata.json.zst', 'repodata.json'] as const;
type Form = (typeof FORMS)[number];

export class ChannelError extends Error {}
/** An error about another file than the one being read (a shard of an index): its message names it. */
class LocatedError extends Error {}

/** A subdir name: one path segment of letters, digits, "_", "-" and ".", and not "." or "..". */
export function isSubdirName(name: string): boolean {
  return /^[\w.-]+$/.test(name) && !/^\.+$/.test(name);
}

export interface SubdirRead {
  name: string;
  form: Form;
  /** Where its artifacts are: a URL ending in "/", or a folder. */
  base: string;
  /** Shards: how many names the index has, and how many of their shards were read (from --cache or fetched). */
  shards?: { names: number; read: number; cached: number };
}

export interface Channel {
  /** The channel as given, without a trailing slash. */
  source: string;
  isUrl: boolean;
  subdirs: SubdirRead[];
  /** The selected records `keep` wanted (all without it), sorted by subdir and file name. */
  records: ChannelRecord[];
  /** counts.selected: how many were selected, kept or not. */
  counts: SelectionCounts;
  /** Forms found damaged and passed over for the next. */
  warnings: string[];
  /** With selection.learnPython: the Python minors of the selected records, and the channel's python builds. */
  python: { minors: Set<string>; builds: PythonBuilds } | null;
}

export interface LoadOptions {
  timeoutSeconds: number;
  /** --deadline: seconds each index file (repodata, shard index, shard, channeldata) may take in all. */
  deadlineSeconds?: number;
  selection: RecordSelection;
  /** --cache DIR: shards are kept under DIR/shards by their SHA-256. */
  cacheDir?: string | null;
  /** Which selected records to hold for the audit (this shard's); the others are only counted. */
  keep?: (record: ChannelRecord) => boolean;
  /** What each subdir's selector holds in memory before it spills records to disk. */
  memoryBytes?: number;
  /** How many records `keep` may keep: more is a TooManyRecords error (the run would not fit its memory). */
  maxKept?: number;
}

/** More selected records than one run may hold: says how many, so the caller can say how to split. */
export class TooManyRecords extends ChannelError {
  constructor(
    readonly selected: number,
    readonly limit: number,
  ) {
    super(`more than ${limit} artifacts selected`);
  }
}

/** Where an artifact of the channel is, and how to read it: a URL, or a path in the folder. */
export function artifactLocation(channel: Channel, record: ChannelRecord): { path: string; kind: 'url' | 'file' } {
  const base = channel.subdirs.find((s) => s.name === record.subdir)!.base;
  return isUrl(base) ? { path: `${base}${encodeURIComponent(record.file)}`, kind: 'url' } : { path: join(base, record.file), kind: 'file' };
}

/** What a run says of the channel it read: the forms, what was selected, what was skipped and why. */
export function describeChannel(channel: Channel): string {
  const forms = channel.subdirs.map((s) => `${s.name} (${s.shards ? `shards: ${s.shards.read} of ${s.shards.names} names${s.shards.cached ? `, ${s.shards.cached} from --cache` : ''}` : s.form})`);
  const skipped = describeSkipped(channel.counts);
  return `${channel.counts.selected} of ${channel.counts.considered} artifacts selected in ${forms.join(', ')}${skipped ? `; skipped ${skipped}` : ''}`;
}

const location = (source: string, ...parts: string[]) => (isUrl(source) ? [source, ...parts.map(encodeURIComponent)].join('/') : join(source, ...parts));

/** The subdirs to read: --subdir, else channeldata.json's list (URL), else those found. */
async function findSubdirs(source: string, timeoutSeconds: number, deadlineSeconds?: number): Promise<{ names: string[]; optional: boolean }> {
  if (!isUrl(source)) {
    const found: string[] = [];
    for await (const entry of await opendir(source)) {
      if (!entry.isDirectory() || !isSubdirName(entry.name)) continue;
      for (const form of FORMS) {
        if ((await stat(join(source, entry.name, form)).catch(() => null))?.isFile()) {
          found.push(entry.name);
          break;
        }
      }
    }
    if (!found.length) throw new ChannelError(`${source}: no <subdir>/repodata.json (nor its .zst, nor ${SHARD_INDEX_FILE}): not a conda channel`);
    return { names: found.sort(), optional: false };
  }
  const where = `${source}/channeldata.json`;
  const bytes = await readBytes(where, CHANNELDATA_LIMIT, timeoutSeconds, deadlineSeconds).catch(() => null); // unreachable or too large: look for the usual subdirs
  if (bytes) {
    let subdirs: unknown;
    try {
      subdirs = (JSON.parse(bytes.toString('utf8')) as { subdirs?: unknown }).subdirs;
    } catch {
      // not JSON: look for the usual subdirs
    }
    if (Array.isArray(subdirs) && subdirs.length) {
      for (const s of subdirs) if (typeof s !== 'string' || !isSubdirName(s)) throw new ChannelError(`${where}: subdir ${JSON.stringify(s).slice(0, 60)} is not a subdir name`);
      return { names: [...new Set(subdirs as string[])].sort(), optional: true };
    }
  }
  return { names: [...KNOWN_SUBDIRS].sort(), optional: true };
}

/** Decompresses a whole zstd document of at most `limit` bytes decompressed. */
async function unzstd(bytes: Uint8Array, limit: number): Promise<Buffer> {
  const out: Buffer[] = [];
  let size = 0;
  await zstd().decode(
    (async function* () {
      yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    })(),
    (chunk) => {
      size += chunk.length;
      if (size > limit) throw new Error(`larger than ${limit >> 20} MiB decompressed`);
      out.push(Buffer.from(chunk)); // the decoder reuses its output buffer
    },
  );
  return Buffer.concat(out);
}

/** Streams repodata.json (or its .zst) through the scanner into the selector. */
async function scanRepodata(chunks: AsyncIterable<Buffer>, compressed: boolean, subdir: string, selector: RecordSelector): Promise<void> {
  const scanner = new RepodataScanner((_table, file, value) => selector.offer(subdir, file, value));
  if (compressed) {
    let size = 0;
    await zstd().decode(chunks, (chunk) => {
      size += chunk.length;
      if (size > REPODATA_LIMIT) throw new Error(`larger than ${formatLimit(REPODATA_LIMIT)} decompressed`);
      scanner.push(chunk);
    });
  } else {
    for await (const chunk of chunks) scanner.push(chunk);
  }
  scanner.end();
}

/** A base URL from a shard index, as a place to read from: a URL, or (local channels only) a folder path. */
function placeOf(resolved: string, channelIsUrl: boolean, what: string, root: string): string {
  if (isUrl(resolved)) {
    const refused = channelIsUrl ? hostPolicy()?.refuses(resolved) : null;
    if (refused) throw new Error(`${what} ${resolved}: ${refused}`);
    return resolved;
  }
  if (!channelIsUrl && resolved.startsWith('file:')) {
    // A local channel's bases stay inside its folder: its index does not read elsewhere on disk.
    const path = fileURLToPath(resolved).replace(/\/*$/, '');
    const inside = relative(resolvePath(root), resolvePath(path));
    if (inside.startsWith('..') || isAbsolute(inside)) throw new Error(`${what} ${path} is outside the channel folder ${root}`);
    return `${path}/`;
  }
  throw new Error(`${what} ${resolved} is not http(s)${channelIsUrl ? ', and a remote channel may point nowhere else' : ' nor a path'}`);
}

interface ShardCacheStats {
  cached: number;
}

/** A shard's bytes: from --cache when there (and still matching its hash), else fetched, verified and kept. */
async function shardBytes(where: string, hex: string, cacheDir: string | null, timeoutSeconds: number, stats: ShardCacheStats, deadlineSeconds?: number): Promise<Buffer> {
  const kept = cacheDir ? join(cacheDir, 'shards', hex.slice(0, 2), `${hex}.msgpack.zst`) : null;
  if (kept) {
    const bytes = await readRegularFile(kept, { maxBytes: SHARD_COMPRESSED_LIMIT, follow: false }).catch(() => null);
    if (bytes && sha256Hex(bytes) === hex) {
      stats.cached++;
      return bytes;
    }
  }
  const bytes = await readBytes(where, SHARD_COMPRESSED_LIMIT, timeoutSeconds, deadlineSeconds);
  if (!bytes) throw new LocatedError(`${where}: not found`);
  const actual = sha256Hex(bytes);
  if (actual !== hex) throw new LocatedError(`${where}: SHA-256 is ${actual}, the shard index says ${hex}`);
  if (kept) {
    // Aside and renamed: shards sharing DIR never see half a file.
    await mkdir(join(cacheDir!, 'shards', hex.slice(0, 2)), { recursive: true });
    const temp = `${kept}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, kept);
  }
  return bytes;
}

/** Reads a subdir from its shard index: the shards of wanted names only, a few at a time. */
async function readShards(indexBytes: Buffer, indexWhere: string, source: string, channelIsUrl: boolean, subdir: string, selector: RecordSelector, options: LoadOptions): Promise<SubdirRead> {
  const index = parseShardIndex(await unzstd(indexBytes, SHARD_INDEX_LIMIT));
  const indexUrl = isUrl(indexWhere) ? indexWhere : pathToFileURL(indexWhere).href;
  const shardsBase = placeOf(resolveBase(indexUrl, index.shardsBaseUrl), channelIsUrl, 'shards_base_url', source);
  const base = placeOf(resolveBase(indexUrl, index.baseUrl), channelIsUrl, 'base_url', source);
  const names = [...index.shards.keys()].filter((n) => selector.wantsShard(n)).sort();
  const limit = pLimit(SHARD_CONCURRENCY);
  const decodes = pLimit(SHARD_DECODES);
  const stats = { cached: 0 };
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        const hex = index.shards.get(name)!;
        const where = isUrl(shardsBase) ? `${shardsBase}${hex}.msgpack.zst` : join(shardsBase, `${hex}.msgpack.zst`);
        let records;
        try {
          const compressed = await shardBytes(where, hex, options.cacheDir ?? null, options.timeoutSeconds, stats, options.deadlineSeconds);
          records = await decodes(async () => shardRecords(await unzstd(compressed, SHARD_LIMIT)));
        } catch (err) {
          if (err instanceof LocatedError) throw err;
          throw new LocatedError(`${where} (the shard of ${name}): ${(err as Error).message}`);
        }
        // The python shard read only for its builds (--name does not match it): records not counted.
        const offer = selector.wantsName(name) ? selector.offer.bind(selector) : selector.notePython.bind(selector);
        for (const [, file, record] of records) offer(subdir, file, record);
      }),
    ),
  );
  return { name: subdir, form: SHARD_INDEX_FILE, base, shards: { names: index.shards.size, read: names.length, cached: stats.cached } };
}

/** One subdir, from the first form it has that reads; null when it has none. */
async function readSubdir(source: string, subdir: string, options: LoadOptions, warnings: string[]): Promise<{ read: SubdirRead; selector: RecordSelector } | null> {
  let failure: Error | null = null;
  for (const form of FORMS) {
    const where = location(source, subdir, form);
    const selector = new RecordSelector(options.selection, options.memoryBytes);
    try {
      let read: SubdirRead;
      if (form === SHARD_INDEX_FILE) {
        const bytes = await readBytes(where, SHARD_INDEX_LIMIT, options.timeoutSeconds, options.deadlineSeconds);
        if (!bytes) continue;
        read = await readShards(bytes, where, source, isUrl(source), subdir, selector, options);
      } else {
        const chunks = await openBytes(where, REPODATA_LIMIT, options.timeoutSeconds, options.deadlineSeconds);
        if (!chunks) continue;
        await scanRepodata(chunks, form === 'repodata.json.zst', subdir, selector);
        read = { name: subdir, form, base: isUrl(source) ? `${source}/${encodeURIComponent(subdir)}/` : join(source, subdir) };
      }
      if (failure) warnings.push(`${failure.message}; read ${where} instead`);
      return { read, selector };
    } catch (err) {
      selector.close(); // what it spilled of a form that failed
      const message = (err as Error).message;
      failure ??= new ChannelError(err instanceof LocatedError ? message : `${where}: ${message}`);
    }
  }
  if (failure) throw failure;
  return null;
}

/**
 * Loads a channel's selected records. `subdirs` (from --subdir) must all exist; subdirs found by
 * looking may be missing (a channel without osx-arm64).
 */
export async function loadChannel(source: string, subdirs: readonly string[], options: LoadOptions): Promise<Channel> {
  const remote = isUrl(source);
  source = source.replace(/\/+$/, '');
  if (!remote) {
    const info = await stat(source).catch(() => null);
    if (!info?.isDirectory()) throw new ChannelError(`${source}: not a folder or an http(s) URL`);
  }
  const explicit = subdirs.length > 0;
  const wanted = explicit ? { names: [...new Set(subdirs)], optional: false } : await findSubdirs(source, options.timeoutSeconds, options.deadlineSeconds);
  const read: { read: SubdirRead; selector: RecordSelector }[] = [];
  const warnings: string[] = [];
  try {
    for (const subdir of wanted.names) {
      const got = await readSubdir(source, subdir, options, warnings);
      if (!got) {
        if (!wanted.optional) throw new ChannelError(`${location(source, subdir, 'repodata.json')}: not found (is ${subdir} a subdir of this channel?)`);
        continue;
      }
      read.push(got);
    }
    // No subdir answered: a channel that does not exist (or is not reachable), where --subdir would not help.
    if (!read.length) throw new ChannelError(`${source}: not a conda channel, or not reachable: no repodata.json in ${wanted.names.length > 4 ? `any of ${wanted.names.length} usual subdirs (${wanted.names.slice(0, 3).join(', ')}, …)` : wanted.names.join(', ')}`);
    read.sort((a, b) => (a.read.name < b.read.name ? -1 : a.read.name > b.read.name ? 1 : 0));
    // The selected records, sorted by subdir and file name, read back from each selector's store;
    // only those `keep` wants (this shard's) are held.
    const records: ChannelRecord[] = [];
    const counts = emptyCounts();
    const python = options.selection.learnPython ? { minors: new Set<string>(), builds: new PythonBuilds() } : null;
    const max = options.maxKept ?? Infinity;
    let over = false;
    for (const { selector } of read) {
      for (const r of selector.records()) {
        if (options.keep && !options.keep(r)) continue;
        if (over) continue; // counted to the end, so the error can say how many
        if (records.length < max) records.push(r);
        else {
          over = true;
          records.length = 0; // not needed any more
        }
      }
      addCounts(counts, selector.counts);
      for (const minor of selector.minors) python?.minors.add(minor);
      if (selector.pythons) python?.builds.merge(selector.pythons);
    }
    if (over) throw new TooManyRecords(counts.selected, max);
    return { source, isUrl: remote, subdirs: read.map((r) => r.read), records, counts, warnings, python };
  } finally {
    for (const { selector } of read) selector.close();
  }
}
