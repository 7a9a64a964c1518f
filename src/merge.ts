// pyc-audit merge: the JSON or ndjson reports of a sharded channel run, combined into one. Each
// artifact of a channel run says which shard it belongs to and how many artifacts that shard
// holds, so a merge can tell a missing shard or a shard that stopped early (gaps) from a shard
// given twice (overlap), without knowing the channel.
import { readFile } from 'node:fs/promises';
import type { ArtifactResult } from './audit.js';
import { readArtifactJson } from './report/json.js';

export class MergeInputError extends Error {}

/** The artifacts of one report file: a --format json document or --format ndjson lines. */
export async function readReport(path: string): Promise<ArtifactResult[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MergeInputError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const objects: unknown[] = [];
  try {
    const doc = JSON.parse(text) as { tool?: { name?: string }; artifacts?: unknown[] };
    if (doc?.tool?.name === 'pyc-audit' && Array.isArray(doc.artifacts)) for (const a of doc.artifacts) objects.push(a);
    else objects.push(doc); // a single ndjson line
  } catch {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.trim()) continue;
      try {
        objects.push(JSON.parse(lines[i]!));
      } catch {
        throw new MergeInputError(`${path}: line ${i + 1} is not JSON (a report cut short?); expected --format json or ndjson output`);
      }
    }
  }
  return objects.map((o, i) => {
    const result = readArtifactJson(o);
    if (!result) throw new MergeInputError(`${path}: artifact ${i + 1} is not a pyc-audit artifact report (schema 2: --format json or ndjson)`);
    return result;
  });
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
      const absent = Array.from({ length: count }, (_, i) => i + 1).filter((k) => !present.has(k));
      gaps.push(`${channel}: ${total - covered} of ${total} artifacts are in shards no input has (${absent.map((k) => `${k}/${count}`).join(', ')})`);
    }
  }
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const channelOnes = results.filter((r) => r.origin).sort((a, b) => compare(a.origin!.channel, b.origin!.channel) || compare(a.origin!.subdir, b.origin!.subdir) || compare(a.origin!.file, b.origin!.file));
  return { results: [...channelOnes, ...results.filter((r) => !r.origin)], gaps, overlaps };
}
