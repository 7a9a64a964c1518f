// One artifact judged: what a reader collected (entries) in, its verdicts and findings out. Pure:
// no I/O (reading and judging end to end: run/audit-artifact.ts).
import { basename } from 'node:path';
import { pycLocation } from './pyc-paths.js';
import type { MagicTable, TargetMagic } from '../magic/table.js';
import { inferExpected, parseArtifactName, parseIndexJson, parseRecipe, type Expected, type PackageInfo, type Recipe } from './package-info.js';
import type { ArtifactEntries, ArtifactKind } from '../sources/types.js';
import { judgePyc, worstStatus, type PycStatus, type PycVerdict } from './verdict.js';
import { checkArtifact, isInstalled, type Finding, type Impact } from './checks.js';
import { ALL_RULES, failsAt, isSelected, ruleFor, severityRank, type RuleSelection, type Severity } from './rules.js';
import { checkedHashMagic, hashKey, type HashRequest } from './source-hash.js';
import type { ArtifactOrigin } from '../channel/repodata.js';

/** A remark on how an artifact was read, with how much it matters (text and CI formats show warnings). */
export interface Note {
  level: 'warning' | 'info';
  text: string;
}

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
  notes: Note[];
  /** Folder entries that could not be read: the audit of this artifact is incomplete. */
  unreadable: string[];
  /** Coded findings (those the run selects), worst first. */
  findings: Finding[];
  /** What the target Python compiles at first import, whatever the selection. */
  impact: Impact;
  /** In a channel run: where in the channel the artifact is, and its shard. */
  origin?: ArtifactOrigin;
  /** The recipe the build came from (info/about.json), where it says; absent in results from before it was read. */
  recipe?: Recipe | null;
  /**
   * What the input was when it was read ("size:mtimeMs" of a file or folder, "sha256:…" from a
   * channel): --resume keeps a result only for the same path and identity.
   */
  identity?: string;
}

export interface AuditOptions {
  table: MagicTable;
  /** --python X.Y */
  python?: string | null;
  /** --select / --ignore */
  selection?: RuleSelection;
  /** --interpreter: the magic the target said it loads (already in `table`); it outranks an environment's own python. */
  target?: TargetMagic | null;
  /** Environments by root: the table their own python's stdlib bytecode calls for, and what to say of it. */
  environments?: ReadonlyMap<string, { table: MagicTable; note: string | null }>;
}

/** Whether an artifact fails a run with --fail-on `level` (an unreadable one always does, apart). */
export function fails(r: ArtifactResult, level: Severity | 'never'): boolean {
  return r.findings.some((f) => failsAt(f.severity, level));
}

/** Whether an artifact needs a rebuild (--list-stale): it fails `level` by what conda installs (not info/). */
export function needsRebuild(r: ArtifactResult, level: Severity | 'never'): boolean {
  return r.findings.some((f) => ruleFor(f.code).installed && failsAt(f.severity, level));
}

/**
 * A reader's note with its level: one that says the package is not what it seems (a folder that
 * DISAGREES with its archive) is a warning, how it was read is info. Readers give plain text.
 */
function readerNote(text: string): Note {
  return { level: /DISAGREES/.test(text) ? 'warning' : 'info', text };
}

/** Judges what a reader collected. Pure: no I/O. */
export function judgeArtifact(path: string, entries: ArtifactEntries, options: AuditOptions, hashesUnavailable: string | null = null): ArtifactResult {
  const fromIndex = parseIndexJson(entries.metadata.get('info/index.json'));
  const fromName = parseArtifactName(basename(path));
  const info: PackageInfo = {
    ...fromIndex,
    name: fromIndex.name ?? fromName.name,
    version: fromIndex.version ?? fromName.version,
    build: fromIndex.build ?? fromName.build,
  };
  if (entries.kind === 'pyc') info.name = info.version = info.build = null;
  let expected = inferExpected({ option: options.python, envPython: entries.envPython, info, pycPaths: entries.pyc.map((p) => p.path) });
  // --interpreter names the implementation as well as the version (a PyPy or GraalPy target).
  const targetImpl = options.target?.implementation;
  if (expected.from === 'option' && (targetImpl === 'PyPy' || targetImpl === 'GraalPy')) expected = { ...expected, implementation: targetImpl };
  const table = options.table;
  const pyc = entries.pyc
    .map((member) => judgePyc(member, expected, table))
    .sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  const notes = (entries.notes ?? []).map(readerNote);
  if (entries.owners) {
    const owners = entries.owners;
    for (const p of pyc) p.owner = owners.get(p.member) ?? null;
    const unowned = pyc.filter((p) => p.owner === null);
    if (unowned.length) notes.push({ level: 'warning', text: `${unowned.length} .pyc owned by no package in conda-meta (${unowned.slice(0, 2).map((p) => p.member).join(', ')}${unowned.length > 2 ? ', …' : ''})` });
  }
  const checked = checkArtifact({
    kind: entries.kind,
    package: info,
    expected,
    pyc,
    sources: entries.sources,
    pyo: entries.pyo,
    pathsJson: entries.metadata.get('info/paths.json'),
    table,
    hashesUnavailable,
    onlyPycSources: entries.contextSources ?? false,
  });
  const selection = options.selection ?? ALL_RULES;
  const findings = checked.findings
    .filter((f) => isSelected(f.code, selection))
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  return {
    path,
    kind: entries.kind,
    package: info,
    expected,
    error: null,
    pyc,
    // What conda installs decides the status: bytecode under info/ is a finding of its own (PYC205).
    status: installedStatus(pyc),
    notes,
    unreadable: entries.unreadable ?? [],
    findings,
    impact: checked.impact,
    // An environment's info/ is not one package's: its packages' recipes are not read.
    recipe: entries.kind === 'env' ? null : parseRecipe(entries.metadata.get('info/about.json')),
  };
}

/** The worst status of the .pyc conda installs; null when it installs none. */
function installedStatus(pyc: readonly PycVerdict[]): PycStatus | null {
  const installed = pyc.filter((p) => isInstalled(p.member));
  return installed.length ? worstStatus(installed.map((p) => p.status)) : null;
}

/**
 * Checked-hash .pyc whose source streamed past before them (conda-package-handling orders members
 * by extension: .py before .pyc), so it was not hashed: the sources a second read must hash.
 */
export function missingSourceHashes(entries: ArtifactEntries): HashRequest {
  const byPath = new Map(entries.sources.map((s) => [s.path, s]));
  const request = new Map<string, number[]>();
  for (const pyc of entries.pyc) {
    const magic = checkedHashMagic(pyc.head);
    if (magic === null) continue;
    const source = byPath.get(pycLocation(pyc.path).source);
    if (!source || source.hashes?.has(hashKey(magic, '1-3'))) continue;
    const magics = request.get(source.path) ?? [];
    if (!magics.includes(magic)) magics.push(magic);
    request.set(source.path, magics);
  }
  return request;
}
