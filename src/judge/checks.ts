// Beyond the magic: will each .pyc of an artifact actually be used? The judged .pyc, the .py
// records and the package's metadata in; coded findings and the impact (what is compiled at first
// import) out. Pure: no I/O.
//
// Each .pyc goes through three stages, in this order, and the first finding that means "never read"
// ends its checks (a file the target never opens has nothing more to say):
//   1. placement (PLACEMENT_RULES, first match wins): info/ (PYC205), noarch: python (PYC204),
//      __pycache__ for a Python that does not read it (PYC208), another cache tag (PYC203), a
//      __pycache__ .pyc without its source (PYC209), a legacy .pyc beside its source for 3.2+ (PYC207);
//   2. the magic (verdict.ts's status → MAGIC_CODES): a magic the target rejects (PYC001–PYC005)
//      ends the checks; one only some builds load (PYC006, PYC007) does not;
//   3. the source (SOURCE_RULES): sourceless (PYC201), prefix placeholder (PYC105, ends), then the
//      header against the .py: PYC107, PYC101, PYC102 (timestamp), PYC103/PYC106 (checked-hash),
//      PYC104 (unchecked-hash).
// Then per module: an importable .py with no .pyc the target reads (PYC202); per file: .pyo (PYC206).
import type { MagicTable } from '../magic/table.js';
import type { MagicEntry } from '../magic/types.js';
import type { Expected, PackageInfo } from './package-info.js';
import { cacheTagFor, inImportLocation, isImportableSource, pycLocation, usesLegacyLayout, type PycLocation } from './pyc-paths.js';
import { outsideImport, ruleFor, type Severity } from './rules.js';
import { hashKey, type SipRounds } from './source-hash.js';
import type { ArtifactKind, SourceMember } from '../sources/types.js';
import { parsePathsJson } from '../sources/formats/metadata.js';
import type { PycStatus, PycVerdict } from './verdict.js';

export interface Finding {
  code: string;
  severity: Severity;
  /** The member the finding is about (a .pyc, a .py or a .pyo), as the artifact names it. */
  member: string;
  message: string;
  /**
   * What the findings of one cause share, in words ("every .py has mtime 2023-01-01T00:00:00Z, the
   * headers their compile time"): reports group findings of one code and cause into one line.
   */
  cause: string;
}

/** What the first import with the target Python will compile, because a .pyc is unusable or missing. */
export interface Impact {
  modules: number;
  sourceBytes: number;
}

export interface CheckInput {
  /** The artifact's format: wheels and zips get their own mtime check, and decide import locations. */
  kind: ArtifactKind;
  package: PackageInfo;
  expected: Expected;
  pyc: readonly PycVerdict[];
  sources: readonly SourceMember[];
  pyo: readonly string[];
  /** info/paths.json, if the artifact has one. */
  pathsJson: Buffer | undefined;
  table: MagicTable;
  /** Why a source hash could not be computed (a stream that cannot be read twice), if so. */
  hashesUnavailable: string | null;
  /** The sources are only those the .pyc name (a loose .pyc): a source without a .pyc is no finding. */
  onlyPycSources?: boolean;
}

export const MAGIC_CODES: Record<Exclude<PycStatus, 'ok'>, string> = {
  stale: 'PYC001',
  'wrong-version': 'PYC002',
  'tag-mismatch': 'PYC003',
  'unknown-magic': 'PYC004',
  invalid: 'PYC005',
  superseded: 'PYC006',
  unconfirmed: 'PYC007',
};

/** Statuses whose .pyc some build of the target still loads: its source is checked too. */
const LOADED_BY_SOME: ReadonlySet<PycStatus> = new Set(['ok', 'superseded', 'unconfirmed']);

/** Whether conda installs a member: never what is under info/. */
export function isInstalled(member: string): boolean {
  return !member.startsWith('info/');
}

/** Paths info/paths.json lists with a prefix_placeholder (conda rewrites them at install). */
export function placeholderPaths(pathsJson: Buffer | undefined): Set<string> {
  // Most packages have none: skip parsing a paths.json that cannot name one.
  if (!pathsJson || !pathsJson.includes('prefix_placeholder')) return new Set();
  // a broken paths.json names no placeholders; the package's other problems are not ours
  return new Set((parsePathsJson(pathsJson) ?? []).filter((p) => p.prefixPlaceholder).map((p) => p.path));
}

/**
 * The SipHash variants the Python that writes a magic uses for source hashes: 2-4 until 3.11a1,
 * 1-3 from 3.11a2 (Python/pyhash.c, _Py_KeyedHash). Development magics of 3.11 that no release
 * wrote could be either. Other implementations: none known.
 */
export function hashRoundsFor(entry: MagicEntry | undefined): SipRounds[] {
  if (!entry || entry.implementation !== 'CPython') return [];
  const [major, minor] = entry.version.split('.').map(Number);
  if (major! < 3 || (major === 3 && minor! < 11)) return ['2-4'];
  if (major === 3 && minor === 11) {
    if (entry.releases === '3.11a1') return ['2-4'];
    if (entry.releases === null) return ['2-4', '1-3'];
  }
  return ['1-3'];
}

/** 1980-01-01T00:00:00 in the earliest time zone (UTC+14): no time a zip stores is before it. */
export const ZIP_EPOCH = Date.UTC(1980, 0, 1) / 1000 - 14 * 3600;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a finding is made of before its severity is set: code, message and the cause it shares. */
interface Said {
  code: string;
  message: string;
  /** Defaults to the message: findings with one message have one cause. */
  cause?: string;
}

/** Everything the rules of one .pyc may look at. */
interface PycContext {
  pyc: PycVerdict;
  where: PycLocation;
  source: SourceMember | undefined;
  /** The version whose rules apply: the expected one, else the bytecode's own. */
  version: string | null;
  legacyPython: boolean;
  /** Whether the .pyc sits where import reads bytecode (pyc-paths.ts, inImportLocation). */
  imported: boolean;
}

/** Facts about the whole artifact the rules share. */
interface ArtifactContext {
  input: CheckInput;
  noarchPython: boolean;
  targetTag: string | null;
  placeholders: Set<string>;
  /** Every .py in the artifact carries this one mtime (a packager normalised them), or null. */
  commonSourceMtime: number | null;
  zip: boolean;
}

type PlacementRule = (p: PycContext, a: ArtifactContext) => Said | null;

/** Stage 1, in order of precedence: where the .pyc is decides whether the target ever reads it. */
const PLACEMENT_RULES: readonly PlacementRule[] = [
  (p) => (isInstalled(p.pyc.member) ? null : { code: 'PYC205', message: 'conda never installs info/: dead weight in the package' }),
  // Outside every import location (share/, bin/, the prefix root): no import finds it, so the checks
  // of importable bytecode (mtime, size, magic) say nothing useful. A legacy .pyc with no source
  // beside it is the exception: `python x.pyc` runs it, so its magic still matters.
  (p) =>
    !p.imported && (p.where.layout === 'pep3147' || p.source)
      ? { code: 'PYC210', message: `outside every import location (${outsideRoot(p.pyc.member)}): no import finds it; bytecode of a script or data file, dead weight (header checks do not apply)`, cause: 'outside every import location: no import finds them; bytecode of scripts or data files, dead weight' }
      : null,
  (p, a) => {
    const owner = otherOwner(p.where.source, a);
    if (!owner) return null;
    const dep = owner.dependency ? `, a dependency of ${a.input.package.name}` : '';
    return {
      code: 'PYC211',
      message: `bytecode of ${owner.module} (${owner.owner}'s${dep}), not of ${a.input.package.name}: another package's file, which clashes with ${owner.owner}'s own at install (the last installed overwrites the other; removing either removes it)`,
      cause: `bytecode of ${owner.owner}'s modules${dep}: another package's files, which clash with ${owner.owner}'s own at install`,
    };
  },
  (_p, a) => (a.noarchPython ? { code: 'PYC204', message: 'noarch: python packages are compiled at install for the Python there; a shipped .pyc fits at most one' } : null),
  (p) => (p.where.layout === 'pep3147' && p.legacyPython ? { code: 'PYC208', message: `${p.version} reads a .pyc beside its source, not __pycache__/: never read` } : null),
  (p, a) => {
    if (p.where.layout !== 'pep3147' || !a.targetTag || p.where.tag === a.targetTag) return null;
    const { expected } = a.input;
    return { code: 'PYC203', message: `cache tag ${p.where.tag} in a package for ${expected.implementation === 'CPython' ? '' : `${expected.implementation} `}${expected.version} (which reads ${a.targetTag}): never read` };
  },
  (p) =>
    p.where.layout === 'pep3147' && !p.source
      ? { code: 'PYC209', message: `no ${p.where.source} in the artifact: a __pycache__ .pyc is only read beside its source, so this one never is`, cause: 'no source in the artifact: a __pycache__ .pyc is only read beside its source, so these never are' }
      : null,
  (p) => (p.where.layout === 'legacy' && p.source && p.version && !p.legacyPython ? { code: 'PYC207', message: `${p.version} reads __pycache__/, not a .pyc beside its source: never read` } : null),
];

/** "share/", "bin/", "the prefix root": where a member outside every import location is. */
function outsideRoot(member: string): string {
  const folder = member.replace(/(^|\/)__pycache__\/[^/]+$/, '$1').replace(/[^/]+$/, '');
  return folder ? folder.slice(0, folder.indexOf('/') + 1) : 'the prefix root';
}

/**
 * Top-level modules whose files belong to a well-known package, whatever ships them: setuptools
 * installs setuptools/, pkg_resources/, _distutils_hack/ and easy_install.py; pip and wheel their own.
 * Old conda-build leaked them from the build environment into other packages (pip, six, coverage).
 */
const WELL_KNOWN_OWNERS: Readonly<Record<string, string>> = {
  setuptools: 'setuptools',
  pkg_resources: 'setuptools',
  _distutils_hack: 'setuptools',
  easy_install: 'setuptools',
  pip: 'pip',
  wheel: 'wheel',
};

const SITE_PACKAGES = /^(?:lib\/python\d\.\d+t?\/|lib\/pypy\d\.\d+\/|Lib\/)?site-packages\/([^/]+?)(?:\.py)?(?:\/|$)/;
const normalName = (name: string) => name.toLowerCase().replace(/[-.]/g, '_');

/**
 * The package that owns a module's files, when it is not the artifact's: a dependency's module
 * (site-packages/<dependency>/), or a well-known package's (pkg_resources/ is setuptools'). Null for
 * the artifact's own modules, or when the artifact's name is not known.
 */
function otherOwner(source: string, a: ArtifactContext): { module: string; owner: string; dependency: boolean } | null {
  const name = a.input.package.name;
  if (!name) return null;
  const m = SITE_PACKAGES.exec(source);
  if (!m || m[1]!.endsWith('.dist-info') || m[1]!.endsWith('.egg-info') || m[1] === '__pycache__') return null;
  const module = m[1]!;
  const label = m[0].endsWith('/') ? `${module}/` : `${module}.py`;
  const self = normalName(name);
  const deps = new Set(a.input.package.depends.map((d) => normalName(d.trim().split(/\s+/)[0] ?? '')));
  const known = WELL_KNOWN_OWNERS[module];
  if (known) {
    return normalName(known) === self ? null : { module: label, owner: known, dependency: deps.has(normalName(known)) };
  }
  const mod = normalName(module);
  if (mod !== self && deps.has(mod) && mod !== 'python') return { module: label, owner: module, dependency: true };
  return null;
}

/** Stage 2: the magic. A status other than ok is one finding; the message is the verdict's. */
function magicFinding(p: PycContext): Said | null {
  if (p.pyc.status === 'ok') return null;
  const sourceless = p.where.layout === 'legacy' && !p.source && !LOADED_BY_SOME.has(p.pyc.status);
  const message = sourceless ? `${p.pyc.message}; no source beside it, so importing it fails` : p.pyc.message;
  return { code: MAGIC_CODES[p.pyc.status], message };
}

const isoTime = (seconds: number): string => {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? 'invalid time' : d.toISOString().replace('.000Z', 'Z');
};

/** Stage 3: the header against its source. Returns the findings and whether the .pyc is invalidated. */
function sourceFindings(p: PycContext, a: ArtifactContext): { said: Said[]; invalid: boolean } {
  const { source, pyc } = p;
  if (!source) return { said: [{ code: 'PYC201', message: 'sourceless module: imported from this .pyc as it is (no source in the artifact)' }], invalid: false };
  if (a.placeholders.has(source.path)) {
    return { said: [{ code: 'PYC105', message: `${source.path} has a prefix placeholder: conda rewrites it at install, so this .pyc no longer matches it`, cause: 'the source has a prefix placeholder: conda rewrites it at install, so the .pyc no longer matches it' }], invalid: true };
  }
  const header = pyc.header!;
  const said: Said[] = [];
  if (header.kind === 'timestamp') {
    if (a.zip && header.mtime !== null && header.mtime < ZIP_EPOCH) {
      said.push({ code: 'PYC107', message: `header says the source was modified at ${header.mtime} (${isoTime(header.mtime)}): before 1980, which no file installed from a zip has`, cause: 'the headers record source mtimes before 1980, which no file installed from a zip has' });
    }
    if (header.mtime !== null && source.mtime !== null && source.mtime >>> 0 !== header.mtime) {
      const message = `header says the source was modified at ${header.mtime} (${isoTime(header.mtime)}), ${source.path} at ${source.mtime >>> 0} (${isoTime(source.mtime)})`;
      said.push({ code: 'PYC101', message, cause: a.commonSourceMtime !== null ? `every .py has mtime ${isoTime(a.commonSourceMtime)}, the headers their compile time` : message });
    }
    if (header.sourceSize !== null && source.size % 2 ** 32 !== header.sourceSize) {
      said.push({ code: 'PYC102', message: `header says the source is ${header.sourceSize} bytes, ${source.path} is ${source.size}` });
    }
    return { said, invalid: said.length > 0 };
  }
  if (header.kind === 'checked-hash') {
    const { table, hashesUnavailable } = a.input;
    const rounds = hashRoundsFor(table.lookup(header.magic, a.input.expected.implementation));
    const computed = rounds.map((r) => source.hashes?.get(hashKey(header.magic, r))).filter((h): h is string => !!h);
    if (!rounds.length) {
      const message = `checked-hash .pyc of ${pyc.implementation ?? 'an unknown implementation'}, whose source hash pyc-audit does not compute`;
      return { said: [{ code: 'PYC106', message }], invalid: false };
    }
    if (!computed.length) {
      const why = hashesUnavailable ?? 'it was not read';
      return { said: [{ code: 'PYC106', message: `${source.path} could not be hashed: ${why}`, cause: `the sources could not be hashed: ${why}` }], invalid: false };
    }
    if (!computed.includes(header.sourceHash!)) {
      const message = `header has source hash ${header.sourceHash}, ${source.path} hashes to ${computed.join(' or ')} (SipHash-${rounds.join(' or ')}, key ${header.magic})`;
      return { said: [{ code: 'PYC103', message }], invalid: true };
    }
    return { said: [], invalid: false };
  }
  return { said: [{ code: 'PYC104', message: `unchecked-hash .pyc: used as it is even after ${source.path} changes`, cause: 'unchecked-hash .pyc: used as they are even after their source changes' }], invalid: false };
}

/** The one mtime every .py of the artifact carries, or null (several, none, or fewer than two sources). */
function commonMtime(sources: readonly SourceMember[]): number | null {
  let common: number | null = null;
  let n = 0;
  for (const s of sources) {
    if (s.mtime === null) return null;
    if (common !== null && s.mtime !== common) return null;
    common = s.mtime;
    n++;
  }
  return n >= 2 ? common : null;
}

export function checkArtifact(input: CheckInput): { findings: Finding[]; impact: Impact } {
  const { expected } = input;
  const findings: Finding[] = [];
  /** Adds a finding at its rule's severity; an error about a file no import reads is a warning. */
  const add = (s: Said, member: string, imported: boolean) => {
    const severity = ruleFor(s.code).severity;
    findings.push({ code: s.code, severity: imported ? severity : outsideImport(severity), member, message: s.message, cause: s.cause ?? s.message });
  };
  const sources = new Map(input.sources.map((s) => [s.path, s]));
  const a: ArtifactContext = {
    input,
    noarchPython: input.package.noarch === 'python',
    targetTag: expected.version ? cacheTagFor(expected.version, expected.implementation) : null,
    placeholders: placeholderPaths(input.pathsJson),
    commonSourceMtime: commonMtime(input.sources),
    zip: input.kind === 'whl' || input.kind === 'zip',
  };
  // Asked once per .pyc, answered once per version.
  const layouts = new Map<string, boolean>();
  const legacyLayout = (v: string) => layouts.get(v) ?? layouts.set(v, usesLegacyLayout(v)).get(v)!;
  /** Sources whose default .pyc for the target is unusable: compiled at first import. */
  const recompiled = new Set<string>();
  /** Sources with a .pyc the target Python reads by default (usable or not). */
  const haveDefaultPyc = new Set<string>();

  for (const pyc of input.pyc) {
    const where = pycLocation(pyc.member);
    const version = expected.version ?? pyc.version;
    const imported = inImportLocation(pyc.member, input.kind);
    const p: PycContext = { pyc, where, source: sources.get(where.source), version, legacyPython: version !== null && legacyLayout(version), imported };
    const placed = PLACEMENT_RULES.reduce<Said | null>((found, rule) => found ?? rule(p, a), null);
    if (placed) {
      add(placed, pyc.member, imported);
      continue;
    }
    const isDefault = where.optimization === 0;
    const counts = isDefault && !!p.source && imported;
    if (isDefault && p.source) haveDefaultPyc.add(p.source.path);
    const magic = magicFinding(p);
    if (magic) add(magic, pyc.member, imported);
    if (!LOADED_BY_SOME.has(pyc.status)) {
      if (counts) recompiled.add(p.source!.path);
      continue;
    }
    const checked = sourceFindings(p, a);
    for (const s of checked.said) add(s, pyc.member, imported);
    if (checked.invalid && counts) recompiled.add(p.source!.path);
  }

  for (const path of input.pyo) add({ code: 'PYC206', message: 'Python 3.5+ never reads .pyo files (PEP 488); Python 2 reads them only under -O' }, path, true);

  if (!a.noarchPython && !input.onlyPycSources && expected.version && a.targetTag) {
    const legacy = usesLegacyLayout(expected.version);
    const pattern = legacy ? 'x.pyc beside x.py' : `__pycache__/*.${a.targetTag}.pyc`;
    const when = `compiled at first import${legacy ? '' : ', and at every start where the environment is read-only'}`;
    for (const source of input.sources) {
      if (!isImportableSource(source.path) || haveDefaultPyc.has(source.path)) continue;
      const wanted = legacy ? source.path.replace(/\.py$/, '.pyc') : source.path.replace(/([^/]+)\.py$/, `__pycache__/$1.${a.targetTag}.pyc`);
      add({ code: 'PYC202', message: `no ${wanted}: ${when}`, cause: `no ${pattern} for ${expected.implementation === 'CPython' ? '' : `${expected.implementation} `}${expected.version}: ${when}` }, source.path, true);
      recompiled.add(source.path);
    }
  }

  let sourceBytes = 0;
  for (const path of recompiled) sourceBytes += sources.get(path)?.size ?? 0;
  findings.sort((x, y) => (x.member < y.member ? -1 : x.member > y.member ? 1 : x.code < y.code ? -1 : x.code > y.code ? 1 : 0));
  return { findings, impact: { modules: recompiled.size, sourceBytes } };
}

/** How the impact reads in a report: "3 modules, 12.5 KiB of source compiled at first import". */
export function describeImpact(impact: Impact): string {
  const kib = impact.sourceBytes / 1024;
  // Under 0.1 KiB, the bytes themselves ("0.0 KiB of source" says nothing).
  const size = kib >= 1024 ? `${(kib / 1024).toFixed(1)} MiB` : impact.sourceBytes < 103 ? plural(impact.sourceBytes, 'byte') : `${kib.toFixed(1)} KiB`;
  return `${plural(impact.modules, 'module')} (${size} of source) compiled at first import`;
}
