// --list-stale: what to rebuild, one identifier per line, each once: `name-version-build` of a
// conda artifact that fails --fail-on; in an environment, of each installed package (conda-meta's
// owner) whose files fail; for a wheel, its `name-version`. An identifier that conda's grammar
// would not accept (a hostile index.json: `"name": "evil\u001b[2K\rinnocent\nnumpy"`) is printed
// escaped and in quotes, so no script acting on the list can take it for a package, and a
// warning on stderr says why.
//
// --by recipe: a line per recipe repository (info/about.json's extra.remote_url, as conda-smithy's
// builds record it), `URL COMMITS ARTIFACTS…` — the commits built, comma-separated (`-` when none
// is recorded), then its failing artifacts as subdir/name-version-build; then a line per package
// name whose builds record no recipe, `NAME - ARTIFACTS…`. Sorted, so two runs give the same list.
import type { ArtifactResult } from '../judge/artifact.js';
import { needsRebuild } from '../judge/artifact.js';
import { failsAt, ruleFor, type Severity } from '../judge/rules.js';
import { printable } from './escape.js';
import type { ReportWriter } from './writer.js';
import { condaId, ownerId, wheelId, type PackageId } from './package-id.js';
import { byText, RecipeGroups } from './recipe-groups.js';

/**
 * What to rebuild for one result (none when what conda installs does not fail: info/ bytecode alone
 * lists nothing); `unowned`: failing files no package owns.
 */
export function rebuildIds(r: ArtifactResult, failOn: Severity | 'never'): { ids: PackageId[]; unowned: number } {
  if (!needsRebuild(r, failOn)) return { ids: [], unowned: 0 };
  if (r.pyc.some((p) => p.owner !== undefined)) {
    const owners = new Map(r.pyc.map((p) => [p.member, p.owner]));
    const ids = new Map<string, PackageId>();
    let unowned = 0;
    const failing = new Set(r.findings.filter((f) => ruleFor(f.code).installed && failsAt(f.severity, failOn)).map((f) => f.member));
    for (const member of failing) {
      const owner = owners.get(member);
      if (owner) ids.set(owner, ownerId(owner));
      else unowned++;
    }
    return { ids: [...ids.values()], unowned };
  }
  if (r.kind === 'whl' || r.kind === 'zip') {
    const wheel = wheelId(r.path);
    if (wheel) return { ids: [wheel], unowned: 0 };
  }
  const { name, version, build } = r.package;
  if (name && version && build) return { ids: [condaId(name, version, build)], unowned: 0 };
  return { ids: [{ id: r.path, problem: null }], unowned: 0 };
}

/** How an identifier is printed: bare when valid (a path is printed escaped), quoted and escaped otherwise. */
function line(p: PackageId): string {
  return p.problem === null ? printable(p.id) : `"${printable(p.id.replace(/["\\]/g, (c) => `\\${c}`))}"`;
}

export function listStaleWriter(failOn: Severity | 'never', warn: (line: string) => void): ReportWriter {
  const listed = new Set<string>();
  return {
    begin: () => '',
    artifact: (r) => {
      const { ids, unowned } = rebuildIds(r, failOn);
      if (unowned) warn(`pyc-audit: warning: --list-stale: ${printable(r.path)}: ${unowned} failing file${unowned === 1 ? '' : 's'} no installed package owns (not listed)\n`);
      let out = '';
      for (const p of ids) {
        if (listed.has(p.id)) continue;
        listed.add(p.id);
        if (p.problem) warn(`pyc-audit: warning: --list-stale: ${printable(r.path)}: ${line(p)} is ${p.problem}; listed quoted and escaped\n`);
        out += `${line(p)}\n`;
      }
      return out;
    },
    end: () => '',
  };
}

/** One failing artifact as --by recipe lists it: subdir/name-version-build (the subdir where known). */
function artifactId(r: ArtifactResult, id: PackageId): string {
  const subdir = r.origin?.subdir ?? r.package.subdir;
  return line({ ...id, id: subdir && id.problem === null ? `${subdir}/${id.id}` : id.id });
}

/** --list-stale --by recipe: what to rebuild, a line per recipe, written when the run ends. */
export function recipeListWriter(failOn: Severity | 'never', warn: (line: string) => void): ReportWriter {
  const groups = new RecipeGroups<string>();
  const sorted = (ids: string[]) => [...new Set(ids)].sort(byText).join(' ');
  return {
    begin: () => '',
    artifact: (r) => {
      groups.add(r, rebuildIds(r, failOn).ids.map((id) => artifactId(r, id)));
      return '';
    },
    end: () => {
      let out = '';
      for (const { url, commits, items } of groups.byRecipe()) out += `${printable(url)} ${commits.length ? commits.join(',') : '-'} ${sorted(items)}\n`;
      const unattributed = groups.byName();
      if (unattributed.length) warn(`pyc-audit: warning: --list-stale --by recipe: ${unattributed.length === 1 ? '1 package records' : `${unattributed.length} packages record`} no recipe (info/about.json has no extra.remote_url): listed by package name\n`);
      for (const { name, items } of unattributed) out += `${line({ id: name, problem: /^[A-Za-z0-9_.+-]+$/.test(name) ? null : 'not a package name' })} - ${sorted(items)}\n`;
      return out;
    },
  };
}
