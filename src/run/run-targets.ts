// One run: audits targets with bounded concurrency and reports them in the order given — resume,
// baseline, reader threads, scheduling, the result cache, the progress line and the reports.
import { stat } from '../sources/access/stat-file.js';
import type { ArtifactResult } from '../judge/artifact.js';
import { auditArtifact } from './audit-artifact.js';
import { UsageError } from './exit.js';
import { learnFromEnvironments, learnFromPythonPackages } from './learn-python.js';
import { colorFor } from '../report/color.js';
import { Progress } from '../report/progress.js';
import { OutputError, Reporter, resumeTarget, type ReportIo } from '../report/reporter.js';
import { printable } from '../report/text.js';
import type { ResultCache } from './result-cache.js';
import type { Target } from '../sources/folders/targets.js';
import { VERSION } from '../version.js';
import { checkOutputs } from './check-outputs.js';
import { chooseReader } from './choose-reader.js';
import type { RunFlags } from './flags.js';
import { loadTable } from './load-table.js';
import { DOWNLOADS } from './read-plan.js';

/**
 * A part of a tree or environment, or a plain folder, that held no .pyc and gave no finding: no
 * artifact (the rest of a venv once its packages are read apart, an empty folder). Not reported.
 */
function isNothing(t: Target, r: ArtifactResult): boolean {
  return (t.kind === 'dir' || t.kind === 'env') && r.error === null && !r.pyc.length && !r.findings.length && !r.unreadable.length;
}

/**
 * What each input is now, for --resume: a channel artifact's SHA-256, a file's or folder's size
 * and mtime; null for what has none to compare (a URL without a digest, stdin).
 */
async function identitiesOf(targets: Target[]): Promise<Map<string, string | null>> {
  const ids = new Map<string, string | null>();
  await Promise.all(
    targets.map(async (t) => {
      if (t.origin?.sha256) return ids.set(t.path, `sha256:${t.origin.sha256}`);
      if (t.kind === 'url' || t.kind === 'stdin') return ids.set(t.path, null);
      const s = await stat(t.path).catch(() => null);
      ids.set(t.path, s ? `${s.size}:${s.mtimeMs}` : null);
    }),
  );
  return ids;
}

/** `count` workers (at least one while there is work) taking the items of `queue` in turn; one failure rejects its worker. */
function workers(queue: readonly number[], count: number, each: (i: number) => Promise<void>): Promise<void>[] {
  let next = 0;
  const work = async () => {
    while (next < queue.length) await each(queue[next++]!);
  };
  return Array.from({ length: Math.min(queue.length, Math.max(1, count)) }, work);
}

/**
 * Audits targets and reports them in the order given. With a cache, a target whose origin has a
 * SHA-256 already audited (same options) is not read at all.
 */
export async function runTargets(targets: Target[], flags: RunFlags, io: ReportIo, cache: ResultCache | null = null, learnPython = false): Promise<number> {
  let table = await loadTable(flags.magicTable);
  if (flags.target) table = table.withTarget(flags.target);
  for (const t of flags.learned?.targets ?? []) table = table.withTarget(t);
  const plan = await checkOutputs(flags, targets.filter((t) => t.kind === 'file').map((t) => t.path));
  let done = new Map<string, ArtifactResult>();
  // Recorded in every ndjson line (a later --resume compares them), so known for every run that writes one.
  const ndjson = plan.stdoutFormat === 'ndjson' || plan.files.some((f) => f.format === 'ndjson');
  const identities = ndjson ? await identitiesOf(targets) : new Map<string, string | null>();
  if (flags.resume) {
    const { resumeFrom } = await import('../report/resume.js');
    let retried: number;
    let changed: number;
    try {
      ({ done, retried, changed } = await resumeFrom(resumeTarget(plan).target, (p) => identities.get(p)));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const again = targets.filter((t) => done.has(t.path)).length;
    const more = [retried ? `${retried} that could not be read ${retried === 1 ? 'is' : 'are'} audited again` : '', changed ? `${changed} changed since (size or mtime) ${changed === 1 ? 'is' : 'are'} audited again` : ''].filter(Boolean);
    io.stderr.write(`pyc-audit: --resume: ${again} of ${targets.length} artifacts are in ${printable(resumeTarget(plan).path)} already${more.map((m) => `; ${m}`).join('')}\n`);
  }
  if (flags.updateBaseline && !flags.baseline) throw new UsageError('--update-baseline needs --baseline FILE');
  const { adjustFindings } = await import('./config.js');
  const baseline = flags.baseline ? await import('./baseline.js').then(({ Baseline, BaselineError }) => {
    try {
      return Baseline.open(flags.baseline!, !!flags.updateBaseline);
    } catch (err) {
      throw err instanceof BaselineError ? new UsageError(err.message) : err;
    }
  }) : null;
  const color = colorFor(io.stdout, flags.color);
  const errColor = colorFor(io.stderr as ReportIo['stdout'], flags.color);
  const paths = targets.map((t) => t.path);
  // Up to --jobs artifacts at once, read here or also on reader threads (choose-reader.ts).
  const sizes = await Promise.all(targets.map((t) => t.size ?? (t.kind === 'file' ? stat(t.path).then((s) => s.size, () => 0) : 0)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const readOptions = { maxBytes: flags.maxBytes ?? null, timeoutSeconds: flags.timeout, deadlineSeconds: flags.deadline, hashExtracted: !!flags.hashExtracted };
  const chosen = await chooseReader(targets, total, flags.jobs, readOptions);
  const pool = chosen.pool;
  let read = chosen.read;
  if (flags.learned) read = flags.learned.reader(read);
  // `audit` only: a channel's cached results are keyed on options, not on what other builds say.
  if (learnPython && !flags.target) ({ table, read } = await learnFromPythonPackages(targets, table, read, (line) => io.stderr.write(`${printable(line)}\n`), flags.jobs));
  const stderr = io.stderr as ReportIo['stdout'] & { columns?: number };
  const progress = Progress.wanted(stderr, targets.length, !!flags.quiet) ? new Progress(stderr, targets.length, total) : null;
  const warn = (line: string) => {
    progress?.clear();
    io.stderr.write(line);
    progress?.redraw();
  };
  let reporter: Reporter;
  try {
    const aroundStdout = progress ? { pause: () => progress.clear(), resume: () => progress.redraw() } : undefined;
    reporter = await Reporter.open(flags, plan, io, { color, errColor, table, version: VERSION, warn, aroundStdout, inputs: targets.length });
  } catch (err) {
    progress?.stop();
    await pool?.close();
    throw err instanceof OutputError ? new UsageError(err.message) : err;
  }
  const environments = learnPython && !flags.target ? learnFromEnvironments(targets, table) : undefined;
  const options = { table, python: flags.python ?? null, selection: { select: flags.select ?? ['ALL'], ignore: flags.ignore ?? [] }, target: flags.target ?? null, environments };
  const auditOne = async (target: Target): Promise<ArtifactResult> => {
    const resumed = done.get(target.path);
    if (resumed) return resumed;
    const result = cache
      ? await cache.audit(target, (copy) => auditArtifact(copy, options, read), (t, reason) => auditArtifact(t, options, () => Promise.reject(new Error(reason))))
      : await auditArtifact(target, options, read);
    if (target.origin) result.origin = target.origin;
    const identity = identities.get(target.path);
    if (identity) result.identity = identity;
    return result;
  };
  // Largest first (longest-processing-time scheduling), so no thread is left with a big artifact
  // at the end; results still print in the order given.
  const order = paths.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
  // The reporter prints results in the order given (ndjson as each finishes); then only their
  // counts are kept, so memory does not grow with the number of .pyc in a run.
  // Inputs (command-line paths) that turned out to hold something to audit.
  const held = new Set<string>();
  const one = async (i: number) => {
    const result = await auditOne(targets[i]!);
    progress?.finished(sizes[i]!);
    if (isNothing(targets[i]!, result)) return reporter.skip(i);
    if (targets[i]!.input !== undefined) held.add(targets[i]!.input!);
    const adjusted = adjustFindings(result, flags.findingRules);
    reporter.add(baseline ? baseline.filter(adjusted) : adjusted, i, done.has(result.path));
  };
  // Local artifacts --jobs at once; URLs --downloads at once (their decoding still takes turns on
  // the main thread): a download waits on the network, not on a core. Workers take the next of
  // their kind in that order: no promise is made per artifact before its turn.
  const urls = order.filter((i) => targets[i]!.kind === 'url');
  const others = order.filter((i) => targets[i]!.kind !== 'url');
  await Promise.all([...workers(urls, flags.downloads ?? DOWNLOADS, one), ...workers(others, flags.jobs, one)])
    .catch((err: unknown) => {
      reporter.abort();
      throw err;
    })
    .finally(() => {
      progress?.clear();
      progress?.stop();
      return Promise.all([pool?.close(), cache?.close()]);
    });
  // A folder with nothing to audit in it (empty, mistyped, not what was meant) is said, and a run
  // with nothing at all to audit is an error: it must not pass as a clean audit.
  const inputs = [...new Set(targets.map((t) => t.input).filter((p): p is string => p !== undefined))];
  const empty = inputs.filter((p) => !held.has(p));
  if (empty.length && empty.length === inputs.length && reporter.tally.artifacts === 0) {
    reporter.abort();
    throw new UsageError(`nothing to audit: ${empty.map(printable).join(', ')}: no conda artifact, wheel or .pyc in ${empty.length === 1 ? 'it' : 'them'}`);
  }
  for (const p of empty) warn(`${errColor.yellow('pyc-audit: warning:')} ${printable(p)}: nothing to audit in it (no conda artifact, wheel or .pyc)\n`);
  const code = await reporter.close();
  if (baseline) {
    try {
      io.stderr.write(baseline.close());
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return code;
}
