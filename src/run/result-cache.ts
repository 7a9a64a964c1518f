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
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { makeCopiesDir, removeCopiesDir } from './copies-dir.js';
import { join } from 'node:path';
import type { ArtifactResult } from '../judge/artifact.js';
import { artifactJson, readArtifactJson } from '../report/json.js';
import { readRegularFile } from '../sources/access/regular-file.js';
import { copyHashing, TooLarge } from '../channel/bytes.js';
import type { Target } from '../sources/folders/targets.js';

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
    this.work ??= makeCopiesDir(this.dir);
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
    return withVerifiedCopy(
      await this.workDir(),
      target.url ?? target.path,
      target.origin?.file ?? 'artifact',
      claimed,
      target.size,
      this.timeoutSeconds,
      async (copy, actual) => {
        if (target.origin && !claimed) target.origin.sha256 = actual;
        const cached = claimed ? null : await this.get(actual, target.path);
        if (cached) return { ...cached, path: target.path };
        const result = { ...(await run({ path: copy, kind: 'file' })), path: target.path };
        await this.put(actual, target.path, result).catch((err: Error) => this.warn(`--cache: ${err.message}`));
        return result;
      },
    ).catch((err: unknown) => {
      if (err instanceof CopyError) return fail(target, err.refused ? `${err.message}: not audited` : err.message);
      throw err;
    });
  }

  /** Removes this run's copies folder. */
  async close(): Promise<void> {
    if (this.work) await removeCopiesDir(await this.work.catch(() => ''));
  }
}

/** The artifact could not be copied, or its copy is not what repodata says: the reason. */
export class CopyError extends Error {
  /** The bytes are not what repodata says (too large, another SHA-256), rather than unreachable. */
  constructor(message: string, readonly refused = false) {
    super(message);
  }
}

/**
 * Copies the artifact at `location` into a fresh folder under `workDir` (as `name`: the audit
 * reads name-version-build from it) while hashing it, checks the SHA-256 against `claimed` (when
 * repodata gives one), and hands the copy and its SHA-256 to `use`; the copy is removed after.
 */
async function withVerifiedCopy<T>(
  workDir: string,
  location: string,
  name: string,
  claimed: string | null,
  size: number | undefined,
  timeoutSeconds: number,
  use: (copy: string, sha256: string) => Promise<T>,
): Promise<T> {
  const folder = join(workDir, randomBytes(8).toString('hex'));
  await mkdir(folder);
  try {
    const copy = join(folder, name);
    let actual: string;
    try {
      actual = await copyHashing(location, copy, size ?? COPY_LIMIT, timeoutSeconds);
    } catch (err) {
      if (err instanceof TooLarge && size !== undefined) throw new CopyError(`larger than the ${size} bytes repodata gives`, true);
      throw new CopyError((err as Error).message);
    }
    if (claimed && actual !== claimed) throw new CopyError(`its SHA-256 is ${actual}, not the ${claimed} repodata gives`, true);
    return await use(copy, actual);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * --cache DIR for what is learned from a channel artifact rather than audited in it (a python
 * build's standard-library magic): kept like results, under the SHA-256 of the bytes it was
 * learned from (a copy, checked against repodata's) and where they are, and `kind` (what was
 * learned, by which pyc-audit), so a re-run of an unchanged channel reads the artifact no more.
 */
export class FactCache {
  private work: Promise<string> | null = null;
  private readonly kind: string;

  constructor(
    private readonly dir: string,
    kind: string,
    private readonly timeoutSeconds = 30,
  ) {
    this.kind = createHash('sha256').update(kind).digest('hex').slice(0, 16);
  }

  private file(sha256: string, where: string): string {
    const place = createHash('sha256').update(where).digest('hex').slice(0, 16);
    return join(this.dir, 'learned', sha256.slice(0, 2), `${sha256}-${place}-${this.kind}.json`);
  }

  private async get(sha256: string, where: string): Promise<{ value: unknown } | null> {
    try {
      const doc = JSON.parse((await readRegularFile(this.file(sha256, where), { maxBytes: 1 << 20, follow: false })).toString('utf8')) as unknown;
      return doc && typeof doc === 'object' && 'value' in doc ? (doc as { value: unknown }) : null;
    } catch {
      return null; // none, or damaged: learned again, and rewritten
    }
  }

  private async put(sha256: string, where: string, value: unknown): Promise<void> {
    const path = this.file(sha256, where);
    await mkdir(join(this.dir, 'learned', sha256.slice(0, 2)), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify({ value }));
    await rename(temp, path);
  }

  /**
   * What `learn` says of the artifact at `location` (read from a verified copy), or what it said
   * before of the same bytes there; `revive` checks a kept value (null: learned again). Throws
   * CopyError when the artifact cannot be copied or is not what repodata says.
   */
  async learn<T>(
    location: string,
    name: string,
    claimed: string | null,
    size: number | undefined,
    learn: (copy: string) => Promise<T>,
    revive: (kept: unknown) => T | undefined,
  ): Promise<{ value: T; kept: boolean }> {
    if (claimed) {
      const hit = await this.get(claimed, location);
      const value = hit ? revive(hit.value) : undefined;
      if (value !== undefined) return { value, kept: true };
    }
    this.work ??= makeCopiesDir(this.dir);
    return withVerifiedCopy(await this.work, location, name, claimed, size, this.timeoutSeconds, async (copy, actual) => {
      const value = await learn(copy);
      await this.put(actual, location, value).catch(() => {}); // not kept: learned again next time
      return { value, kept: false };
    });
  }

  /** Removes this run's copies folder. */
  async close(): Promise<void> {
    if (this.work) await removeCopiesDir(await this.work.catch(() => ''));
  }
}
