// Failing builds grouped by the recipe that built them (info/about.json's extra.remote_url, with
// the commits built), as --list-stale --by recipe and --format rebuild-plan list them; the builds
// that record no recipe apart, by package name. Sorted on the way out, so two runs over the same
// artifacts, in whatever order they finish, give the same groups. Pure.
import type { ArtifactResult } from '../judge/artifact.js';

export const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class RecipeGroups<T> {
  private readonly recipes = new Map<string, { commits: Set<string>; items: T[] }>();
  private readonly unattributed = new Map<string, T[]>();

  /** Adds `items` (what one result contributes) under its recipe, or under its package name; nothing for none. */
  add(r: ArtifactResult, items: readonly T[]): void {
    if (!items.length) return;
    if (r.recipe) {
      const group = this.recipes.get(r.recipe.url) ?? { commits: new Set<string>(), items: [] };
      if (r.recipe.sha) group.commits.add(r.recipe.sha);
      group.items.push(...items);
      this.recipes.set(r.recipe.url, group);
    } else {
      const name = r.package.name ?? r.path;
      this.unattributed.set(name, [...(this.unattributed.get(name) ?? []), ...items]);
    }
  }

  /** The recipes by URL, each with its commits sorted. */
  byRecipe(): { url: string; commits: string[]; items: T[] }[] {
    return [...this.recipes].sort(([a], [b]) => byText(a, b)).map(([url, g]) => ({ url, commits: [...g.commits].sort(byText), items: g.items }));
  }

  /** The builds that record no recipe, by package name. */
  byName(): { name: string; items: T[] }[] {
    return [...this.unattributed].sort(([a], [b]) => byText(a, b)).map(([name, items]) => ({ name, items }));
  }
}
