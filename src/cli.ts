// Command line: parse arguments, run audits with bounded concurrency, print, exit.
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import pLimit from 'p-limit';
import { auditArtifact, type ArtifactResult, type Reader } from './audit.js';
import { DEFAULT_DEADLINE_SECONDS, readTarget } from './sources/index.js';
import { DEFAULT_MAX_BYTES } from './sources/tar-members.js';
import { expandPaths, findPackageCaches, type Target } from './sources/targets.js';
import { MagicTable, type TargetMagic } from './magic/table.js';
import { learnFromEnvironments, learnFromPythonPackages } from './learn-python.js';
import { ReaderPool } from './pool.js';
import { CORES } from './sources/codecs.js';
import { loadUserTable, MagicTableError } from './magic/user-table.js';
import { explainMagic, parseMagicArgument } from './magic/explain.js';
import { JSON_SCHEMA_VERSION, magicEntryJson, magicTableJson } from './report/json.js';
import { FORMATS, type Format } from './report/formats.js';
import { printable } from './report/text.js';
import { OutputError, Reporter, resumeTarget } from './report/reporter.js';
import { fileKey, planOutputs, type OutputPlan } from './report/output.js';
import type { ResultCache } from './result-cache.js';
import type { ChannelLearning } from './channel/learn.js';
import type { ReportFlags } from './report/reporter.js';
// channel, merge, the cache and --resume are loaded when used: every module costs start-up time
// (docs/performance.md), and most runs are a plain audit.
import { Progress } from './report/progress.js';
import { findRule, parseCodeList, SEVERITIES, type Severity } from './rules.js';
import { ruleText, rulesJson, rulesMarkdown, rulesText } from './rule-docs.js';
import type { FindingRules } from './config.js';

const require = createRequire(import.meta.url);
const VERSION = (require('../../package.json') as { version: string }).version;

export const EXIT = { clean: 0, findings: 1, error: 2 } as const;

interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

class UsageError extends Error {}

/**
 * Compressed bytes in one run above which reader threads pay for their start-up (docs/performance.md);
 * PYC_AUDIT_THREADS_MIN_BYTES sets it (tests run the threads on small inputs with it).
 */
const THREADS_WORTH_IT = /^\d+$/.test(process.env.PYC_AUDIT_THREADS_MIN_BYTES ?? '') ? Number(process.env.PYC_AUDIT_THREADS_MIN_BYTES) : 128 << 20;

function pythonVersion(value: string): string {
  const m = /^(\d+)\.(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a minor version such as 3.14');
  return `${Number(m[1])}.${Number(m[2])}`;
}

/** --select/--ignore: comma lists, and repeats that add up (--select PYC0 --select PYC1). */
function codeList(value: string, previous: string[] | undefined): string[] {
  try {
    return [...(previous ?? []), ...parseCodeList(value)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A repeatable option whose values may also be comma-separated. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

/** Seconds for a timer: Node's timers hold at most 2^31-1 ms, and a longer one fires at once. */
const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function seconds(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_SECONDS) throw new InvalidArgumentError(`expected a whole number of seconds from 1 to ${MAX_SECONDS}`);
  return Number(value);
}

function byteSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a size such as 500M or 2G');
  const unit = (m[2] ?? 'B').toUpperCase()[0]!;
  const bytes = Math.floor(Number(m[1]) * 1024 ** 'BKMGT'.indexOf(unit));
  if (bytes < 1) throw new InvalidArgumentError('expected a size of at least 1 byte');
  return bytes;
}

function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function colorFor(stream: Io['stdout'], choice: boolean | undefined): ChalkInstance {
  if (choice === false) return new Chalk({ level: 0 });
  if (choice === true) return new Chalk({ level: Math.max(chalk.level, 1) as 1 | 2 | 3 });
  if (process.env.NO_COLOR) return new Chalk({ level: 0 });
  const forced = process.env.FORCE_COLOR;
  if (forced !== undefined && forced !== '0' && forced !== 'false') return new Chalk({ level: Math.max(chalk.level, 1) as 1 | 2 | 3 });
  return new Chalk({ level: stream.isTTY ? chalk.level : 0 });
}

async function loadTable(path: string | undefined): Promise<MagicTable> {
  if (!path) return MagicTable.builtIn();
  try {
    return MagicTable.builtIn(await loadUserTable(path));
  } catch (err) {
    if (err instanceof MagicTableError) throw new UsageError(err.message);
    throw err;
  }
}

interface AuditFlags {
  python?: string;
  format: Format;
  magicTable?: string;
  jobs: number;
  maxFindings: number;
  maxBytes?: number;
  timeout: number;
  deadline: number;
  quiet?: boolean;
  output?: string[];
  listStale?: boolean;
  pkgsCache?: boolean;
  hashExtracted?: boolean;
  color?: boolean;
  select?: string[];
  ignore?: string[];
  failOn: Severity | 'never';
  resume?: boolean;
  /** From the configuration file (config.ts): per-package ignores and severity overrides. */
  findingRules?: FindingRules;
  baseline?: string;
  updateBaseline?: boolean;
  interpreter?: string;
  /** What --interpreter said, once asked. */
  target?: TargetMagic;
  /** channel: each minor's final magic, from the channel's python builds. */
  learned?: ChannelLearning;
}

/** --interpreter PATH: run it once; its magic and version become the run's target. */
async function resolveInterpreter(flags: AuditFlags): Promise<void> {
  if (!flags.interpreter || flags.target) return;
  const { interpreterTarget, InterpreterError, probeInterpreter } = await import('./magic/interpreter.js');
  let info;
  try {
    info = await probeInterpreter(flags.interpreter, flags.timeout);
  } catch (err) {
    if (err instanceof InterpreterError) throw new UsageError(`--interpreter ${flags.interpreter}: ${err.message}`);
    throw err;
  }
  if (flags.python && flags.python !== info.version) throw new UsageError(`--python ${flags.python} but --interpreter ${flags.interpreter} is ${info.release}`);
  flags.python = info.version;
  flags.target = interpreterTarget(info, flags.interpreter);
}

async function runAudit(inputs: string[], flags: AuditFlags, io: Io): Promise<number> {
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

/**
 * Audits targets with bounded concurrency and reports them in the order given. With a cache, a
 * target whose origin has a SHA-256 already audited (same options) is not read at all.
 */
async function runTargets(targets: Target[], flags: AuditFlags, io: Io, cache: ResultCache | null = null, learnPython = false): Promise<number> {
  let table = await loadTable(flags.magicTable);
  if (flags.target) table = table.withTarget(flags.target);
  for (const t of flags.learned?.targets ?? []) table = table.withTarget(t);
  const plan = await outputs(flags, targets.filter((t) => t.kind === 'file').map((t) => t.path));
  let done = new Map<string, ArtifactResult>();
  if (flags.resume) {
    const { resumeFrom } = await import('./report/resume.js');
    let retried: number;
    try {
      ({ done, retried } = await resumeFrom(resumeTarget(plan).target));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const again = targets.filter((t) => done.has(t.path)).length;
    io.stderr.write(`pyc-audit: --resume: ${again} of ${targets.length} artifacts are in ${printable(resumeTarget(plan).path)} already${retried ? `; ${retried} that could not be read ${retried === 1 ? 'is' : 'are'} audited again` : ''}\n`);
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
  const errColor = colorFor(io.stderr as Io['stdout'], flags.color);
  const paths = targets.map((t) => t.path);
  // Up to --jobs artifacts at once. Decoders that run as programs, and node:zlib's, are parallel
  // by themselves; the tar walk and fzstd run on the thread that reads. A reader thread has a
  // start-up cost, so threads are used only for enough work to repay it (docs/performance.md),
  // and never more than the cores, whatever --jobs says.
  const sizes = await Promise.all(targets.map((t) => t.size ?? (t.kind === 'file' ? stat(t.path).then((s) => s.size, () => 0) : 0)));
  const total = sizes.reduce((a, b) => a + b, 0);
  // Only .conda runs: bzip2 decoding runs as programs that use the cores by themselves.
  const allConda = targets.every((t) => t.kind === 'file' && t.path.endsWith('.conda'));
  const readOptions = { maxBytes: flags.maxBytes ?? null, timeoutSeconds: flags.timeout, deadlineSeconds: flags.deadline, hashExtracted: !!flags.hashExtracted };
  const pool = allConda && paths.length > 1 && flags.jobs > 1 && total >= THREADS_WORTH_IT ? new ReaderPool(Math.min(flags.jobs, paths.length, CORES), readOptions) : null;
  let read: Reader = pool ? pool.read : (t, extra) => readTarget(t, { ...readOptions, ...extra });
  if (flags.learned) read = flags.learned.reader(read);
  // `audit` only: a channel's cached results are keyed on options, not on what other builds say.
  if (learnPython && !flags.target) ({ table, read } = await learnFromPythonPackages(targets, table, read, (line) => io.stderr.write(`${printable(line)}\n`), flags.jobs));
  const limit = pLimit(flags.jobs);
  const stderr = io.stderr as Io['stdout'] & { columns?: number };
  const progress = Progress.wanted(stderr, targets.length, !!flags.quiet) ? new Progress(stderr, targets.length, total) : null;
  const warn = (line: string) => {
    progress?.clear();
    io.stderr.write(line);
    progress?.redraw();
  };
  let reporter: Reporter;
  try {
    const aroundStdout = progress ? { pause: () => progress.clear(), resume: () => progress.redraw() } : undefined;
    reporter = await Reporter.open(flags, plan, io, { color, errColor, table, version: VERSION, warn, aroundStdout });
  } catch (err) {
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
    return result;
  };
  // Largest first (longest-processing-time scheduling), so no thread is left with a big artifact
  // at the end; results still print in the order given.
  const order = paths.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
  // The reporter prints results in the order given (ndjson as each finishes); then only their
  // counts are kept, so memory does not grow with the number of .pyc in a run.
  await Promise.all(
    order.map((i) =>
      limit(async () => {
        const result = await auditOne(targets[i]!);
        progress?.finished(sizes[i]!);
        const adjusted = adjustFindings(result, flags.findingRules);
        reporter.add(baseline ? baseline.filter(adjusted) : adjusted, i, done.has(result.path));
      }),
    ),
  )
    .catch((err: unknown) => {
      reporter.abort();
      throw err;
    })
    .finally(() => {
      progress?.clear();
      return Promise.all([pool?.close(), cache?.close()]);
    });
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

/** Checks --output before anything is read or written; `files`: the inputs that are files (an output may not be one of them). */
async function outputs(flags: { output?: string[]; format: Format }, files: string[]): Promise<OutputPlan> {
  const keys = async () => new Set((await Promise.all(files.map((f) => stat(f).then(fileKey, () => null)))).filter((k): k is string => k !== null));
  try {
    return await planOutputs(flags.output ?? [], flags.format, keys);
  } catch (err) {
    throw err instanceof OutputError ? new UsageError(err.message) : err;
  }
}

interface ChannelFlags extends AuditFlags {
  subdir: string[];
  name: string[];
  shard?: string;
  cache?: string;
  learnPython: boolean;
}

async function runChannel(source: string, flags: ChannelFlags, io: Io): Promise<number> {
  const [{ parseShard, shardOf }, { artifactLocation, ChannelError, describeChannel, isSubdirName, loadChannel }, { ResultCache }, { readRegularFile }] = await Promise.all([
    import('./channel/shard.js'),
    import('./channel/source.js'),
    import('./result-cache.js'),
    import('./regular-file.js'),
  ]);
  for (const subdir of flags.subdir) if (!isSubdirName(subdir)) throw new UsageError(`--subdir ${subdir}: not a subdir name`);
  await resolveInterpreter(flags);
  let shard;
  try {
    shard = flags.shard ? parseShard(flags.shard) : { index: 1, count: 1 };
  } catch (err) {
    throw new UsageError(`--shard ${(err as Error).message}`);
  }
  let channel;
  try {
    channel = await loadChannel(source, flags.subdir, { timeoutSeconds: flags.timeout, selection: { names: flags.name, python: flags.python ?? null, learnPython: flags.learnPython && !flags.target }, cacheDir: flags.cache ?? null });
  } catch (err) {
    if (err instanceof ChannelError) throw new UsageError(err.message);
    throw err;
  }
  for (const w of channel.warnings) io.stderr.write(`pyc-audit: warning: ${printable(w)}\n`);
  const selected = channel.records;
  const mine = selected.filter((r) => shardOf(r.subdir, r.file, shard.count) === shard.index);
  io.stderr.write(`pyc-audit: ${printable(channel.source)}: ${printable(describeChannel(channel))}${shard.count > 1 ? `; shard ${shard.index}/${shard.count} has ${mine.length}` : ''}\n`);
  const targets: Target[] = mine.map((r) => ({
    ...artifactLocation(channel, r),
    size: r.size ?? undefined,
    origin: { channel: channel.source, subdir: r.subdir, file: r.file, sha256: r.sha256, shard: { ...shard, size: mine.length, total: selected.length } },
  }));
  if (channel.python) {
    const { learnFromChannel } = await import('./channel/learn.js');
    const read = { maxBytes: flags.maxBytes ?? null, timeoutSeconds: flags.timeout, deadlineSeconds: flags.deadline };
    const say = (line: string) => io.stderr.write(`${printable(line)}\n`);
    flags.learned = await learnFromChannel(channel, { table: await loadTable(flags.magicTable), read, cacheDir: flags.cache ?? null, version: VERSION, audited: new Set(targets.map((t) => t.path)), jobs: flags.jobs, say });
  }
  const magicTable = flags.magicTable ? await readRegularFile(flags.magicTable, { maxBytes: 16 << 20 }).then((b) => b.toString('utf8'), () => flags.magicTable) : null;
  const cache = flags.cache
    ? new ResultCache(
        flags.cache,
        {
          version: VERSION,
          // What a cached result holds changes with the report's schema (codes, severities, causes).
          schema: JSON_SCHEMA_VERSION,
          python: flags.python ?? null,
          magicTable,
          select: flags.select ?? null,
          ignore: flags.ignore ?? null,
          maxBytes: flags.maxBytes ?? null,
          ...(flags.target ? { target: { magic: flags.target.magic, implementation: flags.target.implementation, version: flags.target.version } } : {}),
          ...(flags.learned?.key.length ? { learned: flags.learned.key } : {}),
        },
        flags.timeout,
        (message) => io.stderr.write(`pyc-audit: warning: ${printable(message)}\n`),
      )
    : null;
  const code = await runTargets(targets, flags, io, cache);
  if (cache) io.stderr.write(`pyc-audit: --cache: ${cache.hits} of ${targets.length} artifacts were already audited\n`);
  return flags.learned?.failed ? EXIT.error : code;
}

async function runMerge(files: string[], flags: ReportFlags & { color?: boolean }, io: Io): Promise<number> {
  const { MergeInputError, mergeReports, readReport } = await import('./merge.js');
  const plan = await outputs(flags, files);
  const inputs = [];
  for (const file of files) {
    try {
      inputs.push({ file, results: await readReport(file) });
    } catch (err) {
      if (err instanceof MergeInputError) throw new UsageError(err.message);
      throw err;
    }
  }
  const merged = mergeReports(inputs);
  const errColor = colorFor(io.stderr as Io['stdout'], flags.color);
  for (const o of merged.overlaps.slice(0, 10)) io.stderr.write(`pyc-audit: warning: overlap: ${printable(o)}\n`);
  if (merged.overlaps.length > 10) io.stderr.write(`pyc-audit: warning: overlap: and ${merged.overlaps.length - 10} more\n`);
  for (const g of merged.gaps) io.stderr.write(`${errColor.red('pyc-audit: error:')} gap: ${printable(g)}\n`);
  let reporter: Reporter;
  try {
    reporter = await Reporter.open(flags, plan, io, { color: colorFor(io.stdout, flags.color), errColor, table: MagicTable.builtIn(), version: VERSION });
  } catch (err) {
    throw err instanceof OutputError ? new UsageError(err.message) : err;
  }
  merged.results.forEach((r, i) => reporter.add(r, i));
  const code = await reporter.close();
  return merged.gaps.length ? EXIT.error : code;
}

async function runMagic(args: string[], flags: { format: 'text' | 'json'; magicTable?: string }, io: Io): Promise<number> {
  const table = await loadTable(flags.magicTable);
  const magics = args.map((a) => {
    const n = parseMagicArgument(a);
    if (n === null) throw new UsageError(`${a}: not a magic number (give 3627, 0x0e2b or the header bytes 2b0e0d0a)`);
    return n;
  });
  if (flags.format === 'json') {
    if (!magics.length) {
      io.stdout.write(magicTableJson(table));
      return EXIT.clean;
    }
    // Every number asked for, in order; one the table does not know is a row saying so.
    const rows = magics.flatMap((m): object[] => {
      const known = table.entries.filter((e) => e.magic === m);
      return known.length ? known.map(magicEntryJson) : [{ magic: m, unknown: true }];
    });
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return magics.some((m) => !table.lookup(m)) ? EXIT.findings : EXIT.clean;
  }
  if (!magics.length) {
    for (const e of table.entries) io.stdout.write(`${explainMagic(table, e.magic)}\n`);
    return EXIT.clean;
  }
  let unknown = false;
  for (const m of magics) {
    if (!table.lookup(m)) unknown = true;
    io.stdout.write(`${explainMagic(table, m)}\n`);
  }
  return unknown ? EXIT.findings : EXIT.clean;
}

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('pyc-audit');
  const formatOption = (formats: readonly string[]) => new Option('--format <format>', 'report format').choices(formats).default('text');
  program
    .description('Find stale Python bytecode in conda artifacts (.conda, .tar.bz2) and .pyc files, without extracting them.')
    .version(VERSION, '-V, --version', 'print the version (--version --verbose: also Node and the decoders this machine uses)')
    // Commander's own errors ("error: unknown option …") in the style of every other error.
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: (s, write) => write(`pyc-audit: ${s}`) })
    .exitOverride()
    .showHelpAfterError('(run pyc-audit --help for usage)')
    .hook('preAction', async (_program, action) => {
      // Configuration files apply to the commands that audit (they have --isolated).
      if (!action.options.some((o) => o.long === '--isolated')) return;
      const { applyConfig, ConfigError } = await import('./config.js');
      try {
        await applyConfig(action);
      } catch (err) {
        throw err instanceof ConfigError ? new UsageError(err.message) : err;
      }
    });

  /** What every auditing command reports and how (audit, channel; merge takes the report part). */
  const reportOptions = (cmd: Command) =>
    cmd
      .addOption(formatOption(FORMATS))
      .option('--output <file>', 'write the report to FILE (the text summary still goes to the terminal), or FORMAT=FILE, repeatable: several reports from one read', (v: string, all: string[] | undefined) => [...(all ?? []), v])
      .option('--list-stale', 'print name-version-build of each artifact that fails --fail-on (needs a rebuild), one per line')
      .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at least this severe').choices([...SEVERITIES, 'never']).default('error'))
      .option('--max-findings <n>', 'findings listed per artifact in text output (0: all)', nonNegativeInt, 10)
      .option('--color', 'colour the text report even when not a terminal')
      .option('--no-color', 'never colour the text report');
  const auditOptions = (cmd: Command, python: string) =>
    reportOptions(
      cmd
        .option('--timeout <seconds>', 'URLs: give up after this long without a byte; --interpreter: without an answer', seconds, 30)
        .option('--deadline <seconds>', 'URLs: give up on an artifact whose download takes longer than this in all', seconds, DEFAULT_DEADLINE_SECONDS)
        .option('-q, --quiet', 'no progress line (it appears only on a terminal, for several artifacts)')
        .option('--python <X.Y>', python, pythonVersion)
        .option('--magic-table <file>', 'extra magic numbers (JSON, as printed by `pyc-audit magic --format json`)')
        .option('--interpreter <path>', 'run this Python once: its magic and version are the target (sets --python)')
        .option('-j, --jobs <n>', 'artifacts audited at once', positiveInt, availableParallelism())
        .option('--select <codes>', 'report only these codes or code prefixes, comma-separated or repeated (PYC0,PYC101)', codeList)
        .option('--ignore <codes>', 'do not report these codes or code prefixes, comma-separated or repeated', codeList)
        .option('--max-bytes <size>', `stop reading an artifact after this much decompressed data (default ${DEFAULT_MAX_BYTES / 2 ** 30}G); reported as an error`, byteSize)
        .option('--resume', 'with --format ndjson --output FILE: keep what FILE holds, audit only the rest (and what could not be read), and append')
        .option('--baseline <file>', 'report only findings not recorded in FILE (a JSON baseline); a missing FILE records this run\'s findings')
        .option('--update-baseline', 'with --baseline: record this run\'s findings in FILE (replacing it) instead of comparing')
        .option('--config <file>', 'read options from this TOML file (pyc-audit.toml, or a pyproject.toml with [tool.pyc-audit])')
        .option('--isolated', 'read no configuration file'),
    );
  const exitHelp = `
Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad usage or an
input that could not be read. \`pyc-audit rules\` lists the finding codes.`;

  const audit = auditOptions(
    program
      .command('audit', { isDefault: true })
      .description('audit artifacts (the default command)')
      .argument('[path...]', 'artifacts (.conda, .tar.bz2, .whl, .zip, .tar.gz, .pyc), folders (a package cache, an environment, any tree), http(s) URLs, or - for stdin')
      .option('--pkgs-cache', 'also audit the package caches conda, mamba and pixi keep on this machine (says which)')
      .option('--hash-extracted', "package caches: also hash every file of an extracted folder and compare it with the archive's info/paths.json (reads every byte)"),
    'the Python the artifacts target (default: inferred from each artifact)',
  )
    .addHelpText('after', `${exitHelp}
Examples:
  pyc-audit numpy-2.3.1-py314h1234_0.conda
  pyc-audit --format json --python 3.14 *.conda > report.json`)
    .action(async (paths: string[], flags: AuditFlags) => setExit(await runAudit(paths, flags, io)));

  auditOptions(
    program
      .command('channel')
      .description('audit the artifacts a conda channel lists in its repodata.json (a URL or a local folder)')
      .argument('<source>', 'a channel URL (https://host/channel) or folder holding <subdir>/repodata.json')
      .addOption(new Option('--subdir <names>', 'subdirs to read, comma-separated or repeated').argParser(collect).default([], 'all the channel has'))
      .addOption(new Option('--name <globs>', 'package names to audit: globs, comma-separated or repeated').argParser(collect).default([], 'all'))
      .option('--shard <K/N>', 'audit only shard K of N (1-based): a fixed partition, so N machines share a channel')
      .option('--cache <dir>', 'keep results by artifact SHA-256 and skip artifacts already audited with the same options')
      .option('--no-learn-python', "judge with the magic table alone: do not read the channel's own python builds for each minor's final magic"),
    'audit only builds that depend on this Python, and expect it',
  )
    .addHelpText('after', `${exitHelp}
Examples:
  pyc-audit channel https://conda.anaconda.org/my-channel --subdir linux-64 --python 3.14 --list-stale
  pyc-audit channel ./channel --shard 2/8 --format ndjson --output shard-2.ndjson`)
    .action(async (source: string, flags: ChannelFlags) => setExit(await runChannel(source, flags, io)));

  reportOptions(
    program
      .command('merge')
      .description('combine the json/ndjson reports of sharded runs into one report, checking for gaps and overlaps')
      .argument('<file...>', 'reports written with --format json or ndjson'),
  )
    .addHelpText('after', `
Exit status as for audit; 2 also when shards are missing or cut short (each said on stderr).`)
    .action(async (files: string[], flags: ReportFlags & { color?: boolean }) => setExit(await runMerge(files, flags, io)));

  program
    .command('rules')
    .description('list the finding codes, their severity, what they mean and how to fix them')
    .addOption(formatOption(['text', 'json', 'markdown']))
    .action((flags: { format: 'text' | 'json' | 'markdown' }) => {
      io.stdout.write(flags.format === 'json' ? rulesJson() : flags.format === 'markdown' ? rulesMarkdown() : rulesText());
      setExit(EXIT.clean);
    });

  program
    .command('rule')
    .description('explain one finding code: what it means, what CPython does with the file, an example, how to fix it')
    .argument('<code>', 'a finding code, e.g. PYC101')
    .action((code: string) => {
      const rule = findRule(code);
      if (!rule) throw new UsageError(`${code} is not a finding code (pyc-audit rules lists them)`);
      io.stdout.write(ruleText(rule));
      setExit(EXIT.clean);
    });

  program
    .command('magic')
    .description('explain magic numbers, or print the whole table')
    .argument('[number...]', 'magic numbers: 3627, 0x0e2b or header bytes 2b0e0d0a')
    .addOption(formatOption(['text', 'json']))
    .option('--magic-table <file>', 'extra magic numbers (JSON)')
    .action(async (args: string[], flags: { format: 'text' | 'json'; magicTable?: string }) => setExit(await runMagic(args, flags, io)));

  // `pyc-audit --help` shows what most runs need: the options of audit, the default command.
  program.addHelpText('after', () => {
    const help = audit.createHelp();
    const width = help.padWidth(audit, help);
    const items = help
      .visibleOptions(audit)
      .filter((o) => o.long !== '--help')
      .map((o) => help.formatItem(help.styleOptionTerm(help.optionTerm(o)), width, help.styleOptionDescription(help.optionDescription(o)), help));
    return `
Audit options (pyc-audit [options] [path...] is pyc-audit audit):
${items.join('\n')}
${exitHelp}
Examples:
  One package:        pyc-audit numpy-2.3.1-py314h1234_0.conda
  A CI step:          pyc-audit --format sarif --output pyc-audit.sarif build_artifacts/*/*.conda
  A package cache:    pyc-audit --pkgs-cache --list-stale
  A channel:          pyc-audit channel https://conda.anaconda.org/my-channel --subdir linux-64
Configuration: [tool.pyc-audit] in pyproject.toml, or pyc-audit.toml, found upward from here
(--config FILE, --isolated). \`pyc-audit COMMAND --help\` for each command.`;
  });

  return program;
}

/**
 * A first argument that is no command, no path that exists and no URL, but close to a command
 * (`rulez`, `audti`): a typo, not an artifact to audit.
 */
async function mistypedCommand(argv: string[], program: Command): Promise<string | null> {
  const word = argv[0];
  if (!word || !/^[A-Za-z][\w-]*$/.test(word)) return null;
  const names = program.commands.map((c) => c.name());
  if (names.includes(word) || (await stat(word).then(() => true, () => false))) return null;
  const { didYouMean } = await import('./did-you-mean.js');
  const hint = didYouMean(word, names);
  return hint ? `unknown command '${word}' (did you mean '${hint}'?)` : null;
}

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let code: number = EXIT.clean;
  const program = buildProgram(io, (c) => (code = c));
  const typo = await mistypedCommand(argv, program);
  if (typo) {
    io.stderr.write(`pyc-audit: error: ${typo}\n(run pyc-audit --help for usage)\n`);
    return EXIT.error;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.clean : EXIT.error;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`pyc-audit: error: ${err.message}\n`);
      return EXIT.error;
    }
    io.stderr.write(`pyc-audit: internal error: ${(err as Error).message}\n`);
    return EXIT.error;
  }
}
