// --format rebuild-plan: what a migration needs, one entry per recipe repository that built a
// failing artifact (info/about.json's extra.remote_url and extra.sha): the commits built, the
// subdirs, and each artifact with the magic numbers found in its failing .pyc and the one its
// Python expects; builds that record no recipe apart, by package name; in a channel run, when the
// failing bytecode was built (windows.ts). Written at the end of the run, sorted, each recipe
// with a fingerprint of what it must rebuild, so two runs over the same artifacts give the same
// document and a bot can tell a new plan from one it has acted on. Shape: docs/rebuild-plan.md.
import { createHash } from 'node:crypto';
import type { ArtifactResult } from '../judge/artifact.js';
import { failsAt, ruleFor, type Severity } from '../judge/rules.js';
import type { MagicTable } from '../magic/table.js';
import type { Tally } from './json.js';
import { rebuildIds } from './list-stale.js';
import { sortedWindows } from './windows.js';
import type { ReportWriter } from './writer.js';

export const REBUILD_PLAN_SCHEMA = 1;

interface PlannedArtifact {
  id: string;
  subdir: string | null;
  path: string;
  built: string | null;
  /** Magic numbers of the failing .pyc, ascending. */
  found: number[];
  expected: { python: string | null; implementation: string; magics: number[] };
  codes: string[];
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byArtifact = (a: PlannedArtifact, b: PlannedArtifact) => byText(a.subdir ?? '', b.subdir ?? '') || byText(a.id, b.id) || byText(a.path, b.path);
const fingerprint = (parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

export class RebuildPlanWriter implements ReportWriter {
  private readonly recipes = new Map<string, { commits: Set<string>; artifacts: PlannedArtifact[] }>();
  private readonly unattributed = new Map<string, PlannedArtifact[]>();

  constructor(private readonly o: { table: MagicTable; version: string; failOn: Severity | 'never' }) {}

  begin(): string {
    return '';
  }

  artifact(r: ArtifactResult): string {
    const { ids } = rebuildIds(r, this.o.failOn);
    if (!ids.length) return '';
    const failing = r.findings.filter((f) => ruleFor(f.code).installed && failsAt(f.severity, this.o.failOn));
    const members = new Set(failing.map((f) => f.member));
    const found = [...new Set(r.pyc.filter((p) => members.has(p.member) && p.magic !== null).map((p) => p.magic!))].sort((a, b) => a - b);
    const implementation = r.expected?.implementation ?? 'CPython';
    const python = r.expected?.version ?? null;
    const expected = { python, implementation, magics: python ? this.o.table.finalMagics(python, implementation).map((e) => e.magic).sort((a, b) => a - b) : [] };
    const planned = ids.map((id) => ({
      id: id.id,
      subdir: r.origin?.subdir ?? r.package.subdir,
      path: r.path,
      built: r.origin?.timestamp != null ? new Date(r.origin.timestamp).toISOString() : null,
      found,
      expected,
      codes: [...new Set(failing.map((f) => f.code))].sort(byText),
    }));
    if (r.recipe) {
      const entry = this.recipes.get(r.recipe.url) ?? { commits: new Set<string>(), artifacts: [] };
      if (r.recipe.sha) entry.commits.add(r.recipe.sha);
      entry.artifacts.push(...planned);
      this.recipes.set(r.recipe.url, entry);
    } else {
      const name = r.package.name ?? r.path;
      this.unattributed.set(name, [...(this.unattributed.get(name) ?? []), ...planned]);
    }
    return '';
  }

  end(t: Tally): string {
    const recipes = [...this.recipes]
      .sort(([a], [b]) => byText(a, b))
      .map(([url, { commits, artifacts }]) => {
        const sorted = artifacts.sort(byArtifact);
        const shas = [...commits].sort(byText);
        return {
          url,
          commits: shas,
          subdirs: [...new Set(sorted.map((a) => a.subdir).filter((s): s is string => s !== null))].sort(byText),
          fingerprint: fingerprint([url, ...shas, ...sorted.map((a) => `${a.subdir ?? ''}/${a.id}`)]),
          artifacts: sorted,
        };
      });
    const unattributed = [...this.unattributed].sort(([a], [b]) => byText(a, b)).map(([name, artifacts]) => ({ name, artifacts: artifacts.sort(byArtifact) }));
    const windows = sortedWindows(t.windows).map((w) => ({ magic: w.magic, artifacts: w.artifacts, firstBuilt: new Date(w.first).toISOString(), lastBuilt: new Date(w.last).toISOString() }));
    const doc = {
      tool: { name: 'pyc-audit', version: this.o.version, schema: REBUILD_PLAN_SCHEMA },
      failOn: this.o.failOn,
      recipes,
      unattributed,
      windows,
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
}
