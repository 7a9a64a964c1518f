// One artifact, end to end: read it (I/O), then judge what was read (pure).
import { basename } from 'node:path';
import type { MagicTable } from './magic/table.js';
import { inferExpected, parseArtifactName, parseIndexJson, type Expected, type PackageInfo } from './package-info.js';
import { readArtifact } from './sources/index.js';
import type { ArtifactEntries, ArtifactKind } from './sources/types.js';
import { judgePyc, worstStatus, type PycStatus, type PycVerdict } from './verdict.js';

export interface ArtifactResult {
  path: string;
  kind: ArtifactKind | null;
  package: PackageInfo;
  expected: Expected | null;
  /** null, or why the artifact could not be read. */
  error: string | null;
  pyc: PycVerdict[];
  /** Worst status of its .pyc; null when it has none or could not be read. */
  status: PycStatus | null;
}

export interface AuditOptions {
  table: MagicTable;
  /** --python X.Y */
  python?: string | null;
}

/** Judges what a reader collected. Pure: no I/O. */
export function judgeArtifact(path: string, entries: ArtifactEntries, options: AuditOptions): ArtifactResult {
  const fromIndex = parseIndexJson(entries.metadata.get('info/index.json'));
  const fromName = parseArtifactName(basename(path));
  const info: PackageInfo = {
    ...fromIndex,
    name: fromIndex.name ?? fromName.name,
    version: fromIndex.version ?? fromName.version,
    build: fromIndex.build ?? fromName.build,
  };
  if (entries.kind === 'pyc') info.name = info.version = info.build = null;
  const expected = inferExpected({ option: options.python, info, pycPaths: entries.pyc.map((p) => p.path) });
  const pyc = entries.pyc
    .map((member) => judgePyc(member, expected, options.table))
    .sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  return {
    path,
    kind: entries.kind,
    package: info,
    expected,
    error: null,
    pyc,
    status: pyc.length ? worstStatus(pyc.map((p) => p.status)) : null,
  };
}

export type Reader = (path: string) => Promise<ArtifactEntries>;

export async function auditArtifact(path: string, options: AuditOptions, read: Reader = readArtifact): Promise<ArtifactResult> {
  try {
    const entries = await read(path);
    return judgeArtifact(path, entries, options);
  } catch (err) {
    return {
      path,
      kind: null,
      package: { name: null, version: null, build: null, subdir: null, noarch: null, depends: [] },
      expected: null,
      error: (err as Error).message || String(err),
      pyc: [],
      status: null,
    };
  }
}
