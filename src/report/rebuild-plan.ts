// --format rebuild-plan: what a migration needs, one entry per recipe repository that built a
// failing artifact (info/about.json's extra.remote_url and extra.sha): the commits built, the
// subdirs, and each artifact with the magic numbers found in its failing .pyc and the one its
// Python expects; builds that record no recipe apart, by package name; in a channel run, when the
// failing bytecode was built (windows.ts). Written at the end of the run, sorted, each recipe
// with a fingerprint of what it must rebuild, so two runs over the same artifacts give the same
// document and a bot can tell a new plan from one it has acted on. Shape: docs/rebuild-plan.md.
import { createHash } from 'node:crypto';
import type { ArtifactResult } from '../judge/artifact.js';
import type { Severity } from '../judge/rules.js';
import type { MagicTable } from '../magic/table.js';
import type { Tally } from './json.js';
import { rebuildIds } from './list-stale.js';
import { byText, RecipeGroups } from './recipe-groups.js';
import { failingFindings, failingMagics, windowsJson } from './windows.js';
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

const byArtifact = (a: PlannedArtifact, b: PlannedArtifact) => byText(a.subdir ?? '', b.subdir ?? '') || byText(a.id, b.id) || byText(a.path, b.path);
const fingerprint = (parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 32);

export class RebuildPlanWriter implements ReportWriter {
  private readonly groups = new RecipeGroups<PlannedArtifact>();

  constructor(private readonly o: { table: MagicTable; version: string; failOn: Severity | 'never' }) {}

  begin(): string {
    return '';
  }

  artifact(r: ArtifactResult): string {
    const { ids } = rebuildIds(r, this.o.failOn);
    if (!ids.length) return '';
    const failing = failingFindings(r, this.o.failOn);
    const found = failingMagics(r, this.o.failOn).sort((a, b) => a - b);
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
    this.groups.add(r, planned);
    return '';
  }

  end(t: Tally): string {
    const recipes = this.groups.byRecipe().map(({ url, commits, items }) => {
      const sorted = items.sort(byArtifact);
      return {
        url,
        commits,
        subdirs: [...new Set(sorted.map((a) => a.subdir).filter((s): s is string => s !== null))].sort(byText),
        fingerprint: fingerprint([url, ...commits, ...sorted.map((a) => `${a.subdir ?? ''}/${a.id}`)]),
        artifacts: sorted,
      };
    });
    const unattributed = this.groups.byName().map(({ name, items }) => ({ name, artifacts: items.sort(byArtifact) }));
    const windows = windowsJson(t.windows);
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
