// One artifact, end to end: read it (sources/, I/O), then judge what was read (judge/, pure); a
// checked-hash .pyc whose source came first is given a second read that hashes that source.
import { judgeArtifact, missingSourceHashes, type ArtifactResult, type AuditOptions } from '../judge/artifact.js';
import { NotRereadable, readTarget, type ReadOptions } from '../sources/index.js';
import type { Target } from '../sources/folders/targets.js';
import type { ArtifactEntries } from '../sources/types.js';

/** Copies the hashes a second read computed onto the first read's source records. */
function mergeHashes(into: ArtifactEntries, from: ArtifactEntries): void {
  const byPath = new Map(into.sources.map((s) => [s.path, s]));
  for (const s of from.sources) {
    const target = byPath.get(s.path);
    if (!target || !s.hashes) continue;
    target.hashes = new Map([...(target.hashes ?? []), ...s.hashes]);
  }
}

export type Reader = (target: Target, extra?: Pick<ReadOptions, 'hashOnly'>) => Promise<ArtifactEntries>;

export async function auditArtifact(path: string | Target, options: AuditOptions, read: Reader = readTarget): Promise<ArtifactResult> {
  const target: Target = typeof path === 'string' ? { path, kind: 'file' } : path;
  path = target.path;
  // A part of an environment is judged with the table its python calls for; the note goes with
  // the part that is not one package's folder, so it is said once.
  const env = target.kind === 'env' ? options.environments?.get(target.part?.root ?? target.path) : undefined;
  if (env) options = { ...options, table: env.table };
  try {
    const entries = await read(target);
    const request = missingSourceHashes(entries);
    let hashesUnavailable: string | null = null;
    if (request.size) {
      try {
        mergeHashes(entries, await read(target, { hashOnly: request }));
      } catch (err) {
        if (!(err instanceof NotRereadable)) throw err;
        hashesUnavailable = err.message;
      }
    }
    const result = judgeArtifact(path, entries, options, hashesUnavailable);
    if (env?.note && !target.part?.only) result.notes.push({ level: 'info', text: env.note });
    return result;
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
      findings: [],
      impact: { modules: 0, sourceBytes: 0 },
    };
  }
}
