// One artifact, end to end: read it (I/O), then judge what was read (pure).
import { basename } from 'node:path';
import type { MagicTable } from './magic/table.js';
import { inferExpected, parseArtifactName, parseIndexJson, type Expected, type PackageInfo } from './package-info.js';
import { readTarget } from './sources/index.js';
import type { Target } from './sources/targets.js';
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
  /** What the reader said of how it read (an archive beside a folder; disagreements; unowned files). */
  notes: string[];
  /** Folder entries that could not be read: the audit of this artifact is incomplete. */
  unreadable: string[];
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
  const expected = inferExpected({ option: options.python, envPython: entries.envPython, info, pycPaths: entries.pyc.map((p) => p.path) });
  const pyc = entries.pyc
    .map((member) => judgePyc(member, expected, options.table))
    .sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  const notes = [...(entries.notes ?? [])];
  if (entries.owners) {
    const owners = entries.owners;
    for (const p of pyc) p.owner = owners.get(p.member) ?? null;
    const unowned = pyc.filter((p) => p.owner === null);
    if (unowned.length) notes.push(`${unowned.length} .pyc owned by no package in conda-meta (${unowned.slice(0, 2).map((p) => p.member).join(', ')}${unowned.length > 2 ? ', …' : ''})`);
  }
  return {
    path,
    kind: entries.kind,
    package: info,
    expected,
    error: null,
    pyc,
    status: pyc.length ? worstStatus(pyc.map((p) => p.status)) : null,
    notes,
    unreadable: entries.unreadable ?? [],
  };
}

export type Reader = (target: Target) => Promise<ArtifactEntries>;

export async function auditArtifact(path: string | Target, options: AuditOptions, read: Reader = readTarget): Promise<ArtifactResult> {
  const target: Target = typeof path === 'string' ? { path, kind: 'file' } : path;
  path = target.path;
  try {
    const entries = await read(target);
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
      notes: [],
      unreadable: [],
    };
  }
}
