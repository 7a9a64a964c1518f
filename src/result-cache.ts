// --cache DIR: audit results kept by the artifact's SHA-256, so a re-audit of an unchanged
// channel reads nothing but repodata. The key also covers whatever changes a result (pyc-audit's
// version, --python, the magic table, --select/--ignore), so a cached result is never stale.
// Only complete results are kept: an unreadable artifact is tried again next time.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactResult } from './audit.js';
import { artifactJson, readArtifactJson } from './report/json.js';

export class ResultCache {
  hits = 0;
  private readonly context: string;

  constructor(
    private readonly dir: string,
    context: unknown,
  ) {
    this.context = createHash('sha256').update(JSON.stringify(context)).digest('hex').slice(0, 16);
  }

  private file(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), `${sha256}-${this.context}.json`);
  }

  /** The cached result for an artifact, or null (none, or one that cannot be read back). */
  async get(sha256: string): Promise<ArtifactResult | null> {
    let text: string;
    try {
      text = await readFile(this.file(sha256), 'utf8');
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

  async put(sha256: string, result: ArtifactResult): Promise<void> {
    if (result.error !== null || result.unreadable.length) return;
    const path = this.file(sha256);
    await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    // Written aside and renamed: a reader never sees half an entry, even with shards sharing DIR.
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const { origin: _origin, ...rest } = result;
    await writeFile(temp, JSON.stringify(artifactJson(rest)));
    await rename(temp, path);
  }
}
