// --format json: one document for the whole run. The shape is documented in the README.
import type { ArtifactResult } from '../audit.js';
import type { MagicTable } from '../magic/table.js';
import type { MagicEntry } from '../magic/types.js';

import { fails } from '../audit.js';
import type { Severity } from '../rules.js';
import type { ArtifactOrigin } from '../channel/repodata.js';

/** 2: findings with codes and the impact were added (1 had the .pyc statuses only). */
export const JSON_SCHEMA_VERSION = 2;

export function artifactJson(r: ArtifactResult) {
  return {
    path: r.path,
    kind: r.kind,
    package: {
      name: r.package.name,
      version: r.package.version,
      build: r.package.build,
      subdir: r.package.subdir,
      noarch: r.package.noarch,
    },
    expected: r.expected
      ? {
          version: r.expected.version,
          implementation: r.expected.implementation,
          from: r.expected.from,
          conflict: r.expected.conflict,
          clues: r.expected.clues,
        }
      : null,
    status: r.status,
    error: r.error,
    findings: r.findings,
    impact: r.impact,
    notes: r.notes,
    unreadable: r.unreadable,
    ...(r.origin ? { channel: r.origin } : {}),
    pyc: r.pyc.map((p) => ({
      member: p.member,
      size: p.size,
      magic: p.magic,
      headerHex: p.headerHex,
      header: p.header
        ? {
            size: p.header.headerSize,
            kind: p.header.kind,
            flags: p.header.flags,
            mtime: p.header.mtime,
            sourceSize: p.header.sourceSize,
            sourceHash: p.header.sourceHash,
          }
        : null,
      implementation: p.implementation,
      version: p.version,
      releases: p.releases,
      status: p.status,
      message: p.message,
      ...(p.owner !== undefined ? { owner: p.owner } : {}),
    })),
  };
}

type ArtifactJson = ReturnType<typeof artifactJson>;

/**
 * The inverse of artifactJson: a result read back from a JSON or ndjson report (pyc-audit merge,
 * the result cache). Everything a report prints survives the round trip; `package.depends`,
 * which no report prints, comes back empty.
 */
export function fromArtifactJson(o: ArtifactJson): ArtifactResult {
  // Only the header's fields are renamed (and `channel` is `origin`); the rest is as it was.
  const { package: pkg, pyc, ...rest } = o;
  const { channel, ...result } = rest as typeof rest & { channel?: ArtifactOrigin };
  return {
    ...result,
    package: { ...pkg, depends: [] },
    pyc: pyc.map(({ header, ...p }) => ({
      ...(p as typeof p & { owner?: string | null }),
      header: header ? { magic: p.magic!, headerSize: header.size, kind: header.kind, flags: header.flags, mtime: header.mtime, sourceSize: header.sourceSize, sourceHash: header.sourceHash } : null,
    })),
    ...(channel ? { origin: channel } : {}),
  };
}

/** A parsed JSON value as an artifact result, or null when it is not one of ours (merge, --resume). */
export function readArtifactJson(value: unknown): ArtifactResult | null {
  const o = value as Partial<Record<keyof ArtifactJson, unknown>> | null;
  if (!o || typeof o !== 'object' || typeof o.path !== 'string') return null;
  if (![o.pyc, o.findings, o.notes, o.unreadable].every(Array.isArray) || !o.package || !o.impact) return null;
  return fromArtifactJson(o as ArtifactJson);
}

export interface Tally {
  artifacts: number;
  pyc: number;
  findings: number;
  bySeverity: Record<Severity, number>;
  /** Artifacts with a finding at or above --fail-on: they need a rebuild, and exit with 1. */
  failing: number;
  /** Artifacts that could not be read. */
  errors: number;
  /** Artifacts read only in part (folder entries that could not be read). */
  incomplete: number;
  /** Summed over artifacts: modules compiled at first import, and their source bytes. */
  impact: { modules: number; sourceBytes: number };
  failOn: Severity | 'never';
}

export function emptyTally(failOn: Severity | 'never' = 'error'): Tally {
  return { artifacts: 0, pyc: 0, findings: 0, bySeverity: { error: 0, warning: 0, info: 0 }, failing: 0, errors: 0, incomplete: 0, impact: { modules: 0, sourceBytes: 0 }, failOn };
}

export function addToTally(t: Tally, r: ArtifactResult): void {
  t.artifacts++;
  t.pyc += r.pyc.length;
  t.findings += r.findings.length;
  for (const f of r.findings) t.bySeverity[f.severity]++;
  if (fails(r, t.failOn)) t.failing++;
  if (r.error !== null) t.errors++;
  if (r.unreadable.length) t.incomplete++;
  t.impact.modules += r.impact.modules;
  t.impact.sourceBytes += r.impact.sourceBytes;
}

/**
 * An artifact as it sits in the document's "artifacts" array, four spaces in: stringified inside a
 * wrapper of that depth and cut out (re-indenting a stringified megabyte cost ~40 ms per run).
 */
function nested(value: unknown): string {
  const text = JSON.stringify({ artifacts: [value] }, null, 2);
  return text.slice(text.indexOf('[\n') + 6, text.lastIndexOf('\n  ]'));
}

/**
 * The JSON report, written as it goes: one artifact at a time, so a run over thousands of
 * artifacts never holds them all. The document is the same as one JSON.stringify would give,
 * with `summary` after `artifacts`.
 */
export class JsonReportWriter {
  private first = true;
  constructor(private readonly toolVersion: string) {}

  begin(): string {
    const tool = JSON.stringify({ name: 'pyc-audit', version: this.toolVersion, schema: JSON_SCHEMA_VERSION });
    return `{\n  "tool": ${tool},\n  "artifacts": [`;
  }

  artifact(r: ArtifactResult): string {
    const text = `${this.first ? '' : ','}\n    ${nested(artifactJson(r))}`;
    this.first = false;
    return text;
  }

  end(tally: Tally): string {
    return `${this.first ? '' : '\n  '}],\n  "summary": ${JSON.stringify(summaryJson(tally))}\n}\n`;
  }
}

export function summaryJson(t: Tally) {
  const { artifacts, pyc, findings, bySeverity, failing, errors, incomplete, impact, failOn } = t;
  return { artifacts, pyc, findings, bySeverity, failing, failOn, errors, incomplete, impact };
}

export function magicEntryJson(e: MagicEntry) {
  return {
    magic: e.magic,
    implementation: e.implementation,
    version: e.version,
    alsoVersions: e.alsoVersions,
    releases: e.releases,
    final: e.final,
    firstFinal: e.firstFinal,
    current: e.current,
    commentTag: e.commentTag,
    note: e.note,
    source: e.source,
  };
}

export function magicTableJson(table: MagicTable, only?: MagicEntry[]): string {
  const rows = only ?? table.entries;
  return `${JSON.stringify(rows.map(magicEntryJson), null, 2)}\n`;
}

