// Fingerprints of findings for the CI systems that track them across runs (GitLab Code Quality,
// SARIF partialFingerprints): a hash of what the finding is about, never of its message (which
// carries mtimes and sizes that change between builds) nor of where the artifact was found (a
// CI workspace path changes between runs). What it is about: the build (name-version-build, or
// the file name when the artifact does not say), the kind of file (a build exists as .conda and
// as .tar.bz2), the member and the code.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ArtifactResult } from '../judge/artifact.js';
import { packageId } from '../judge/package-info.js';

export function findingIdentity(r: ArtifactResult, member: string, code: string): string {
  const artifact = packageId(r.package) ?? basename(r.path);
  return [artifact, r.kind ?? '', member, code].join('\0');
}

/** Hex SHA-256 fingerprints, made unique within one report (a repeat gets a counter). */
export class Fingerprints {
  private readonly seen = new Map<string, number>();

  of(r: ArtifactResult, member: string, code: string): string {
    const identity = findingIdentity(r, member, code);
    const n = (this.seen.get(identity) ?? 0) + 1;
    this.seen.set(identity, n);
    return createHash('sha256').update(n === 1 ? identity : `${identity}\0${n}`).digest('hex');
  }

  /**
   * A group of findings (one cause, groups.ts): known by its artifact, code and, in an environment,
   * the package that installed its files; not by its members (fixing one keeps the alert) nor its
   * cause's words (which carry mtimes). Groups of one code in one artifact are told apart by their
   * order (worst first, then first member), which is stable across runs of the same build.
   */
  ofGroup(r: ArtifactResult, code: string, owner: string | null | undefined): string {
    return this.of(r, `group:${owner === undefined ? '' : owner === null ? '(no package)' : owner}`, code);
  }
}
