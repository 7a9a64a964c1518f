// Configuration files, as ruff reads them: `[tool.pyc-audit]` in pyproject.toml, or the top level
// of pyc-audit.toml / .pyc-audit.toml. The first folder from the working directory upward that
// has one of them wins (in each folder .pyc-audit.toml, then pyc-audit.toml, then a pyproject.toml
// with a [tool.pyc-audit] table); `--config FILE` names one, `--isolated` reads none. Keys are the
// long option names; each value is checked by the option's own parser, and an option given on
// the command line wins over the file. Paths in a file are relative to the file's folder.
//
// Beyond the options: `extend-select` / `extend-ignore` (added to select / ignore),
// `[per-package-ignores]` (package-name globs → codes not reported for those packages) and
// `[severity]` (CODE = "error" | "warning" | "info", which --fail-on and the reports then use).
import { lstatSync, statSync } from 'node:fs';
import { FileError, formatLimit, readRegularFileSync, describeFileError } from '../sources/access/regular-file.js';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import type Picomatch from 'picomatch';
import type { ArtifactResult } from '../judge/artifact.js';
import { didYouMean } from './did-you-mean.js';
import { matchesAny, parseCodeList, RULES, severityRank, SEVERITIES, type Severity } from '../judge/rules.js';

export class ConfigError extends Error {}

/** Keys that are options of the command (values checked by the option's parser). */
const OPTION_KEYS = ['select', 'ignore', 'fail-on', 'python', 'max-findings', 'format', 'jobs', 'timeout', 'max-bytes', 'magic-table', 'quiet', 'color', 'list-stale', 'baseline'];
/** Options that name a file: relative to the configuration file's folder. */
const PATH_KEYS = new Set(['magic-table', 'baseline']);
const EXTRA_KEYS = ['extend-select', 'extend-ignore', 'per-package-ignores', 'severity'];
export const CONFIG_KEYS: readonly string[] = [...OPTION_KEYS, ...EXTRA_KEYS];

/** What the configuration adds to the findings of each artifact. */
export interface FindingRules {
  /** [glob matcher, codes or prefixes] */
  perPackageIgnores: { glob: string; match: (name: string) => boolean; codes: string[] }[];
  severity: Map<string, Severity>;
}

export interface LoadedConfig {
  file: string;
  /** The pyc-audit table: kebab-case keys as written. */
  table: Record<string, unknown>;
}

const CANDIDATES = ['.pyc-audit.toml', 'pyc-audit.toml', 'pyproject.toml'];

/** The most a configuration file may hold (a large project's pyproject.toml is tens of KiB). */
export const CONFIG_MAX_BYTES = 1 << 20;

/** A configuration file's text: a regular file of at most CONFIG_MAX_BYTES (a FIFO, a folder, /dev/zero: one error, never a wait). */
function readConfigText(file: string): string {
  try {
    return readRegularFileSync(file, { maxBytes: CONFIG_MAX_BYTES, follow: true }).toString('utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      err instanceof FileError ? (e.message.startsWith('larger') ? `larger than the ${formatLimit(CONFIG_MAX_BYTES)} a configuration file may have` : e.message)
      : describeFileError(err);
    throw new ConfigError(`${file}: ${reason}`);
  }
}

async function parseToml(file: string, text = readConfigText(file)): Promise<Record<string, unknown>> {
  const { parse, TomlError } = await import('smol-toml');
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) throw new ConfigError(`${file}: not valid TOML: line ${err.line}, column ${err.column}: ${err.message.split('\n')[0]}`);
    throw err;
  }
}

/** The pyc-audit table of a file: [tool.pyc-audit] of a pyproject.toml, else the whole file. */
function tableOf(file: string, doc: Record<string, unknown>): Record<string, unknown> | null {
  if (basename(file) !== 'pyproject.toml') return doc;
  const tool = doc.tool as Record<string, unknown> | undefined;
  const table = tool?.['pyc-audit'];
  if (table === undefined) return null;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) throw new ConfigError(`${file}: [tool.pyc-audit] must be a table`);
  return table as Record<string, unknown>;
}

/** What the upward search found: the file applied (or null), and files it would not read. */
export interface ConfigSearch {
  config: LoadedConfig | null;
  /** Why the search stopped before the filesystem's root, and a configuration file it did not read there, for a note. */
  stoppedAt: { dir: string; reason: string; file: string } | null;
}

/** Who runs this process (null where there are no user ids: Windows). */
const uid = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

/**
 * The configuration that applies in `cwd`: the nearest file upward. As git's safe.directory
 * guards a repository, the search never reads from a folder another user owns (a shared /tmp, a
 * CI workspace's parent), never crosses into another filesystem, and ends at the repository root
 * (a folder with .git): a file above the project is not the project's.
 */
export async function findConfig(cwd: string): Promise<ConfigSearch> {
  const me = uid();
  let device: number | null = null;
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return { config: null, stoppedAt: null };
    }
    const candidate = () => CANDIDATES.map((n) => join(dir, n)).find((f) => lstatOk(f)) ?? '';
    if (device !== null && st.dev !== device) {
      const file = candidate();
      return { config: null, stoppedAt: file ? { dir, reason: 'another filesystem', file } : null };
    }
    device = st.dev;
    if (me !== null && st.uid !== me) {
      const file = candidate();
      return { config: null, stoppedAt: file ? { dir, reason: 'a folder owned by another user', file } : null };
    }
    for (const name of CANDIDATES) {
      const file = join(dir, name);
      if (!lstatOk(file)) continue;
      const text = readConfigText(file);
      // A pyproject.toml without the table is skipped, as ruff does (the project may not use pyc-audit).
      if (name === 'pyproject.toml' && !/^\s*\[\s*tool\s*\.\s*(["']?)pyc-audit\1/m.test(text)) continue;
      const table = tableOf(file, await parseToml(file, text));
      if (table) return { config: { file, table }, stoppedAt: null };
    }
    if (lstatOk(join(dir, '.git')) || dirname(dir) === dir) return { config: null, stoppedAt: null };
  }
}

/** Whether something (of any kind) is at `path`. */
function lstatOk(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const table = tableOf(file, await parseToml(file));
  if (!table) throw new ConfigError(`${file}: no [tool.pyc-audit] table`);
  return { file, table };
}

const camel = (key: string) => key.replace(/-(.)/g, (_, c: string) => c.toUpperCase());

function codes(where: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw new ConfigError(`${where}: expected a list of codes such as ["PYC0", "PYC101"]`);
  try {
    return parseCodeList(list.join(','));
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
}

// Needed only for [per-package-ignores]: loaded then, not at every start (docs/performance.md).
const picomatch = (glob: string, options: Picomatch.PicomatchOptions) => (createRequire(import.meta.url)('picomatch') as typeof Picomatch)(glob, options);

/** Checks the pure-data tables (per-package-ignores, severity). */
export function findingRules(config: LoadedConfig | null): FindingRules {
  const rules: FindingRules = { perPackageIgnores: [], severity: new Map() };
  if (!config) return rules;
  const at = (key: string) => `${config.file}: ${key}`;
  const ppi = config.table['per-package-ignores'];
  if (ppi !== undefined) {
    if (typeof ppi !== 'object' || ppi === null || Array.isArray(ppi)) throw new ConfigError(`${at('per-package-ignores')}: expected a table of package-name globs = [codes]`);
    for (const [glob, value] of Object.entries(ppi)) rules.perPackageIgnores.push({ glob, match: picomatch(glob, { nocase: true, dot: true }), codes: codes(at(`per-package-ignores."${glob}"`), value) });
  }
  const severity = config.table.severity;
  if (severity !== undefined) {
    if (typeof severity !== 'object' || severity === null || Array.isArray(severity)) throw new ConfigError(`${at('severity')}: expected a table of CODE = "error" | "warning" | "info"`);
    for (const [code, level] of Object.entries(severity)) {
      if (!RULES.some((r) => r.code === code.toUpperCase())) throw new ConfigError(`${at(`severity.${code}`)}: not a code (pyc-audit rules lists them)`);
      if (typeof level !== 'string' || !SEVERITIES.includes(level as Severity)) throw new ConfigError(`${at(`severity.${code}`)}: expected "error", "warning" or "info"`);
      rules.severity.set(code.toUpperCase(), level as Severity);
    }
  }
  return rules;
}

/**
 * Applies a configuration to the options of `cmd` (audit or channel): every key must be known and
 * valid; a value from the command line is kept. Sets `findingRules` for adjustFindings.
 */
export async function applyConfig(cmd: Command): Promise<ConfigSearch> {
  const opts = cmd.opts() as { config?: string; isolated?: boolean };
  if (opts.isolated && opts.config) throw new ConfigError('--config and --isolated: give one of them');
  const search: ConfigSearch = opts.isolated ? { config: null, stoppedAt: null } : opts.config ? { config: await loadConfig(opts.config), stoppedAt: null } : await findConfig(process.cwd());
  const config = search.config;
  if (config) {
    const options = new Map(cmd.options.map((o: Option) => [o.long?.replace(/^--/, ''), o]));
    for (const [key, value] of Object.entries(config.table)) {
      if (!CONFIG_KEYS.includes(key)) {
        const hint = didYouMean(key, CONFIG_KEYS);
        throw new ConfigError(`${config.file}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      if (EXTRA_KEYS.includes(key)) continue;
      const option = options.get(key) ?? (key === 'color' ? options.get('no-color') : undefined);
      if (!option) throw new ConfigError(`${config.file}: ${key}: not an option of pyc-audit ${cmd.name()}`);
      const name = camel(key);
      if (cmd.getOptionValueSource(name) === 'cli') continue;
      cmd.setOptionValueWithSource(name, parseValue(config.file, key, value, option), 'config');
    }
    for (const [extend, base] of [['extend-select', 'select'], ['extend-ignore', 'ignore']] as const) {
      if (config.table[extend] === undefined) continue;
      const more = codes(`${config.file}: ${extend}`, config.table[extend]);
      const current = (cmd.getOptionValue(base) as string[] | undefined) ?? (base === 'select' ? ['ALL'] : []);
      cmd.setOptionValueWithSource(base, [...current, ...more], cmd.getOptionValueSource(base) === 'cli' ? 'cli' : 'config');
    }
    cmd.setOptionValueWithSource('configFile', config.file, 'config');
  }
  cmd.setOptionValueWithSource('findingRules', findingRules(config), 'config');
  return search;
}

function parseValue(file: string, key: string, value: unknown, option: Option): unknown {
  const where = `${file}: ${key}`;
  if (!option.required && !option.optional) {
    // A flag: true or false.
    if (typeof value !== 'boolean') throw new ConfigError(`${where}: expected true or false`);
    return option.negate ? !value : value;
  }
  let text: string;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) text = value.join(',');
  else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) text = String(value);
  else throw new ConfigError(`${where}: expected a ${Array.isArray(value) ? 'list of strings' : 'string or number'}`);
  if (PATH_KEYS.has(key)) return resolve(dirname(file), text);
  if (option.argChoices && !option.argChoices.includes(text)) throw new ConfigError(`${where}: "${text}" is not one of ${option.argChoices.join(', ')}`);
  if (!option.parseArg) return text;
  try {
    return option.parseArg(text, undefined as never);
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
}

/** The configured ignores and severities applied to one artifact's findings (pure). */
export function adjustFindings(r: ArtifactResult, rules: FindingRules | undefined): ArtifactResult {
  if (!rules || (!rules.perPackageIgnores.length && !rules.severity.size) || !r.findings.length) return r;
  const name = r.package.name ?? basename(r.path);
  const ignored = rules.perPackageIgnores.filter((p) => p.match(name)).flatMap((p) => p.codes);
  const findings = r.findings
    .filter((f) => !matchesAny(f.code, ignored))
    .map((f) => (rules.severity.has(f.code) ? { ...f, severity: rules.severity.get(f.code)! } : f))
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  return { ...r, findings };
}
