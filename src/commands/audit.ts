// `pyc-audit audit` (the default command): what to audit — the paths given, the package caches
// with --pkgs-cache, standard input — then one run over them.
import { stat } from '../sources/access/stat-file.js';
import { UsageError } from '../run/exit.js';
import type { ReportIo } from '../report/reporter.js';
import { printable } from '../report/text.js';
import type { RunFlags } from '../run/flags.js';
import { resolveInterpreter } from '../run/resolve-interpreter.js';
import { runTargets } from '../run/run-targets.js';
import { expandPaths, findPackageCaches } from '../sources/folders/targets.js';

export async function runAudit(inputs: string[], flags: RunFlags, io: ReportIo): Promise<number> {
  let caches: string[] = [];
  if (flags.pkgsCache) {
    caches = await findPackageCaches();
    if (!caches.length) throw new UsageError('--pkgs-cache: no package cache found (looked for $CONDA_PKGS_DIRS, $MAMBA_ROOT_PREFIX/pkgs, ~/miniforge3/pkgs, ~/.conda/pkgs, pixi/rattler caches and the like)');
    io.stderr.write(`pyc-audit: scanning ${caches.map(printable).join(', ')}\n`);
  }
  if (!inputs.length && !caches.length) throw new UsageError('nothing to audit: give artifacts, folders, URLs or - (stdin), or --pkgs-cache');
  if (inputs.filter((p) => p === '-').length > 1) throw new UsageError('- (stdin) can be given once');
  if (inputs.length) inputs = await presentInputs(inputs, io);
  await resolveInterpreter(flags);
  // The caches --pkgs-cache found are not inputs the user named: an empty one is not worth a word.
  const found = (await expandPaths(caches)).map(({ input: _, ...t }) => t);
  return runTargets([...(await expandPaths(inputs)), ...found], flags, io, null, true);
}

/** A path with a glob character the shell left as it was: a pattern that matched nothing. */
const isPattern = (p: string) => /[*?[]/.test(p);

/**
 * The inputs without the patterns that matched nothing (each a warning), when others are left. A
 * run where no path exists is an error: nothing to audit (a CI glob for .tar.bz2 on a .conda-only
 * build must not pass). A missing plain path beside others stays an input: its error line and exit 2.
 */
async function presentInputs(inputs: string[], io: ReportIo): Promise<string[]> {
  const missing = new Set<string>();
  await Promise.all(inputs.map(async (p) => {
    if (p === '-' || /^https?:\/\//i.test(p)) return;
    // Only what is not there is missing; a path that is there but cannot be followed (a loop of
    // links, a folder without search permission) stays an input, and gets its own error line.
    if (await stat(p).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR')) missing.add(p);
  }));
  if (!missing.size) return inputs;
  if (missing.size === inputs.length) {
    const patterns = inputs.filter(isPattern);
    const files = inputs.filter((p) => !isPattern(p));
    const why = [patterns.length ? `${patterns.map(printable).join(', ')}: matched nothing` : '', files.length ? `${files.map(printable).join(', ')}: no such file` : ''].filter(Boolean).join('; ');
    throw new UsageError(`nothing to audit: ${why}`);
  }
  const unmatched = inputs.filter((p) => missing.has(p) && isPattern(p));
  for (const p of unmatched) io.stderr.write(`pyc-audit: warning: ${printable(p)}: matched nothing\n`);
  return inputs.filter((p) => !unmatched.includes(p));
}
