// Command line: parse arguments and hand each command to its module (commands/); print a usage
// error as one line; exit.
import { stat } from './sources/access/stat-file.js';
import { standardIo } from './run/stdio.js';
import { Command, CommanderError, Option } from 'commander';
import { runAudit } from './commands/audit.js';
import type { ChannelFlags } from './commands/channel.js';
import { runMagic } from './commands/magic.js';
import { buildTime, byteSize, codeList, collect, nonNegativeInt, positiveInt, pythonVersion, repeated, seconds } from './commands/option-parsers.js';
import { CORES } from './run/cores.js';
import { EXIT, UsageError } from './run/exit.js';
import { closeNetwork } from './sources/access/net.js';
import { redactUrls } from './sources/access/redact.js';
import { DOWNLOADS } from './run/read-plan.js';
import { DEFAULT_DEADLINE_SECONDS } from './sources/index.js';
import { DEFAULT_MAX_BYTES } from './sources/formats/tar-members.js';
import { FORMATS } from './report/formats.js';
import type { ReportFlags, ReportIo } from './report/reporter.js';
import type { RunFlags } from './run/flags.js';
import { findRule, SEVERITIES } from './judge/rules.js';
import { ruleText, rulesJson, rulesMarkdown, rulesText } from './judge/rule-docs.js';
import { VERSION } from './version.js';
import { printable } from './report/escape.js';
// `channel` and `merge` (commands/channel.ts, commands/merge.ts), the cache and --resume are loaded
// when used: every module costs start-up time (docs/performance.md), and most runs are a plain audit.

type Io = ReportIo;

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
      const { applyConfig, ConfigError } = await import('./run/config.js');
      let search;
      try {
        search = await applyConfig(action);
      } catch (err) {
        throw err instanceof ConfigError ? new UsageError(printable(err.message)) : err;
      }
      // The configuration applied is named, always (docs/security.md): a file from a folder above
      // changes the verdict, and a run must say so. A file the search would not read is named too.
      if (search.config) io.stderr.write(`pyc-audit: config: ${printable(search.config.file)}\n`);
      else if (search.stoppedAt) io.stderr.write(`pyc-audit: config: not reading ${printable(search.stoppedAt.file)} (in ${printable(search.stoppedAt.reason)}; --config names it)\n`);
    });

  /** What every auditing command reports and how (audit, channel; merge takes the report part). */
  const reportOptions = (cmd: Command) =>
    cmd
      .addOption(formatOption(FORMATS))
      .option('--output <file>', 'write the report to FILE (the text summary still goes to the terminal), or FORMAT=FILE, repeatable: several reports from one read', repeated)
      .option('--list-stale', 'print name-version-build of each artifact that fails --fail-on (needs a rebuild), one per line')
      .addOption(new Option('--by <what>', "--list-stale: a line per failing artifact, or per recipe (info/about.json's extra.remote_url) with the commits built and its artifacts").choices(['artifact', 'recipe']).default('artifact'))
      .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at least this severe').choices([...SEVERITIES, 'never']).default('error'))
      .option('--max-findings <n>', 'findings listed per artifact in text output (0: all)', nonNegativeInt, 10)
      .option('--color', 'colour the text report even when not a terminal')
      .option('--no-color', 'never colour the text report');
  // The report options first: --help lists what most runs set (--format, --output, --fail-on) at the top.
  const auditOptions = (cmd: Command, python: string) =>
    reportOptions(cmd)
        .option('--timeout <seconds>', 'URLs: give up after this long without a byte; --interpreter: without an answer', seconds, 30)
        .option('--deadline <seconds>', 'URLs: give up on an artifact whose download takes longer than this in all', seconds, DEFAULT_DEADLINE_SECONDS)
        .option('-q, --quiet', 'no progress line, and the text report lists only artifacts that need a look, however few')
        .option('-v, --verbose', 'the text report lists every artifact (OK ones too) and how each was read')
        .option('--python <X.Y>', python, pythonVersion)
        .option('--magic-table <file>', 'extra magic numbers (JSON, as printed by `pyc-audit magic --format json`)')
        .option('--interpreter <path>', 'run this Python once: its magic and version are the target (sets --python)')
        .addOption(new Option('-j, --jobs <n>', 'artifacts audited at once').argParser(positiveInt).default(CORES, 'the number of cores'))
        .option('--downloads <n>', `URLs: downloads in flight at once (default ${DOWNLOADS}; decoding stays bounded by the cores)`, positiveInt)
        .option('--allow-host <host>', 'channels: hosts a remote channel may send requests to even if loopback, link-local or private (repeatable; * allows any)', repeated)
        .option('--select <codes>', 'report only these codes or code prefixes, comma-separated or repeated (PYC0,PYC101)', codeList)
        .option('--ignore <codes>', 'do not report these codes or code prefixes, comma-separated or repeated', codeList)
        .option('--max-bytes <size>', `stop reading an artifact after this much decompressed data (default ${DEFAULT_MAX_BYTES / 2 ** 30}G); reported as an error`, byteSize)
        .option('--resume', 'with --format ndjson --output FILE: keep what FILE holds, audit only the rest (and what could not be read), and append')
        .option('--baseline <file>', 'report only findings not recorded in FILE (a JSON baseline); a missing FILE is an error unless --update-baseline')
        .option('--update-baseline', 'with --baseline: record this run\'s findings in FILE (replacing it) instead of comparing')
        .option('--config <file>', 'read options from this TOML file (pyc-audit.toml, or a pyproject.toml with [tool.pyc-audit])')
        .option('--isolated', 'read no configuration file');
  const exitHelp = `
Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad usage or an
input that could not be read. \`pyc-audit rules\` lists the finding codes.`;

  const audit = auditOptions(
    program
      .command('audit', { isDefault: true })
      .description('audit artifacts (the default command)')
      .argument('[path...]', 'artifacts (.conda, .tar.bz2, .whl, .zip, .tar.gz, .pyc), folders (a package cache, an environment, any tree), http(s) URLs, or - for stdin'),
    'the Python the artifacts target (default: inferred from each artifact)',
  )
    .option('--pkgs-cache', 'also audit the package caches conda, mamba and pixi keep on this machine (says which)')
    .option('--hash-extracted', "package caches: also hash every file of an extracted folder and compare it with the archive's info/paths.json (reads every byte)")
    .addHelpText('after', `${exitHelp}
Examples:
  pyc-audit numpy-2.3.1-py314h1234_0.conda
  pyc-audit --format json --python 3.14 *.conda > report.json`)
    .action(async (paths: string[], flags: RunFlags) => setExit(await runAudit(paths, flags, io)));

  auditOptions(
    program
      .command('channel')
      .description('audit the artifacts a conda channel lists in its repodata.json (a URL or a local folder)')
      .argument('<source>', 'a channel URL (https://host/channel) or folder holding <subdir>/repodata.json'),
    'audit only builds that depend on this Python, and expect it',
  )
    .addOption(new Option('--subdir <names>', 'subdirs to read, comma-separated or repeated').argParser(collect).default([], 'all the channel has'))
    .addOption(new Option('--name <globs>', 'package names to audit: globs, comma-separated or repeated').argParser(collect).default([], 'all'))
    .option('--built-after <date>', 'audit only builds made at or after this date or time (repodata timestamps), selected before anything is downloaded', buildTime)
    .option('--built-before <date>', 'audit only builds made before this date or time', buildTime)
    .option('--shard <K/N>', 'audit only shard K of N (1-based): a fixed partition, so N machines share a channel')
    .option('--cache <dir>', 'keep results by artifact SHA-256 and skip artifacts already audited with the same options')
    .option('--no-learn-python', "judge with the magic table alone: do not read the channel's own python builds for each minor's final magic")
    .addHelpText('after', `${exitHelp}
Examples:
  pyc-audit channel https://conda.anaconda.org/my-channel --subdir linux-64 --python 3.14 --list-stale
  pyc-audit channel ./channel --shard 2/8 --format ndjson --output shard-2.ndjson`)
    .action(async (source: string, flags: ChannelFlags) => setExit(await (await import('./commands/channel.js')).runChannel(source, flags, io)));

  reportOptions(
    program
      .command('merge')
      .description('combine the json/ndjson reports of sharded runs into one report, checking for gaps and overlaps')
      .argument('<file...>', 'reports written with --format json or ndjson'),
  )
    .addHelpText('after', `
Exit status as for audit; 2 also when shards are missing or cut short (each said on stderr).`)
    .action(async (files: string[], flags: ReportFlags & { color?: boolean }) => setExit(await (await import('./commands/merge.js')).runMerge(files, flags, io)));

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
    .option('--update', "bring the table up to date from CPython's published release tags (written to the user's cache folder; docs/magic-table.md)")
    .option('--tags-url <url>', 'with --update: base URL of the release list (BASE/repos/python/cpython/tags; env PYC_AUDIT_TAGS_URL)')
    .option('--raw-url <url>', 'with --update: base URL of tagged sources (BASE/python/cpython/TAG/PATH; env PYC_AUDIT_RAW_URL)')
    .option('--timeout <seconds>', 'with --update: give up on a request after this long in all', seconds, 30)
    .action(async (args: string[], flags: Parameters<typeof runMagic>[1]) => setExit(await runMagic(args, flags, io)));

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
  A CI step:          pyc-audit --format sarif --output pyc-audit.sarif build_artifacts/
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
  const { didYouMean } = await import('./run/did-you-mean.js');
  const hint = didYouMean(word, names);
  return hint ? `unknown command '${word}' (did you mean '${hint}'?)` : null;
}

/**
 * `--formt=json`: commander suggests a spelling for `--fromat json` but not for an unknown option
 * written with `=`. The same suggestion for it, in the same words.
 */
async function mistypedOption(argv: string[], program: Command): Promise<string | null> {
  const longs = new Set([program, ...program.commands].flatMap((c) => c.options.map((o) => o.long).filter((l): l is string => !!l)));
  for (const arg of argv) {
    if (arg === '--') break;
    const m = /^(--[^=]+)=/.exec(arg);
    if (!m || longs.has(m[1]!)) continue;
    const { didYouMean } = await import('./run/did-you-mean.js');
    const hint = didYouMean(m[1]!, [...longs]);
    return `unknown option '${arg}'${hint ? `\n(Did you mean ${hint}?)` : ''}`;
  }
  return null;
}

/** io with every line written to stderr passed through redactUrls (no password or token shown). */
function redacting(io: Io): Io {
  const stderr = io.stderr;
  const write = (chunk: unknown, ...rest: unknown[]) => (stderr.write as (...a: unknown[]) => boolean)(typeof chunk === 'string' ? redactUrls(chunk) : chunk, ...rest);
  return { ...io, stderr: new Proxy(stderr, { get: (t, k) => (k === 'write' ? write : typeof Reflect.get(t, k) === 'function' ? (Reflect.get(t, k) as Function).bind(t) : Reflect.get(t, k)) }) };
}

export async function main(argv: string[], given: Io = standardIo()): Promise<number> {
  const io = redacting(given);
  let code: number = EXIT.clean;
  const program = buildProgram(io, (c) => (code = c));
  const badOption = await mistypedOption(argv, program);
  if (badOption) {
    io.stderr.write(`pyc-audit: error: ${badOption}\n(run pyc-audit --help for usage)\n`);
    return EXIT.error;
  }
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
    io.stderr.write(`pyc-audit: internal error: ${printable(String((err as Error)?.message ?? err))} (please report)\n`);
    return EXIT.error;
  } finally {
    // No connection (kept alive, or a silent proxy's) outlives the run's reports.
    await closeNetwork();
  }
}
