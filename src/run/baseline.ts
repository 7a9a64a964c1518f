// A baseline, for adopting pyc-audit on a channel that has findings today: `--baseline FILE`
// records the findings of a run with --update-baseline (a missing FILE without it is an error: a
// mistyped or uncommitted baseline must not turn a run green), and
// later runs report only findings that are not in it, so they fail only on new ones (the ratchet
// of detekt, pylint-baseline, ruff's `--add-noqa` workflow). A finding is known by the artifact
// (name-version-build when the artifact says it, else its path as given), the member and the
// code: not by its message, which carries numbers (mtimes, sizes) that change between builds.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readRegularFileSync, describeFileError } from '../sources/access/regular-file.js';
import type { ArtifactResult } from '../judge/artifact.js';
import type { Finding } from '../judge/checks.js';

export class BaselineError extends Error {}

/** The largest baseline read: ~300,000 findings. */
export const MAX_BASELINE_BYTES = 64 << 20;

/** The artifact part of a fingerprint: name-version-build, else the path. */
export function artifactKey(r: ArtifactResult): string {
  const { name, version, build } = r.package;
  return name && version && build ? `${name}-${version}-${build}` : r.path;
}

export const fingerprintOf = (r: ArtifactResult, f: Finding) => `${artifactKey(r)}\t${f.member}\t${f.code}`;

interface BaselineFile {
  tool: 'pyc-audit';
  version: 1;
  findings: { artifact: string; member: string; code: string }[];
}

export class Baseline {
  /** Fingerprints recorded in the file (empty when it is being created). */
  private readonly known: Set<string>;
  /** Fingerprints seen in this run (recorded ones included). */
  private readonly seen = new Set<string>();
  suppressed = 0;

  private constructor(
    readonly file: string,
    /** Whether this run writes the file (it did not exist, or --update-baseline). */
    readonly recording: boolean,
    known: string[],
  ) {
    this.known = new Set(known);
  }

  static open(file: string, update: boolean): Baseline {
    let text: string;
    try {
      // Only a regular file, of bounded size: a FIFO, /dev/zero or a huge file is an error, not a hang.
      text = readRegularFileSync(file, { follow: true, maxBytes: MAX_BASELINE_BYTES }).toString('utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        if (update) return new Baseline(file, true, []);
        throw new BaselineError(`--baseline ${file}: no such file (--update-baseline records one)`);
      }
      throw new BaselineError(`--baseline ${file}: ${describeFileError(err)}`);
    }
    let doc: BaselineFile;
    try {
      doc = JSON.parse(text) as BaselineFile;
    } catch {
      throw new BaselineError(`--baseline ${file}: not JSON (a baseline is written by pyc-audit --baseline)`);
    }
    if (doc?.tool !== 'pyc-audit' || doc.version !== 1 || !Array.isArray(doc.findings)) throw new BaselineError(`--baseline ${file}: not a pyc-audit baseline (version 1)`);
    const bad = doc.findings.findIndex((f) => typeof f !== 'object' || f === null || ![f.artifact, f.member, f.code].every((v) => typeof v === 'string' && !/[\t\n]/.test(v)));
    if (bad !== -1) throw new BaselineError(`--baseline ${file}: finding ${bad + 1} is not {artifact, member, code} strings (a baseline is written by pyc-audit --baseline)`);
    const known = doc.findings.map((f) => `${f.artifact}\t${f.member}\t${f.code}`);
    return new Baseline(file, update, update ? [] : known);
  }

  /**
   * The artifact without the findings the baseline holds. A recording run records every finding,
   * so it reports none: what it writes is accepted as it is today.
   */
  filter(r: ArtifactResult): ArtifactResult {
    if (!r.findings.length) return r;
    const findings = r.findings.filter((f) => {
      const key = fingerprintOf(r, f);
      this.seen.add(key);
      if (!this.recording && !this.known.has(key)) return true;
      this.suppressed++;
      return false;
    });
    return findings.length === r.findings.length ? r : { ...r, findings };
  }

  /** Recorded findings this run did not see (fixed, or their artifact was not audited). */
  get gone(): number {
    let n = 0;
    for (const k of this.known) if (!this.seen.has(k)) n++;
    return n;
  }

  /** Writes the file (recording runs only), atomically; returns what to tell the user. */
  close(): string {
    if (!this.recording) {
      const gone = this.gone;
      return `pyc-audit: --baseline ${this.file}: ${this.suppressed} known finding${this.suppressed === 1 ? '' : 's'} not reported${gone ? `; ${gone} recorded finding${gone === 1 ? ' is' : 's are'} gone (--update-baseline drops ${gone === 1 ? 'it' : 'them'})` : ''}\n`;
    }
    const findings = [...this.seen]
      .sort()
      .map((k) => k.split('\t'))
      .map(([artifact, member, code]) => ({ artifact: artifact!, member: member!, code: code! }));
    const doc: BaselineFile = { tool: 'pyc-audit', version: 1, findings };
    // The temporary file is created, never opened if it exists (O_EXCL): a link planted at its
    // name is not written through.
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      const fd = openSync(tmp, 'wx', 0o644);
      try {
        const bytes = Buffer.from(`${JSON.stringify(doc, null, 1)}\n`);
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      } catch (err) {
        closeSync(fd);
        rmSync(tmp, { force: true });
        throw err;
      }
      closeSync(fd);
      try {
        renameSync(tmp, this.file);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
    } catch (err) {
      throw new BaselineError(`--baseline ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return `pyc-audit: --baseline ${this.file}: recorded ${findings.length} finding${findings.length === 1 ? '' : 's'}; later runs report only new ones\n`;
  }
}
