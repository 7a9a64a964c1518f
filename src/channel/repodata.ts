// A conda channel's index: <subdir>/repodata.json lists every artifact with its name, version,
// build, depends and sha256. Pure: bytes in, records out; selection by name globs and Python.
import picomatch from 'picomatch';
import { dependsPython, parseArtifactName } from '../package-info.js';

export interface ChannelRecord {
  subdir: string;
  /** The artifact's file name in its subdir. */
  file: string;
  name: string;
  version: string;
  build: string;
  depends: string[];
  sha256: string | null;
  size: number | null;
  /** The Python minor its depends pin (python_abi, then python), or null. */
  python: string | null;
}

/** Where an audited artifact came from in a channel run; carried into every report, for merge. */
export interface ArtifactOrigin {
  channel: string;
  subdir: string;
  file: string;
  sha256: string | null;
  /**
   * --shard K/N (1/1 without it), how many artifacts shard K holds and how many all N hold, so a
   * merge can find gaps (a shard missing, or cut short) without knowing the channel.
   */
  shard: { index: number; count: number; size: number; total: number };
}

const SHA256 = /^[0-9a-f]{64}$/;

/** The records of one subdir's repodata.json. Throws with a plain reason on a document that is not one. */
export function parseRepodata(bytes: Buffer, subdir: string): ChannelRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new Error('not a repodata document');
  const d = doc as Record<string, unknown>;
  const records: ChannelRecord[] = [];
  for (const key of ['packages', 'packages.conda']) {
    const table = d[key];
    if (table === undefined) continue;
    if (!table || typeof table !== 'object') throw new Error(`"${key}" is not an object`);
    for (const [file, value] of Object.entries(table as Record<string, unknown>)) {
      // A file name is a path segment: nothing that could climb out of the subdir.
      if (!/^[^/\\]+\.(conda|tar\.bz2)$/.test(file) || file.startsWith('.')) continue;
      const r = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
      const fromName = parseArtifactName(file);
      const str = (v: unknown, fallback: string | null) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);
      const depends = Array.isArray(r.depends) ? r.depends.filter((x): x is string => typeof x === 'string') : [];
      const sha = typeof r.sha256 === 'string' && SHA256.test(r.sha256.toLowerCase()) ? r.sha256.toLowerCase() : null;
      records.push({
        subdir,
        file,
        name: str(r.name, fromName.name) ?? file,
        version: str(r.version, fromName.version) ?? '',
        build: str(r.build, fromName.build) ?? '',
        depends,
        sha256: sha,
        size: typeof r.size === 'number' && Number.isSafeInteger(r.size) && r.size >= 0 ? r.size : null,
        python: dependsPython(depends),
      });
    }
  }
  return records;
}

export interface RecordSelection {
  /** Package-name globs (picomatch); empty: every name. */
  names: readonly string[];
  /** Only builds whose depends pin this Python minor. */
  python: string | null;
}

/**
 * The artifacts to audit: matching names and Python, one per subdir/name-version-build (the
 * .conda when both formats exist, as conda itself downloads), sorted by subdir and file name.
 */
export function selectRecords(records: readonly ChannelRecord[], selection: RecordSelection): ChannelRecord[] {
  const nameMatches = selection.names.length ? picomatch([...selection.names]) : () => true;
  const chosen = new Map<string, ChannelRecord>();
  for (const r of records) {
    if (!nameMatches(r.name)) continue;
    if (selection.python && r.python !== selection.python) continue;
    const key = `${r.subdir}/${r.name}-${r.version}-${r.build}`;
    const have = chosen.get(key);
    if (!have || (r.file.endsWith('.conda') && !have.file.endsWith('.conda'))) chosen.set(key, r);
  }
  return [...chosen.values()].sort((a, b) => compare(a.subdir, b.subdir) || compare(a.file, b.file));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
