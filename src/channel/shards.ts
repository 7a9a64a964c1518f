// Sharded repodata (CEP-16): <subdir>/repodata_shards.msgpack.zst is a zstd-compressed msgpack
// map {info: {base_url, shards_base_url, subdir, …}, shards: {package name: SHA-256 (32 bytes)}}.
// Each shard, <shards_base_url><sha256 hex>.msgpack.zst, holds one name's records as repodata.json
// does ({packages, packages.conda, removed}, with sha256 and md5 as raw bytes); it is named by
// the SHA-256 of its compressed bytes, so it never changes and can be cached for good. Pure:
// decompressed bytes in, index and records out.
import { decode } from '@msgpack/msgpack';
import { checkMsgpack, type MsgpackBounds } from './msgpack-bounds.js';
import type { RecordTable } from './repodata-scan.js';

export const SHARD_INDEX_FILE = 'repodata_shards.msgpack.zst';

export interface ShardIndex {
  /** Where the artifacts are, relative to the index ("" or "./": beside it). */
  baseUrl: string;
  /** Where the shards are, relative to the index. */
  shardsBaseUrl: string;
  /** Package name → SHA-256 (hex) of its shard. */
  shards: Map<string, string>;
}

/** Bounds on what one msgpack document may hold: a real index has one entry per package name. */
const LIMITS = { maxStrLength: 1 << 20, maxBinLength: 1 << 20, maxArrayLength: 1 << 22, maxMapLength: 1 << 22, maxExtLength: 1 << 10 };

/** Package names one shard index may list (conda-forge's subdirs have tens of thousands). */
export const MAX_NAMES = 1 << 20;
/** Records one shard may hold (one name's builds: a few thousand for the busiest). */
export const MAX_SHARD_RECORDS = 1 << 16;
/** Nesting and values in all, checked before decoding (msgpack-bounds.ts). */
const INDEX_BOUNDS: MsgpackBounds = { maxDepth: 8, maxValues: 2 * MAX_NAMES + 4096 };
const SHARD_BOUNDS: MsgpackBounds = { maxDepth: 8, maxValues: 1 << 22 };

function decodeMap(bytes: Uint8Array, what: string, bounds: MsgpackBounds): Record<string, unknown> {
  let doc: unknown;
  try {
    checkMsgpack(bytes, bounds);
  } catch (err) {
    throw new Error(`not a ${what} within bounds: ${(err as Error).message}`);
  }
  try {
    doc = decode(bytes, LIMITS);
  } catch (err) {
    throw new Error(`not msgpack: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || doc instanceof Uint8Array) throw new Error(`not a ${what} (not a msgpack map)`);
  return doc as Record<string, unknown>;
}

const urlField = (info: Record<string, unknown>, key: string): string => {
  const v = info[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`info.${key} is not a string`);
  return v;
};

export function parseShardIndex(bytes: Uint8Array): ShardIndex {
  const doc = decodeMap(bytes, 'shard index', INDEX_BOUNDS);
  const info = (doc.info && typeof doc.info === 'object' ? doc.info : {}) as Record<string, unknown>;
  const table = doc.shards;
  if (!table || typeof table !== 'object' || Array.isArray(table)) throw new Error('"shards" is missing or not a map');
  const shards = new Map<string, string>();
  if (Object.keys(table).length > MAX_NAMES) throw new Error(`more than ${MAX_NAMES} package names`);
  for (const [name, hash] of Object.entries(table as Record<string, unknown>)) {
    if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new Error(`the shard of ${JSON.stringify(name).slice(0, 80)} has no 32-byte SHA-256`);
    shards.set(name, Buffer.from(hash.buffer, hash.byteOffset, hash.length).toString('hex'));
  }
  return { baseUrl: urlField(info, 'base_url'), shardsBaseUrl: urlField(info, 'shards_base_url'), shards };
}

/** The records of one shard, as (table, file, record) triples. */
export function shardRecords(bytes: Uint8Array): [RecordTable, string, unknown][] {
  const doc = decodeMap(bytes, 'shard', SHARD_BOUNDS);
  const out: [RecordTable, string, unknown][] = [];
  for (const table of ['packages', 'packages.conda'] as const) {
    const records = doc[table];
    if (records === undefined || records === null) continue;
    if (typeof records !== 'object' || Array.isArray(records)) throw new Error(`"${table}" is not a map`);
    for (const [file, record] of Object.entries(records as Record<string, unknown>)) {
      if (out.length >= MAX_SHARD_RECORDS) throw new Error(`more than ${MAX_SHARD_RECORDS} records`);
      out.push([table, file, record]);
    }
  }
  return out;
}

/**
 * Resolves base_url or shards_base_url against the index's own URL, as a folder: "" and "./"
 * are the index's folder, "../shards/" its sibling, an absolute URL itself. The result ends in "/".
 */
export function resolveBase(indexUrl: string, base: string): string {
  const url = new URL(base === '' ? './' : base, indexUrl);
  url.search = '';
  url.hash = '';
  const text = url.href;
  return text.endsWith('/') ? text : `${text}/`;
}
