// The package metadata every reader keeps whole (archives, folders, the archive-beside-a-folder
// comparison), defined once with the size above which each is a broken package, not metadata;
// and the one parser of info/paths.json.

const LIMITS = new Map([
  ['info/index.json', 4 << 20],
  ['info/paths.json', 64 << 20],
  // The recipe a build came from (extra.remote_url, extra.sha: conda-smithy's builds write them).
  ['info/about.json', 4 << 20],
]);

/** Paths, inside a package, of the metadata files read whole. */
export const METADATA_FILES: readonly string[] = [...LIMITS.keys()];

/** The largest size a metadata file may have, or 0 for a path that is not metadata. */
export function metadataLimit(path: string): number {
  return LIMITS.get(path) ?? 0;
}

/** One file info/paths.json lists. */
export interface PathsEntry {
  path: string;
  sha256: string | null;
  size: number | null;
  /** conda rewrites the install prefix into this file at install time. */
  prefixPlaceholder: boolean;
  /** hardlink (a file), softlink, directory. */
  type: string;
}

/** The files info/paths.json lists, or null when it is absent or not the JSON conda writes. */
export function parsePathsJson(bytes: Buffer | undefined): PathsEntry[] | null {
  if (!bytes) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  const paths = (doc as { paths?: unknown } | null)?.paths;
  if (!Array.isArray(paths)) return null;
  const out: PathsEntry[] = [];
  for (const p of paths as Record<string, unknown>[]) {
    if (typeof p?._path !== 'string') continue;
    out.push({
      path: p._path,
      sha256: typeof p.sha256 === 'string' ? p.sha256 : null,
      size: typeof p.size_in_bytes === 'number' ? p.size_in_bytes : null,
      prefixPlaceholder: typeof p.prefix_placeholder === 'string' && p.prefix_placeholder !== '',
      type: typeof p.path_type === 'string' ? p.path_type : 'hardlink',
    });
  }
  return out;
}
