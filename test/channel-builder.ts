// Builds a conda channel folder from the fixtures, in the index forms asked for: repodata.json,
// repodata.json.zst, CEP-16 shards (an index and one shard per package name). Test-only.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { fixture } from './helpers.js';
import { zstdFrame } from './archives.js';

export type Layout = Record<string, string[]>;

export interface BuildOptions {
  json?: boolean;
  zst?: boolean;
  shards?: boolean;
  channeldata?: boolean;
  /** Where shards go, relative to the index (CEP-16's shards_base_url). */
  shardsBaseUrl?: string;
  /** Fields of the shard index's info to set as given (base_url, shards_base_url), after the shards are written. */
  indexInfo?: Record<string, string>;
  /** The folder the artifacts are copied from (default: the fixtures). */
  from?: string;
  /** depends of a record, by its build (default: depends()). */
  depends?: (name: string, build: string) => string[];
  /** The build time a record gives (repodata's `timestamp`, ms), by file name; none by default. */
  timestamp?: (file: string) => number | undefined;
}

/** depends as conda-build writes them: python_abi and python for pyXY builds, python alone for noarch. */
export function depends(build: string): string[] {
  const m = /^py(\d)(\d+)/.exec(build);
  if (!m) return ['python >=3.8'];
  const [major, minor] = [m[1], Number(m[2])];
  return [`python >=${major}.${minor},<${major}.${minor + 1}.0a0`, `python_abi ${major}.${minor}.* *_cp${major}${minor}`];
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Built {
  /** subdir → package name → the hex SHA-256 of its shard. */
  shards: Record<string, Record<string, string>>;
}

export function buildChannel(dir: string, layout: Layout, options: BuildOptions): Built {
  const built: Built = { shards: {} };
  for (const [subdir, files] of Object.entries(layout)) {
    mkdirSync(join(dir, subdir), { recursive: true });
    const packages: Record<string, Record<string, unknown>> = {};
    const condaPackages: Record<string, Record<string, unknown>> = {};
    for (const file of files) {
      const from = options.from ? join(options.from, file) : fixture(file);
      const bytes = readFileSync(from);
      copyFileSync(from, join(dir, subdir, file));
      const [, name, version, build] = /^(.+)-([^-]+)-([^-]+)\.(?:conda|tar\.bz2)$/.exec(file)!;
      const timestamp = options.timestamp?.(file);
      const record = { name, version, build, build_number: 0, depends: (options.depends ?? ((_, b) => depends(b)))(name!, build!), md5: createHash('md5').update(bytes).digest('hex'), sha256: sha256(bytes), size: bytes.length, subdir, ...(timestamp !== undefined ? { timestamp } : {}) };
      (file.endsWith('.conda') ? condaPackages : packages)[file] = record;
    }
    const repodata = JSON.stringify({ info: { subdir }, packages, 'packages.conda': condaPackages, removed: [], repodata_version: 1 });
    if (options.json) writeFileSync(join(dir, subdir, 'repodata.json'), repodata);
    if (options.zst) writeFileSync(join(dir, subdir, 'repodata.json.zst'), zstdFrame(Buffer.from(repodata)));
    if (options.shards) {
      const shardsBase = options.shardsBaseUrl ?? './shards/';
      const shardDir = join(dir, subdir, shardsBase);
      mkdirSync(shardDir, { recursive: true });
      const byName = new Map<string, { packages: Record<string, unknown>; 'packages.conda': Record<string, unknown>; removed: string[] }>();
      for (const [table, records] of [['packages', packages], ['packages.conda', condaPackages]] as const) {
        for (const [file, r] of Object.entries(records)) {
          const shard = byName.get(r.name as string) ?? { packages: {}, 'packages.conda': {}, removed: [] };
          // As the shards carry them: checksums as raw bytes.
          shard[table][file] = { ...r, sha256: Buffer.from(r.sha256 as string, 'hex'), md5: Buffer.from(r.md5 as string, 'hex') };
          byName.set(r.name as string, shard);
        }
      }
      const index: Record<string, Uint8Array> = {};
      built.shards[subdir] = {};
      for (const [name, shard] of byName) {
        const bytes = zstdFrame(Buffer.from(encode(shard)));
        const hex = sha256(bytes);
        writeFileSync(join(shardDir, `${hex}.msgpack.zst`), bytes);
        index[name] = Buffer.from(hex, 'hex');
        built.shards[subdir]![name] = hex;
      }
      const doc = { info: { base_url: './', shards_base_url: shardsBase, subdir, ...options.indexInfo }, repodata_version: 2, removed: [], shards: index };
      writeFileSync(join(dir, subdir, 'repodata_shards.msgpack.zst'), zstdFrame(Buffer.from(encode(doc))));
    }
  }
  if (options.channeldata) writeFileSync(join(dir, 'channeldata.json'), JSON.stringify({ channeldata_version: 1, subdirs: Object.keys(layout) }));
  return built;
}
