// --format gitlab: a GitLab Code Quality report (the JSON array the merge-request widget and the
// pipeline's Code Quality tab read, declared with `artifacts: reports: codequality:`). One issue
// per artifact and cause (the findings of one cause grouped, as the text report shows them), and one per input that could not be read (severity blocker). GitLab compares
// reports of the base and head pipelines by fingerprint, so each is stable across runs and unique
// in the report (fingerprint.ts). `location.path` is the artifact relative to the working
// directory (GitLab links it in the repository when it is there); the member is in the text.
import { isAbsolute, relative, sep } from 'node:path';
import type { ArtifactResult } from '../judge/artifact.js';
import { ruleFor, type Severity } from '../judge/rules.js';
import { Fingerprints } from './fingerprint.js';
import { artifactGroups, groupMessage, ownersOf } from './groups.js';

/** GitLab's scale: info, minor, major, critical, blocker. */
const SEVERITY: Record<Severity, 'info' | 'minor' | 'major' | 'critical'> = { error: 'critical', warning: 'minor', info: 'info' };

/** A path relative to the working directory when it is inside it (as CI checks out a project), else as given. */
export function projectPath(path: string, cwd = process.cwd()): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || !isAbsolute(path)) return path;
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : path;
}

export class GitlabReportWriter {
  private first = true;
  private readonly fingerprints = new Fingerprints();

  begin(): string {
    return '[';
  }

  private issue(o: { description: string; check: string; fingerprint: string; severity: string; path: string; categories: string[] }): string {
    const item = { type: 'issue', description: o.description, check_name: o.check, fingerprint: o.fingerprint, severity: o.severity, categories: o.categories, location: { path: o.path, lines: { begin: 1 } } };
    const text = `${this.first ? '' : ','}\n  ${JSON.stringify(item)}`;
    this.first = false;
    return text;
  }

  artifact(r: ArtifactResult): string {
    const path = projectPath(r.path);
    let out = '';
    if (r.error !== null) {
      return this.issue({ description: `pyc-audit could not read ${path}: ${r.error}`, check: 'pyc-audit/unreadable', fingerprint: this.fingerprints.of(r, '', 'unreadable'), severity: 'blocker', path, categories: ['Bug Risk'] });
    }
    for (const u of r.unreadable) {
      out += this.issue({ description: `pyc-audit could not read an entry of ${path}: ${u}`, check: 'pyc-audit/unreadable', fingerprint: this.fingerprints.of(r, u, 'unreadable'), severity: 'blocker', path, categories: ['Bug Risk'] });
    }
    // One issue per cause (groups.ts), as the text report shows them; the members counted and the first named.
    const owners = ownersOf(r);
    for (const g of artifactGroups(r)) {
      out += this.issue({
        description: `${g.code} ${groupMessage(g)}`,
        check: g.code,
        fingerprint: this.fingerprints.ofGroup(r, g.code, owners.get(g.findings[0]!.member)),
        severity: SEVERITY[g.severity],
        path,
        categories: [ruleFor(g.code).invalidates ? 'Performance' : 'Style'],
      });
    }
    return out;
  }

  end(): string {
    return `${this.first ? '' : '\n'}]\n`;
  }
}
