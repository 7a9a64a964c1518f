// Beyond the magic: will each .pyc of an artifact actually be used? The judged .pyc, the .py
// records and the package's metadata in; coded findings and the impact (what is compiled at first
// import) out. Pure: no I/O.
import type { MagicTable } from './magic/table.js';
import type { MagicEntry } from './magic/types.js';
import type { Expected, PackageInfo } from './package-info.js';
import { cacheTagFor, isImportableSource, pycLocation, usesLegacyLayout } from './pyc-paths.js';
import { ruleFor, type Severity } from './rules.js';
import type { SipRounds } from './source-hash.js';
import { hashKey } from './sources/tar-members.js';
import type { SourceMember } from './sources/types.js';
import { parsePathsJson } from './sources/metadata.js';
import type { PycStatus, PycVerdict } from './verdict.js';

export interface Finding {
  code: string;
  severity: Severity;
  /** The member the finding is about (a .pyc, a .py or a .pyo), as the artifact names it. */
  member: string;
  message: string;
}

/** What the first import with the target Python will compile, because a .pyc is unusable or missing. */
export interface Impact {
  modules: number;
  sourceBytes: number;
}

export interface CheckInput {
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

const MAGIC_CODES: Record<Exclude<PycStatus, 'ok'>, string> = {
  stale: 'PYC001',
  'wrong-version': 'PYC002',
  'tag-mismatch': 'PYC003',
  'unknown-magic': 'PYC004',
  invalid: 'PYC005',
};

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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function checkArtifact(input: CheckInput): { findings: Finding[]; impact: Impact } {
  const { expected, table } = input;
  const findings: Finding[] = [];
  const add = (code: string, member: string, message: string) => findings.push({ code, severity: ruleFor(code).severity, member, message });
  const sources = new Map(input.sources.map((s) => [s.path, s]));
  const placeholders = placeholderPaths(input.pathsJson);
  const noarchPython = input.package.noarch === 'python';
  const targetTag = expected.version ? cacheTagFor(expected.version, expected.implementation) : null;
  // Asked once per .pyc, answered once per version.
  const layouts = new Map<string, boolean>();
  const legacyLayout = (v: string) => layouts.get(v) ?? layouts.set(v, usesLegacyLayout(v)).get(v)!;
  /** Sources whose default .pyc for the target is unusable: compiled at first import. */
  const recompiled = new Set<string>();
  /** Sources with a .pyc the target Python reads by default (usable or not). */
  const haveDefaultPyc = new Set<string>();

  for (const pyc of input.pyc) {
    const member = pyc.member;
    if (/^info\//.test(member)) {
      add('PYC205', member, 'conda never installs info/: dead weight in the package');
      continue;
    }
    if (noarchPython) {
      add('PYC204', member, 'noarch: python packages are compiled at install for the Python there; a shipped .pyc fits at most one');
      continue;
    }
    const where = pycLocation(member);
    const source = sources.get(where.source);
    const version = expected.version ?? pyc.version;
    const legacyPython = version !== null && legacyLayout(version);
    if (where.layout === 'pep3147' && legacyPython) {
      add('PYC208', member, `${version} reads a .pyc beside its source, not __pycache__/: never read`);
      continue;
    }
    if (where.layout === 'pep3147' && targetTag && where.tag !== targetTag) {
      add('PYC203', member, `cache tag ${where.tag} in a package for ${expected.implementation === 'CPython' ? '' : `${expected.implementation} `}${expected.version} (which reads ${targetTag}): never read`);
      continue;
    }
    if (where.layout === 'pep3147' && !source) {
      add('PYC201', member, `no ${where.source} in the artifact: a __pycache__ .pyc is only read beside its source, so this one never is`);
      continue;
    }
    if (where.layout === 'legacy' && source && version && !legacyPython) {
      add('PYC207', member, `${version} reads __pycache__/, not a .pyc beside its source: never read`);
      continue;
    }
    const isDefault = where.optimization === 0;
    if (isDefault && source) haveDefaultPyc.add(source.path);
    if (pyc.status !== 'ok') {
      const sourceless = where.layout === 'legacy' && !source;
      add(MAGIC_CODES[pyc.status], member, sourceless ? `${pyc.message}; no source beside it, so importing it fails` : pyc.message);
      if (isDefault && source) recompiled.add(source.path);
      continue;
    }
    if (!source) {
      add('PYC201', member, 'sourceless module: imported from this .pyc as it is (no source in the artifact)');
      continue;
    }
    const header = pyc.header!;
    if (placeholders.has(source.path)) {
      add('PYC105', member, `${source.path} has a prefix placeholder: conda rewrites it at install, so this .pyc no longer matches it`);
      if (isDefault) recompiled.add(source.path);
      continue;
    }
    let invalid = false;
    if (header.kind === 'timestamp') {
      if (header.mtime !== null && source.mtime !== null && source.mtime >>> 0 !== header.mtime) {
        add('PYC101', member, `header says the source was modified at ${header.mtime} (${isoTime(header.mtime)}), ${source.path} at ${source.mtime >>> 0} (${isoTime(source.mtime)})`);
        invalid = true;
      }
      if (header.sourceSize !== null && source.size % 2 ** 32 !== header.sourceSize) {
        add('PYC102', member, `header says the source is ${header.sourceSize} bytes, ${source.path} is ${source.size}`);
        invalid = true;
      }
    } else if (header.kind === 'checked-hash') {
      const rounds = hashRoundsFor(table.lookup(header.magic, expected.implementation));
      const computed = rounds.map((r) => source.hashes?.get(hashKey(header.magic, r))).filter((h): h is string => !!h);
      if (!rounds.length) {
        add('PYC106', member, `checked-hash .pyc of ${pyc.implementation ?? 'an unknown implementation'}, whose source hash pyc-audit does not compute`);
      } else if (!computed.length) {
        add('PYC106', member, `${source.path} could not be hashed: ${input.hashesUnavailable ?? 'it was not read'}`);
      } else if (!computed.includes(header.sourceHash!)) {
        add('PYC103', member, `header has source hash ${header.sourceHash}, ${source.path} hashes to ${computed.join(' or ')} (SipHash-${rounds.join(' or ')}, key ${header.magic})`);
        invalid = true;
      }
    } else {
      add('PYC104', member, `unchecked-hash .pyc: used as it is even after ${source.path} changes`);
    }
    if (invalid && isDefault) recompiled.add(source.path);
  }

  for (const path of input.pyo) add('PYC206', path, 'Python 3.5+ never reads .pyo files (PEP 488); Python 2 reads them only under -O');

  if (!noarchPython && !input.onlyPycSources && expected.version && targetTag) {
    const legacy = usesLegacyLayout(expected.version);
    for (const source of input.sources) {
      if (!isImportableSource(source.path) || haveDefaultPyc.has(source.path)) continue;
      const wanted = legacy ? source.path.replace(/\.py$/, '.pyc') : source.path.replace(/([^/]+)\.py$/, `__pycache__/$1.${targetTag}.pyc`);
      add('PYC202', source.path, `no ${wanted}: compiled at first import${legacy ? '' : ', and at every start where the environment is read-only'}`);
      recompiled.add(source.path);
    }
  }

  let sourceBytes = 0;
  for (const path of recompiled) sourceBytes += sources.get(path)?.size ?? 0;
  findings.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return { findings, impact: { modules: recompiled.size, sourceBytes } };
}

function isoTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? 'invalid time' : d.toISOString().replace('.000Z', 'Z');
}

/** How the impact reads in a report: "3 modules, 12.5 KiB of source compiled at first import". */
export function describeImpact(impact: Impact): string {
  const kib = impact.sourceBytes / 1024;
  const size = kib >= 1024 ? `${(kib / 1024).toFixed(1)} MiB` : `${kib.toFixed(1)} KiB`;
  return `${plural(impact.modules, 'module')} (${size} of source) compiled at first import`;
}
