// pyc-audit merge: the JSON or ndjson reports of a sharded channel run, combined into one. Each
// artifact of a channel run says which shard it belongs to and how many artifacts that shard
// holds, so a merge can tell a missing shard or a shard that stopped early (gaps) from a shard
// given twice (overlap), without knowing the channel.
import type { ArtifactResult } from '../judge/artifact.js';
import { artifactJsonProblem, fromArtifactJson } from './json.js';
import { LineTooLong, readLines } from './lines.js';
import { describeFileError, readRegularFile } from '../sources/access/regular-file.js';
import { printable } from './escape.js';

export class MergeInputError extends Error {}

/** Largest --format json document merge reads whole (ndjson is read line by line, without this limit). */
export const MAX_JSON_DOCUMENT = 512 << 20;

type Artifact = Parameters<typeof fromArtifactJson>[0];

/** The artifacts of a report document's "artifacts" (`where` names it in an error), checked one by one. */
function documentArtifacts(doc: { artifacts: unknown[] }, where: string): ArtifactResult[] {
  return doc.artifacts.map((a, i) => {
    const problem = artifactJsonProblem(a);
    if (problem) throw new MergeInputError(`${where}: artifact ${i + 1}: ${printable(problem)}; not a pyc-audit report (--format json or ndjson)`);
    return fromArtifactJson(a as Artifact);
  });
}

const isDocument = (v: unknown): v is { tool: { name: string }; artifacts: unknown[] } =>
  typeof v === 'object' && v !== null && (v as { tool?: { name?: unknown } }).tool?.name === 'pyc-audit' && Array.isArray((v as { artifacts?: unknown }).artifacts);

/**
 * The artifacts of one report file: a --format json document, or --format ndjson lines (also a
 * JSON document on one line). Every artifact is checked before it is used; the first that is not
 * one is one error naming the file and the line (or the artifact of a document).
 */
export async function readReport(path: string): Promise<ArtifactResult[]> {
  const name = printable(path);
  const fail = (err: unknown): never => {
    if (err instanceof MergeInputError) throw err;
    if (err instanceof LineTooLong) throw new MergeInputError(`${name}: ${err.message}`);
    throw new MergeInputError(`${name}: ${describeFileError(err)}`);
  };
  const results: ArtifactResult[] = [];
  const order: (number | null)[] = [];
  try {
    for await (const line of readLines(path)) {
      if (line.number === 1 && line.text.toString('utf8').trim() === '{') {
        // A --format json document, pretty-printed: parsed whole, within a bound.
        let doc: unknown;
        try {
          doc = JSON.parse((await readRegularFile(path, { maxBytes: MAX_JSON_DOCUMENT, follow: true })).toString('utf8'));
        } catch (err) {
          if (err instanceof SyntaxError) throw new MergeInputError(`${name}: not JSON (a report cut short?); expected --format json or ndjson output`);
          throw err;
        }
        if (!isDocument(doc)) throw new MergeInputError(`${name}: a JSON document but not a pyc-audit report (no "tool": {"name": "pyc-audit"} and "artifacts")`);
        return documentArtifacts(doc, name);
      }
      const where = `${name}: line ${line.number}`;
      if (!line.text.toString('utf8').trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text.toString('utf8'));
      } catch {
        throw new MergeInputError(`${where} is not JSON${line.complete ? '' : ' (a last line cut short: the run was killed?)'}; expected --format json or ndjson output`);
      }
      if (isDocument(value)) {
        results.push(...documentArtifacts(value, where));
        order.push(null);
        continue;
      }
      const problem = artifactJsonProblem(value);
      if (problem) throw new MergeInputError(`${where}: ${printable(problem)}; not a pyc-audit artifact (--format json or ndjson)`);
      results.push(fromArtifactJson(value as Artifact));
      const index = (value as { index?: unknown }).index;
      order.push(Number.isSafeInteger(index) && (index as number) >= 0 ? (index as number) : null);
    }
  } catch (err) {
    fail(err);
  }
  // ndjson lines come in the order artifacts finished; each carries its input's index.
  if (order.length === results.length && order.every((i) => i !== null)) {
    return results.map((r, i) => ({ r, at: order[i]! })).sort((a, b) => a.at - b.at).map((x) => x.r);
  }
  return results;
}

const keyOf = (r: ArtifactResult) => (r.origin ? `${r.origin.channel}/${r.origin.subdir}/${r.origin.file}` : r.path);

export interface Merged {
  results: ArtifactResult[];
  /** Gaps: shards missing or incomplete, inputs from different shardings. The merge is not whole. */
  gaps: string[];
  /** Artifacts given more than once (a shard re-run): the first is kept. */
  overlaps: string[];
}

/** Combines reports: channel artifacts sorted by channel, subdir and file (as one unsharded run prints them), others after. */
export function mergeReports(inputs: { file: string; results: ArtifactResult[] }[]): Merged {
  const seen = new Map<string, { result: ArtifactResult; file: string }>();
  const overlaps: string[] = [];
  for (const { file, results } of inputs) {
    for (const r of results) {
      const key = keyOf(r);
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { result: r, file });
        continue;
      }
      // A shard re-run after a failure: the result that was read replaces the one that was not.
      const failed = (x: ArtifactResult) => x.error !== null || x.unreadable.length > 0;
      if (failed(first.result) && !failed(r)) {
        overlaps.push(`${key} is in ${first.file} (could not be read there) and ${file} (kept)`);
        seen.set(key, { result: r, file });
        continue;
      }
      const same = JSON.stringify({ ...first.result, path: '' }) === JSON.stringify({ ...r, path: '' });
      overlaps.push(`${key} is in ${first.file} and ${file}${same ? '' : ' with different results (kept the first)'}`);
    }
  }
  const results = [...seen.values()].map((s) => s.result);
  const gaps: string[] = [];
  const byChannel = new Map<string, ArtifactResult[]>();
  for (const r of results) if (r.origin) byChannel.set(r.origin.channel, [...(byChannel.get(r.origin.channel) ?? []), r]);
  for (const [channel, rs] of byChannel) {
    const shardings = new Set(rs.map((r) => `${r.origin!.shard.count}/${r.origin!.shard.total}`));
    if (shardings.size > 1) {
      gaps.push(`${channel}: the inputs come from different runs (shards/artifacts: ${[...shardings].sort().join(', ')})`);
      continue;
    }
    const { count, total } = rs[0]!.origin!.shard;
    const present = new Map<number, { size: number; got: number }>();
    for (const r of rs) {
      const s = present.get(r.origin!.shard.index) ?? { size: r.origin!.shard.size, got: 0 };
      s.got++;
      present.set(r.origin!.shard.index, s);
    }
    for (const [k, s] of [...present].sort((a, b) => a[0] - b[0])) {
      if (s.got < s.size) gaps.push(`${channel}: shard ${k}/${count} has ${s.got} of its ${s.size} artifacts (a run that stopped early?)`);
    }
    // Shards with no artifact at all leave no line; what the present ones hold must add up to the total.
    const covered = [...present.values()].reduce((n, s) => n + s.size, 0);
    if (covered < total) {
      // count is at most MAX_SHARDS (checked as the reports were read); name the first few.
      const absent: string[] = [];
      let missing = 0;
      for (let k = 1; k <= count; k++) if (!present.has(k) && ++missing <= 10) absent.push(`${k}/${count}`);
      gaps.push(`${channel}: ${total - covered} of ${total} artifacts are in shards no input has (${absent.join(', ')}${missing > absent.length ? `, and ${missing - absent.length} more` : ''})`);
    }
  }
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const channelOnes = results.filter((r) => r.origin).sort((a, b) => compare(a.origin!.channel, b.origin!.channel) || compare(a.origin!.subdir, b.origin!.subdir) || compare(a.origin!.file, b.origin!.file));
  return { results: [...channelOnes, ...results.filter((r) => !r.origin)], gaps, overlaps };
}
