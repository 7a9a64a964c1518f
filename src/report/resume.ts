// --resume: an ndjson report that a run left behind (complete, or cut short by a crash or a
// killed CI job) tells which artifacts are done. Its complete lines are kept, a partial last line
// is cut off, and the run appends only what is missing.
import { open, truncate } from 'node:fs/promises';
import type { ArtifactResult } from '../audit.js';
import { readArtifactJson } from './json.js';

/** The results already in `path` (none if it does not exist), after cutting it back to its last complete line. */
export async function resumeFrom(path: string): Promise<Map<string, ArtifactResult>> {
  const done = new Map<string, ArtifactResult>();
  let text: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      text = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return done;
    throw new Error(`--resume ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let kept = 0;
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf(0x0a, at);
    if (end === -1) break; // a line the last run did not finish
    let result: ArtifactResult | null = null;
    try {
      result = readArtifactJson(JSON.parse(text.toString('utf8', at, end)));
    } catch {
      // not JSON: said below
    }
    if (!result) throw new Error(`--resume ${path}: line ${done.size + 1} is not a pyc-audit ndjson line; give another --output`);
    done.set(result.path, result);
    at = end + 1;
    kept = at;
  }
  if (kept < text.length) await truncate(path, kept);
  return done;
}
