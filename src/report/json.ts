// --format json: one document for the whole run. The shape is documented in the README.
import type { ArtifactResult, Note } from '../judge/artifact.js';
import type { Finding } from '../judge/checks.js';
import type { MagicTable } from '../magic/table.js';
import type { MagicEntry } from '../magic/types.js';

import { fails } from '../judge/artifact.js';
import type { Severity } from '../judge/rules.js';
import type { ArtifactOrigin } from '../channel/repodata.js';
import { addToWindows, windowsJson, type MagicWindow } from './windows.js';

/**
 * 4: artifacts carry their `recipe` (info/about.json), a channel artifact its build `timestamp`,
 * the summary a channel run's build `windows`. 3: notes are {level, text}; findings carry the `cause` reports group them by; statuses
 * `superseded` and `unconfirmed`. 2: findings with codes and the impact were added (1 had the .pyc
 * statuses only).
 */
export const JSON_SCHEMA_VERSION = 4;

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
    // Where the build's recipe lives and the commit built (info/about.json), or null.
    recipe: r.recipe ?? null,
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
  // `index` (an ndjson line's position in its run) is not part of the result.
  const { channel, index: _index, identity, ...result } = rest as typeof rest & { channel?: ArtifactOrigin; index?: number; identity?: unknown };
  // Reports of schema 2 had notes as plain text and findings without a cause.
  const notes = (result.notes as unknown[]).map((n) => (typeof n === 'string' ? { level: 'info' as const, text: n } : (n as Note)));
  const findings = (result.findings as (Omit<Finding, 'cause'> & { cause?: string })[]).map((f) => ({ ...f, cause: f.cause ?? f.message }));
  return {
    ...result,
    notes,
    findings,
    package: { ...pkg, depends: [] },
    pyc: pyc.map(({ header, ...p }) => ({
      ...(p as typeof p & { owner?: string | null }),
      header: header ? { magic: p.magic!, headerSize: header.size, kind: header.kind, flags: header.flags, mtime: header.mtime, sourceSize: header.sourceSize, sourceHash: header.sourceHash } : null,
    })),
    ...(channel ? { origin: channel } : {}),
    ...(typeof identity === 'string' ? { identity } : {}),
  };
}

/** An ndjson line: the artifact's position in the run's inputs (0-based), then the artifact as in the JSON report. */
export function ndjsonLine(r: ArtifactResult, index: number): string {
  // `identity` (what --resume compares) last: the rest is the JSON report's artifact.
  return `${JSON.stringify({ index, ...artifactJson(r), ...(r.identity ? { identity: r.identity } : {}) })}\n`;
}

/** A parsed JSON value as an artifact result, or null when it is not one of ours (merge, --resume). */
export function readArtifactJson(value: unknown): ArtifactResult | null {
  return artifactJsonProblem(value) === null ? fromArtifactJson(value as ArtifactJson) : null;
}

// What a report read back (merge, --resume, the cache) may hold. Every field the report writers
// and the tally read is checked for its type, its range and its length, so a hostile or damaged
// line is one clear error, never an exception deep in a writer or an allocation it dictates.
const KINDS = ['conda', 'tar.bz2', 'tar.gz', 'tar', 'whl', 'zip', 'pyc', 'folder', 'env', 'dir'];
const STATUSES = ['ok', 'unconfirmed', 'superseded', 'stale', 'wrong-version', 'tag-mismatch', 'unknown-magic', 'invalid'];
const SOURCES = ['option', 'env-python', 'python_abi', 'python', 'build-string', 'lib-path', 'cache-tag'];
const SEVERITY_NAMES = ['error', 'warning', 'info'];
/** A channel run is split into at most this many shards (merge lists the ones missing). */
export const MAX_SHARDS = 100_000;
/** Longest string a report field may hold (a member name is at most a few KiB; this is generous). */
const MAX_STRING = 1 << 20;
/** Most artifacts one channel may list. */
const MAX_ARTIFACTS = 100_000_000;

type Check = (v: unknown) => string | null;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => (typeof v !== 'string' ? 'is not a string' : v.length > MAX_STRING ? 'is longer than 1 MiB' : null);
const nullable = (check: Check): Check => (v) => (v === null ? null : check(v));
const oneOf = (values: string[]): Check => (v) => (typeof v === 'string' && values.includes(v) ? null : `is not one of ${values.join(', ')}`);
const int = (min: number, max: number): Check => (v) => (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? null : `is not a whole number from ${min} to ${max}`);
const count = int(0, Number.MAX_SAFE_INTEGER);

function fields(o: unknown, checks: Record<string, Check>, optional: string[] = []): string | null {
  if (!isObject(o)) return 'is not an object';
  for (const [key, check] of Object.entries(checks)) {
    if (!(key in o) && optional.includes(key)) continue;
    const problem = key in o ? check(o[key]) : 'is missing';
    if (problem) return `${/^[.[]/.test(problem) ? key : `${key} `}${problem}`;
  }
  return null;
}
const object = (checks: Record<string, Check>, optional: string[] = []): Check => (v) => {
  const problem = fields(v, checks, optional);
  return problem === null ? null : problem === 'is not an object' ? problem : `.${problem}`;
};
const array = (check: Check): Check => (v) => {
  if (!Array.isArray(v)) return 'is not an array';
  for (let i = 0; i < v.length; i++) {
    const problem = check(v[i]);
    if (problem) return `[${i}]${/^[.[]/.test(problem) ? '' : ' '}${problem}`;
  }
  return null;
};

const ARTIFACT: Record<string, Check> = {
  path: str,
  kind: nullable(oneOf(KINDS)),
  package: object({ name: nullable(str), version: nullable(str), build: nullable(str), subdir: nullable(str), noarch: nullable(str) }),
  recipe: nullable(object({ url: str, sha: nullable(str) })),
  expected: nullable(
    object({
      version: nullable(str),
      implementation: str,
      from: nullable(oneOf(SOURCES)),
      conflict: nullable(str),
      clues: array(object({ from: oneOf(SOURCES), version: str, implementation: str }, ['implementation'])),
    }),
  ),
  status: nullable(oneOf(STATUSES)),
  error: nullable(str),
  findings: array(object({ code: str, severity: oneOf(SEVERITY_NAMES), member: str, message: str, cause: str }, ['cause'])),
  impact: object({ modules: count, sourceBytes: count }),
  // Schema 2 wrote notes as plain text; schema 3 as {level, text}.
  notes: array((v) => (typeof v === 'string' ? str(v) : object({ level: oneOf(['warning', 'info']), text: str })(v))),
  unreadable: array(str),
  channel: object({
    channel: str,
    subdir: str,
    file: str,
    sha256: nullable(str),
    timestamp: nullable(count),
    shard: object({ index: int(1, MAX_SHARDS), count: int(1, MAX_SHARDS), size: int(0, MAX_ARTIFACTS), total: int(0, MAX_ARTIFACTS) }),
  }, ['timestamp']),
  pyc: array(
    object(
      {
        member: str,
        size: count,
        magic: nullable(int(0, 0xffff)),
        headerHex: str,
        header: nullable(object({ size: count, kind: str, flags: nullable(count), mtime: nullable(count), sourceSize: nullable(count), sourceHash: nullable(str) })),
        implementation: nullable(str),
        version: nullable(str),
        releases: nullable(str),
        status: oneOf(STATUSES),
        message: str,
        owner: nullable(str),
      },
      ['owner'],
    ),
  ),
};

/** Why a parsed JSON value is not an artifact of a pyc-audit report ("findings[2].severity is not one of …"), or null. */
export function artifactJsonProblem(value: unknown): string | null {
  // Reports written before recipes and build times were read have neither.
  const problem = fields(value, ARTIFACT, ['channel', 'recipe']);
  if (problem) return problem;
  const shard = (value as { channel?: { shard: { index: number; count: number; size: number; total: number } } }).channel?.shard;
  if (shard && shard.index > shard.count) return `channel.shard.index ${shard.index} is more than its count ${shard.count}`;
  if (shard && shard.size > shard.total) return `channel.shard.size ${shard.size} is more than its total ${shard.total}`;
  return null;
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
  /** Channel runs: when the failing bytecode was built, per magic (windows.ts). */
  windows: Map<number, MagicWindow>;
}

export function emptyTally(failOn: Severity | 'never' = 'error'): Tally {
  return { artifacts: 0, pyc: 0, findings: 0, bySeverity: { error: 0, warning: 0, info: 0 }, failing: 0, errors: 0, incomplete: 0, impact: { modules: 0, sourceBytes: 0 }, failOn, windows: new Map() };
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
  addToWindows(t.windows, r, t.failOn);
}

/**
 * An artifact as it sits in the document's "artifacts" array, four spaces in: stringified inside a
 * wrapper of that depth and cut out, not re-indented afterwards (docs/performance.md).
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
  /** `magicTable`: where the run's magic table comes from (built-in, `magic --update`, --magic-table). */
  constructor(private readonly toolVersion: string, private readonly magicTable?: object) {}

  begin(): string {
    const tool = JSON.stringify({ name: 'pyc-audit', version: this.toolVersion, schema: JSON_SCHEMA_VERSION, ...(this.magicTable ? { magicTable: this.magicTable } : {}) });
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
  const windows = windowsJson(t.windows);
  return { artifacts, pyc, findings, bySeverity, failing, failOn, errors, incomplete, impact, ...(windows.length ? { windows } : {}) };
}

export function magicEntryJson(e: MagicEntry) {
  return {
    magic: e.magic,
    implementation: e.implementation,
    version: e.version,
    alsoVersions: e.alsoVersions,
    releases: e.releases,
    final: e.final,
    finalFor: e.finalFor,
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

