// --cache DIR: audit results kept by the artifact's SHA-256, so a re-audit of an unchanged
// channel reads nothing but repodata. The key also covers whatever changes a result (pyc-audit's
// version, --python, the magic table, --select/--ignore), so a cached result is never stale.
// Only complete results are kept: an unreadable artifact is tried again next time.
//
// A result is stored under the SHA-256 of the bytes that were audited, never under the one
// repodata claims: the artifact is copied to a private folder while it is hashed, and the copy is
// what the audit reads; a copy whose SHA-256 is not repodata's is an error for that artifact.
// Entries are also keyed by where the artifact is (its URL or path): a channel that lists its file
// under another channel's SHA-256 finds nothing to reuse, so it can neither plant a result for the
// other channel nor borrow one for a file that was never read.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactResult } from './audit.js';
import { artifactJson, readArtifactJson } from './report/json.js';
import { readRegularFile } from './regular-file.js';
import { copyHashing, TooLarge } from './channel/bytes.js';
import type { Target } from './sources/targets.js';

/** A cached result is read whole: far more than a result of 100,000 .pyc takes. */
export const ENTRY_LIMIT = 256 << 20;
/** An artifact copied for hashing whose size repodata does not give: a bound on the copy. */
export const COPY_LIMIT = 32 * 1024 ** 3;

export class ResultCache {
  hits = 0;
  private readonly context: string;
  private work: Promise<string> | null = null;

  constructor(
    private readonly dir: string,
    context: unknown,
    private readonly timeoutSeconds = 30,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.context = createHash('sha256').update(JSON.stringify(context)).digest('hex').slice(0, 16);
  }

  private file(sha256: string, where: string): string {
    const place = createHash('sha256').update(where).digest('hex').slice(0, 16);
    return join(this.dir, sha256.slice(0, 2), `${sha256}-${place}-${this.context}.json`);
  }

  /** The cached result for an artifact at `where`, or null (none, or one that cannot be read back). */
  async get(sha256: string, where: string): Promise<ArtifactResult | null> {
    let text: string;
    try {
      text = (await readRegularFile(this.file(sha256, where), { maxBytes: ENTRY_LIMIT, follow: false })).toString('utf8');
    } catch {
      return null;
    }
    let result: ArtifactResult | null = null;
    try {
      result = readArtifactJson(JSON.parse(text));
    } catch {
      // not JSON: a miss
    }
    if (result) this.hits++;
    return result; // a damaged entry is a miss, and is rewritten
  }

  async put(sha256: string, where: string, result: ArtifactResult): Promise<void> {
    if (result.error !== null || result.unreadable.length) return;
    const path = this.file(sha256, where);
    await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    // Written aside and renamed: a reader never sees half an entry, even with shards sharing DIR.
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const { origin: _origin, ...rest } = result;
    await writeFile(temp, JSON.stringify(artifactJson(rest)));
    await rename(temp, path);
  }

  /** This run's private folder for copies, made on first use. */
  private workDir(): Promise<string> {
    this.work ??= mkdir(this.dir, { recursive: true }).then(() => mkdtemp(join(this.dir, '.copies-')));
    return this.work;
  }

  /**
   * The result for a channel artifact: the cached one for repodata's SHA-256, else an audit of a
   * copy of the artifact, stored under the copy's SHA-256. A copy whose SHA-256 is not repodata's
   * is an error for that artifact. `target.origin.sha256` is set to the copy's when repodata gives none.
   */
  async audit(target: Target, run: (target: Target) => Promise<ArtifactResult>, fail: (target: Target, reason: string) => Promise<ArtifactResult>): Promise<ArtifactResult> {
    const claimed = target.origin?.sha256 ?? null;
    const hit = claimed ? await this.get(claimed, target.path) : null;
    if (hit) return { ...hit, path: target.path };
    const name = target.origin?.file ?? 'artifact';
    const folder = join(await this.workDir(), randomBytes(8).toString('hex'));
    await mkdir(folder);
    try {
      const copy = join(folder, name); // its own name: the audit reads name-version-build from it
      let actual: string;
      try {
        actual = await copyHashing(target.path, copy, target.size ?? COPY_LIMIT, this.timeoutSeconds);
      } catch (err) {
        return fail(target, err instanceof TooLarge && target.size !== undefined ? `larger than the ${target.size} bytes repodata gives: not audited` : (err as Error).message);
      }
      if (claimed && actual !== claimed) return fail(target, `its SHA-256 is ${actual}, not the ${claimed} repodata gives: not audited`);
      if (target.origin && !claimed) target.origin.sha256 = actual;
      const cached = claimed ? null : await this.get(actual, target.path);
      if (cached) return { ...cached, path: target.path };
      const result = { ...(await run({ path: copy, kind: 'file' })), path: target.path };
      await this.put(actual, target.path, result).catch((err: Error) => this.warn(`--cache: ${err.message}`));
      return result;
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  /** Removes this run's copies folder. */
  async close(): Promise<void> {
    if (this.work) await rm(await this.work, { recursive: true, force: true }).catch(() => {});
  }
}
