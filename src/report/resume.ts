// --resume: an ndjson report that a run left behind (complete, or cut short by a crash or a
// killed CI job) tells which artifacts are done. The file is checked to be a pyc-audit ndjson
// report before anything is changed: anything else (a JSON document, a binary, a file with no
// line break, a FIFO) is refused and left alone. Lines of artifacts that could not be read (or
// only in part) are dropped, so those inputs are audited again, and so is a partial last line;
// and so are lines of an input whose identity (size and mtime, or the channel's digest) is not
// what it is now: an artifact rebuilt at the same path is audited again. The file is then
// rewritten without them (a new file renamed over it, so a kill during the
// rewrite loses nothing), and the run appends what is missing.
import { stat } from 'node:fs/promises';
import type { ArtifactResult } from '../judge/artifact.js';
import { artifactJsonProblem, fromArtifactJson } from './json.js';
import { LineTooLong, readLines } from './lines.js';
import { describeFileError, FileError } from '../sources/access/regular-file.js';
import { OutputFile } from './output.js';
import { printable } from './escape.js';

export interface Resumed {
  /** Results already in the file, by path: these inputs are not audited again. */
  done: Map<string, ArtifactResult>;
  /** Inputs the file has as failed (unreadable, or read in part): audited again. */
  retried: number;
  /** Inputs whose result in the file is of another identity (rebuilt at the same path): audited again. */
  changed: number;
}

/**
 * An input's identity now: a string to match, null when it has none to compare (a URL without
 * a digest, stdin: kept by path), undefined when the path is no input of this run.
 */
export type IdentityOf = (path: string) => string | null | undefined;

/** Checks `path` and takes from it what is done (nothing when it does not exist yet). */
export async function resumeFrom(path: string, identityOf: IdentityOf = () => null): Promise<Resumed> {
  const name = `--resume ${printable(path)}`;
  const done = new Map<string, ArtifactResult>();
  const drop = new Set<number>();
  let lines = 0;
  let complete = 0;
  let changed = 0;
  try {
    for await (const line of readLines(path)) {
      lines++;
      if (!line.complete) {
        drop.add(line.number); // a line the last run did not finish (or no line at all: said below)
        continue;
      }
      complete++;
      let value: unknown;
      try {
        value = JSON.parse(line.text.toString('utf8'));
      } catch {
        throw new Error(`line ${line.number} is not JSON: not an ndjson report of pyc-audit; give another --output`);
      }
      const problem = artifactJsonProblem(value);
      if (problem) throw new Error(`line ${line.number} is not a pyc-audit ndjson line (${printable(problem)}); give another --output`);
      const result = fromArtifactJson(value as Parameters<typeof fromArtifactJson>[0]);
      const now = identityOf(result.path);
      if (result.error !== null || result.unreadable.length) {
        drop.add(line.number);
        done.delete(result.path);
      } else if (typeof now === 'string' && result.identity !== now) {
        // Rebuilt (or replaced) at the same path since: its old result is not this artifact's.
        drop.add(line.number);
        done.delete(result.path);
        changed++;
      } else {
        done.set(result.path, result);
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { done, retried: 0, changed: 0 };
    if (err instanceof FileError || err instanceof LineTooLong) throw new Error(`${name}: ${err.message}; give another --output`);
    throw new Error(`${name}: ${describeFileError(err)}`);
  }
  if (lines > 0 && complete === 0) throw new Error(`${name}: has no complete line: not an ndjson report of pyc-audit; give another --output`);
  if (drop.size) await rewriteWithout(path, drop);
  return { done, retried: [...drop].filter((n) => n <= complete).length - changed, changed };
}

const NEWLINE = Buffer.from('\n');

/** Rewrites `path` without the lines numbered in `drop`, atomically. */
async function rewriteWithout(path: string, drop: ReadonlySet<number>): Promise<void> {
  let failed: string | null = null;
  const out = await OutputFile.open(path, path, 'atomic', (line) => (failed ??= line), await stat(path));
  try {
    for await (const line of readLines(path)) if (line.complete && !drop.has(line.number)) out.write(Buffer.concat([line.text, NEWLINE]));
  } catch (err) {
    out.abort();
    throw err;
  }
  const error = (await out.close()) ?? failed;
  if (error) throw new Error(error.replace(/^--output/, '--resume'));
}
