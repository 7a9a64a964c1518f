// `pyc-audit audit` (the default command): what to audit — the paths given, the package caches
// with --pkgs-cache, standard input — then one run over them.
import { UsageError } from '../run/exit.js';
import type { ReportIo } from '../report/reporter.js';
import { printable } from '../report/text.js';
import type { RunFlags } from '../run/flags.js';
import { resolveInterpreter } from '../run/resolve-interpreter.js';
import { runTargets } from '../run/run-targets.js';
import { expandPaths, findPackageCaches } from '../sources/folders/targets.js';

export async function runAudit(inputs: string[], flags: RunFlags, io: ReportIo): Promise<number> {
  if (flags.pkgsCache) {
    const caches = await findPackageCaches();
    if (!caches.length) throw new UsageError('--pkgs-cache: no package cache found (looked for $CONDA_PKGS_DIRS, $MAMBA_ROOT_PREFIX/pkgs, ~/miniforge3/pkgs, ~/.conda/pkgs, pixi/rattler caches and the like)');
    io.stderr.write(`pyc-audit: scanning ${caches.map(printable).join(', ')}\n`);
    inputs = [...inputs, ...caches];
  }
  if (!inputs.length) throw new UsageError('nothing to audit: give artifacts, folders, URLs or - (stdin), or --pkgs-cache');
  if (inputs.filter((p) => p === '-').length > 1) throw new UsageError('- (stdin) can be given once');
  await resolveInterpreter(flags);
  return runTargets(await expandPaths(inputs), flags, io, null, true);
}
