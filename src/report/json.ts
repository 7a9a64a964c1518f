// --format json: one document for the whole run. The shape is documented in the README.
import type { ArtifactResult } from '../audit.js';
import type { MagicTable } from '../magic/table.js';
import { CPYTHON_SOURCE } from '../magic/table.js';
import type { MagicEntry } from '../magic/types.js';

export const JSON_SCHEMA_VERSION = 1;

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
    })),
  };
}

export function reportJson(results: ArtifactResult[], toolVersion: string): string {
  const doc = {
    tool: { name: 'pyc-audit', version: toolVersion, schema: JSON_SCHEMA_VERSION },
    summary: {
      artifacts: results.length,
      pyc: results.reduce((n, r) => n + r.pyc.length, 0),
      findings: results.reduce((n, r) => n + r.pyc.filter((p) => p.status !== 'ok').length, 0),
      errors: results.filter((r) => r.error !== null).length,
    },
    artifacts: results.map(artifactJson),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
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

export { CPYTHON_SOURCE };
