// The fix line of a finding, for the input at hand: a rule's fix is written for who builds the
// package (rebuild it); an installed environment, a tree or venv, a package cache's extracted
// folder and a channel are mended differently. Only findings that make Python recompile at import
// (rules with `invalidates`) change: what else a rule says is about the package's content.
import type { ArtifactResult } from '../judge/artifact.js';
import { ruleFor } from '../judge/rules.js';

/** What kind of input the artifact is, for its fix. */
export type FixContext = 'built' | 'env' | 'tree' | 'cache' | 'channel';

export function fixContext(r: Pick<ArtifactResult, 'kind' | 'origin'>): FixContext {
  if (r.origin) return 'channel';
  if (r.kind === 'env') return 'env';
  if (r.kind === 'dir' || r.kind === 'pyc') return 'tree';
  if (r.kind === 'folder') return 'cache';
  return 'built';
}

const MENDS: Record<Exclude<FixContext, 'built' | 'channel'>, string> = {
  env: 'here: reinstall the package (conda install --force-reinstall NAME) or recompile in place (python -m compileall -f DIR); for good: a rebuilt package',
  tree: 'here: recompile in place with the target Python (python -m compileall -f DIR), or reinstall the package (pip install --force-reinstall NAME)',
  cache: 'here: extract the package again (remove the folder, or conda clean --packages, and reinstall); if its archive has the same findings, rebuild the package',
};

/** The fix line for a code in this artifact's context. */
export function fixFor(code: string, r: Pick<ArtifactResult, 'kind' | 'origin'>): string {
  const rule = ruleFor(code);
  const context = fixContext(r);
  if (!rule.invalidates || context === 'built') return rule.fix;
  if (context === 'channel') return `${rule.fix} (--list-stale lists the builds to rebuild)`;
  return MENDS[context];
}
