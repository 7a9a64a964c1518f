// The checks pyc-audit makes, each defined once: its code, default severity, title and the
// documentation that `pyc-audit rules`, `pyc-audit rule CODE`, the README table, SARIF's rule help
// and the CI formats' texts are generated from (rule-docs.ts renders them). Data, not logic:
// checks.ts decides which apply; --select/--ignore/--fail-on filter by them.

export type Severity = 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/**
 * The one rule every default severity follows: what CPython does with the file. Written here once;
 * the README and `pyc-audit rule` print it.
 */
export const SEVERITY_RULE: Record<Severity, string> = {
  error: 'CPython ignores this .pyc and compiles the module again where it is imported (a magic the target does not load, a source mtime, size or hash that no longer matches, a source conda rewrites at install, an mtime no installed file can have), or finds no bytecode for an importable module',
  warning: 'bytecode that is dead weight or a packaging smell but changes nothing at run time (stray cache tags, .pyo, info/ bytecode, legacy x.pyc beside x.py), or bytecode only some builds of the target load',
  info: 'a fact worth knowing; nothing is recompiled because of it',
};

export interface Rule {
  code: string;
  severity: Severity;
  /** A few words, for titles (SARIF rule names, GitHub annotation titles). */
  title: string;
  /** Whether the finding means the .pyc is not used and its source is compiled at first import. */
  invalidates: boolean;
  /** false: about files conda never installs (info/); such a finding decides neither status, impact nor --list-stale. */
  installed: boolean;
  /** What the finding says, in a sentence or two. */
  meaning: string;
  /** What CPython does with the file (or the module) it is about. */
  cpython: string;
  /** A finding as pyc-audit reports it. */
  example: string;
  /** One line: what the packager does about it. */
  fix: string;
  /** Why its default severity, when more than the severity rule says (`pyc-audit rule CODE`). */
  why?: string;
}

export const RULES: readonly Rule[] = [
  // Magic numbers: will the Python the package targets load this .pyc at all?
  {
    code: 'PYC001', severity: 'error', title: 'stale bytecode (pre-release or superseded magic)', invalidates: true, installed: true,
    meaning: 'The .pyc is bytecode of the target minor, but its magic number is one no final release of that minor writes: it was compiled by an alpha, beta or release candidate (or a development build).',
    cpython: 'importlib compares the magic with its own (MAGIC_NUMBER); they differ, so the .pyc is ignored and the module is compiled from its source at first import (and at every start where site-packages is read-only).',
    example: 'PYC001  lib/python3.14/site-packages/x/__pycache__/m.cpython-314.pyc  written by 3.14rc2; 3.14.0 expects 3627',
    fix: 'rebuild the package with a final release of the target Python',
  },
  {
    code: 'PYC002', severity: 'error', title: 'bytecode of another Python version', invalidates: true, installed: true,
    meaning: 'The .pyc is bytecode of another minor (or implementation) than the one the package targets, in a place the target reads.',
    cpython: 'The magic differs from the interpreter\'s own: the .pyc is ignored and the module compiled at first import; a sourceless one fails to import ("bad magic number").',
    example: 'PYC002  lib/python2.7/site-packages/x.pyc  CPython 3.12 bytecode (3531, written by 3.12b1 onward); 2.7 expects 62211',
    fix: 'compile with the Python the package targets (conda-build with that python, or python -m compileall) and rebuild',
  },
  {
    code: 'PYC003', severity: 'error', title: 'cache tag and magic disagree', invalidates: true, installed: true,
    meaning: 'The file name\'s cache tag (cpython-314) names another version than the bytecode inside (3.13\'s magic).',
    cpython: 'The Python the tag names reads the file, finds a magic that is not its own, ignores it and compiles the module at first import.',
    example: 'PYC003  x/__pycache__/m.cpython-314.pyc  cache tag cpython-314 but CPython 3.13 bytecode (3571, written by 3.13b2 onward)',
    fix: 'a build step copied or renamed .pyc between Python versions: recompile with the target Python and rebuild',
  },
  {
    code: 'PYC004', severity: 'error', title: 'unknown magic number', invalidates: true, installed: true,
    meaning: 'The magic number is not in pyc-audit\'s table, and is not newer than it: it falls between known numbers of older minors (3540 in a 3.12 package: 3.12 final writes 3531, 3.13 starts at 3550), belongs to an implementation pyc-audit does not know, or is not bytecode at all. A CPython magic newer than the table, for a minor at or past the newest the table has a release of, is PYC007 instead.',
    cpython: 'A magic the interpreter does not write is rejected: the .pyc is ignored and the module compiled at first import.',
    example: 'PYC004  lib/python3.12/site-packages/x/__pycache__/m.cpython-312.pyc  magic 3540 is not in the table: after 3.12\'s newest known 3531 (3.12b1 onward), before 3.13\'s 3550: no release in this table wrote it',
    fix: 'if a newer Python wrote it, tell pyc-audit its magic (--magic-table FILE, or a newer pyc-audit); otherwise rebuild the package',
  },
  {
    code: 'PYC005', severity: 'error', title: 'invalid .pyc header', invalidates: true, installed: true,
    meaning: 'Not a .pyc header: shorter than its era\'s header (an empty file), bytes 2-3 not "\\r\\n", or unknown PEP 552 flag bits.',
    cpython: 'importlib raises on the header (EOFError, ImportError) and compiles the source instead; with no source beside it the import fails.',
    example: 'PYC005  x/__pycache__/m.cpython-36.pyc  0 bytes: shorter than any .pyc header',
    fix: 'the file was truncated or is not bytecode: remove it from the package and recompile',
  },
  {
    code: 'PYC006', severity: 'warning', title: 'bytecode only older builds of the target load', invalidates: false, installed: true,
    meaning: 'A final release of the target minor wrote this magic, but later releases of the same minor changed it: only the older builds load the .pyc (3.5.0-3.5.2 wrote 3350; 3.5.3 and later load only 3351).',
    cpython: 'A current build of the minor ignores the .pyc and compiles the module at first import; an old build loads it.',
    example: 'PYC006  lib/python3.5/site-packages/x/__pycache__/m.cpython-35.pyc  written by 3.5.0–3.5.2 (3350); 3.5.3 and later load only 3351',
    fix: 'rebuild with the newest release of the minor, whose magic every later build loads',
  },
  {
    code: 'PYC007', severity: 'warning', title: 'the final magic of the target is not known', invalidates: false, installed: true,
    meaning: 'The .pyc carries the newest magic known for the target minor, but no final release of that minor is in pyc-audit\'s table: whether the final release keeps this magic cannot be known yet (3.14rc3 changed it after rc2). Or it carries a CPython magic newer than the table (3667 in a cpython-315 .pyc when 3666 is the newest 3.15 number known; 3706 for 3.16): a release made after the table, which pyc-audit places but does not judge.',
    cpython: 'If the target writes this magic, the .pyc is loaded; if not, the .pyc is ignored and every module compiled at first import. Which one, only the target (or a table that knows it) can say.',
    example: 'PYC007  lib/python3.15/site-packages/x/__pycache__/m.cpython-315.pyc  3.15 final\'s magic is not in this table; 3666 is 3.15b1–3.15rc1',
    fix: 'check again against the target itself (--interpreter PATH), after `pyc-audit magic --update`, with --magic-table FILE naming its magic, or with the channel\'s own python build; rebuild if it differs',
    why: 'A warning, not an error: the table cannot know a release made after it, and condemning a correct package for that would fail every CI gate the day a new Python ships. Nothing is claimed about modules compiled at first import.',
  },
  // The header against its source: CPython recompiles when they disagree.
  {
    code: 'PYC101', severity: 'error', title: 'source mtime differs from the .pyc header', invalidates: true, installed: true,
    meaning: 'A timestamp .pyc records the mtime of the source it was compiled from; the .py in the artifact has another mtime (compared modulo 2^32).',
    cpython: 'SourceLoader compares the recorded mtime with the .py\'s on every import; they differ, so the .pyc is ignored and the module compiled again.',
    example: 'PYC101  x/__pycache__/m.cpython-313.pyc  header says the source was modified at 1700000000 (…), x/m.py at 1700003600 (…)',
    fix: 'keep the .py mtimes the .pyc were compiled against, or compile with --invalidation-mode checked-hash (reproducible builds that normalise mtimes need it)',
  },
  {
    code: 'PYC102', severity: 'error', title: 'source size differs from the .pyc header', invalidates: true, installed: true,
    meaning: 'A timestamp .pyc records the size of its source; the .py in the artifact has another size: it was edited after compiling.',
    cpython: 'The recorded size is compared on every import; it differs, so the .pyc is ignored and the module compiled again.',
    example: 'PYC102  x/__pycache__/m.cpython-313.pyc  header says the source is 33 bytes, x/m.py is 89',
    fix: 'compile after the last change to the sources (move compileall after any patching step)',
  },
  {
    code: 'PYC103', severity: 'error', title: 'source hash differs from the checked-hash .pyc', invalidates: true, installed: true,
    meaning: 'A checked-hash .pyc (PEP 552) records a SipHash of its source (2-4 up to 3.11a1, 1-3 from 3.11a2; key: the magic); the .py hashes to something else.',
    cpython: 'With check_source the interpreter hashes the .py at import; a different hash means the .pyc is ignored and the module compiled again.',
    example: 'PYC103  x/__pycache__/m.cpython-313.pyc  header has source hash e355…, x/m.py hashes to ab3a… (SipHash-1-3, key 3571)',
    fix: 'compile after the last change to the sources',
  },
  {
    code: 'PYC104', severity: 'info', title: 'unchecked-hash .pyc (never validated against its source)', invalidates: false, installed: true,
    meaning: 'An unchecked-hash .pyc (PEP 552) is used as it is, whatever happens to its source.',
    cpython: 'Loads the .pyc without looking at the source: an edited .py is not seen until the .pyc is removed.',
    example: 'PYC104  x/__pycache__/m.cpython-313.pyc  unchecked-hash .pyc: used as it is even after x/m.py changes',
    fix: 'nothing, if the sources are never edited in place; otherwise compile with --invalidation-mode checked-hash',
  },
  {
    code: 'PYC105', severity: 'error', title: 'source has a prefix placeholder: conda rewrites it at install', invalidates: true, installed: true,
    meaning: 'info/paths.json lists the .py with a prefix_placeholder: conda replaces the build prefix in it at install, so its size (and hash) change after the .pyc was compiled.',
    cpython: 'The installed .py no longer matches the .pyc\'s header: the .pyc is ignored and the module compiled at first import.',
    example: 'PYC105  x/__pycache__/m.cpython-313.pyc  x/m.py has a prefix placeholder: conda rewrites it at install, so this .pyc no longer matches it',
    fix: 'keep the build prefix out of importable sources (read it at run time), or leave such modules uncompiled',
  },
  {
    code: 'PYC106', severity: 'info', title: 'source hash not verified', invalidates: false, installed: true,
    meaning: 'A checked-hash .pyc whose source hash pyc-audit could not compute: standard input, read once, had the .py before the .pyc, or the implementation\'s hash is not known.',
    cpython: 'Nothing changes: this is about what pyc-audit could check.',
    example: 'PYC106  x/__pycache__/m.cpython-313.pyc  x/m.py could not be hashed: it came before its .pyc on standard input, which cannot be read twice',
    fix: 'audit the file or URL rather than standard input to have the hash checked',
  },
  {
    code: 'PYC107', severity: 'error', title: 'an mtime no installed file can have', invalidates: true, installed: true,
    meaning: 'A timestamp .pyc in a wheel or zip records a source mtime before 1980-01-01; a zip cannot store such a time, so no .py installed from it can have it.',
    cpython: 'The installed .py\'s mtime never equals the recorded one: the .pyc is ignored and the module compiled at first import.',
    example: 'PYC107  x/__pycache__/m.cpython-312.pyc  header says the source was modified at 0 (1970-01-01T00:00:00Z): before 1980, which no file installed from a zip has',
    fix: 'compile with --invalidation-mode checked-hash (or unchecked-hash) when mtimes are normalised (SOURCE_DATE_EPOCH=0)',
  },
  // Which files are there.
  {
    code: 'PYC201', severity: 'info', title: 'sourceless module', invalidates: false, installed: true,
    meaning: 'A .pyc beside where its .py would be (x.pyc), with no x.py in the artifact: a sourceless module, deliberately or not.',
    cpython: 'Imports the module from the .pyc as it is, if its magic is the interpreter\'s own (a magic it does not load makes the import fail).',
    example: 'PYC201  lib/python3.12/site-packages/x/m.pyc  sourceless module: imported from this .pyc as it is (no source in the artifact)',
    fix: 'nothing, if shipping bytecode only is intended; otherwise ship the .py',
  },
  {
    code: 'PYC202', severity: 'error', title: 'module without bytecode for the target Python', invalidates: true, installed: true,
    meaning: 'An importable .py (under lib/pythonX.Y/, Lib/ or lib/pypyX.Y/) in a package that is not noarch: python, with no .pyc the target Python reads.',
    cpython: 'Compiles the module at first import and writes the .pyc if it can; in a read-only environment, at every start.',
    example: 'PYC202  lib/python3.14/site-packages/x/m.py  no lib/python3.14/site-packages/x/__pycache__/m.cpython-314.pyc: compiled at first import',
    fix: 'compile the package\'s modules with the target Python at build time (conda-build does; check that a custom build script did not skip or misplace them)',
  },
  {
    code: 'PYC203', severity: 'warning', title: 'cache tag of another Python: never read', invalidates: false, installed: true,
    meaning: 'A __pycache__ .pyc whose cache tag names another Python than the target (cpython-314 in a 3.15 package, cpython-34-PYTEST written by pytest).',
    cpython: 'Never opens it: the interpreter looks only for its own tag.',
    example: 'PYC203  x/__pycache__/test_m.cpython-34-PYTEST.pyc  cache tag cpython-34-PYTEST in a package for 3.4 (which reads cpython-34): never read',
    fix: 'delete stray __pycache__ files before packaging (pytest and other Pythons leave them)',
  },
  {
    code: 'PYC204', severity: 'warning', title: '.pyc in a noarch: python package', invalidates: false, installed: true,
    meaning: 'A noarch: python package ships bytecode; conda compiles such packages at install for the Python there.',
    cpython: 'Uses the .pyc conda compiles at install; a shipped one fits at most one Python.',
    example: 'PYC204  site-packages/x/__pycache__/m.cpython-313.pyc  noarch: python packages are compiled at install for the Python there; a shipped .pyc fits at most one',
    fix: 'leave .pyc out of noarch: python packages',
  },
  {
    code: 'PYC205', severity: 'warning', title: '.pyc under info/', invalidates: false, installed: false,
    meaning: 'Bytecode under info/ (info/recipe/, info/test/): conda never installs info/.',
    cpython: 'Never sees it. It decides neither the artifact\'s status, its impact nor --list-stale.',
    example: 'PYC205  info/test/__pycache__/run_test.cpython-313.pyc  conda never installs info/: dead weight in the package',
    fix: 'clean __pycache__ out of the recipe and test files before packaging',
  },
  {
    code: 'PYC206', severity: 'warning', title: '.pyo file (ignored since Python 3.5)', invalidates: false, installed: true,
    meaning: 'A .pyo file: Python 3.5+ never reads them (PEP 488); Python 2 reads them only under -O.',
    cpython: 'Ignores it (3.5+), or uses it only when run with -O (2.x).',
    example: 'PYC206  x/m.pyo  Python 3.5+ never reads .pyo files (PEP 488); Python 2 reads them only under -O',
    fix: 'leave .pyo files out of the package',
  },
  {
    code: 'PYC207', severity: 'warning', title: 'legacy .pyc beside its source: Python 3.2+ ignores it', invalidates: false, installed: true,
    meaning: 'A legacy x.pyc beside x.py in a package for Python 3.2 or later, which reads only __pycache__/ (PEP 3147). The module itself has no bytecode the target reads: PYC202.',
    cpython: 'Never reads it while x.py exists; compiles x.py into __pycache__/ instead.',
    example: 'PYC207  lib/python3.5/site-packages/six.pyc  3.5 reads __pycache__/, not a .pyc beside its source: never read',
    fix: 'compile with the target Python 3 (python -m compileall writes __pycache__/) and leave the legacy .pyc out',
  },
  {
    code: 'PYC208', severity: 'warning', title: '__pycache__ .pyc for a Python that does not read __pycache__ (2.x, 3.0, 3.1)', invalidates: false, installed: true,
    meaning: 'A __pycache__ .pyc in a package for Python 2.x, 3.0 or 3.1, which read only x.pyc beside x.py.',
    cpython: 'Never reads __pycache__/.',
    example: 'PYC208  lib/python2.7/site-packages/x/__pycache__/m.cpython-27.pyc  2.7 reads a .pyc beside its source, not __pycache__/: never read',
    fix: 'compile with the target Python 2 (it writes x.pyc beside x.py) and leave __pycache__ out',
  },
  {
    code: 'PYC209', severity: 'warning', title: '__pycache__ .pyc without its source: never read', invalidates: false, installed: true,
    meaning: 'A __pycache__ .pyc whose .py is not in the artifact.',
    cpython: 'Never reads it: a __pycache__ .pyc is used only beside its source (a sourceless module must be x.pyc in the package folder).',
    example: 'PYC209  x/__pycache__/gone.cpython-313.pyc  no x/gone.py in the artifact: a __pycache__ .pyc is only read beside its source, so this one never is',
    fix: 'delete bytecode of removed modules before packaging (stale __pycache__ from an earlier build)',
  },
  {
    code: 'PYC210', severity: 'info', title: 'bytecode outside every import location', invalidates: false, installed: true,
    meaning: 'A __pycache__ .pyc (or a .pyc beside its source) outside every place import reads bytecode from: share/ (colcon and ament launch files, data), bin/, the prefix root. conda-build compiles every .py it packages, scripts and data included.',
    cpython: 'No import finds it: a script is run from its source, and python never reads a script\'s __pycache__. A tool that loads a file by path with importlib\'s SourceFileLoader (ros2 launch for launch files) may read it, and recompiles it when it does not match.',
    example: 'PYC210  share/audio_tools/launch/__pycache__/audio_vad.launch.cpython-312.pyc  outside every import location (share/): no import finds it; bytecode of a script or data file, dead weight (header checks do not apply)',
    fix: 'nothing is needed; to drop the dead weight, remove the .pyc outside site-packages at the end of the build',
    why: 'Info: nothing is imported from it, so nothing is recompiled or slower because of it, and the checks of importable bytecode (source mtime, size, magic) would give advice that does not apply. conda-build, not the packager, usually put it there.',
  },
  {
    code: 'PYC211', severity: 'warning', title: "bytecode of another package's modules", invalidates: false, installed: true,
    meaning: 'The .pyc is bytecode of a module another package owns: a dependency\'s (site-packages/<dependency>/), or a well-known package\'s (setuptools/, pkg_resources/ and _distutils_hack/ are setuptools\', pip/ pip\'s, wheel/ wheel\'s). Old conda-build leaked such files from the build environment (pip, six and coverage py35 packages ship setuptools\' bytecode).',
    cpython: 'Reads it beside the owner\'s source when its header matches that source, and ignores it otherwise. The real problem is at install: both packages install a file at the same path, so conda reports a clobber, the last one installed wins, and removing either package removes the file the other still lists.',
    example: "PYC211  lib/python3.5/site-packages/setuptools/__pycache__/dist.cpython-35.pyc  bytecode of setuptools/ (setuptools's, a dependency of pip), not of pip: another package's file, which clashes with setuptools's own at install (the last installed overwrites the other; removing either removes it)",
    fix: 'ship only the package\'s own files: build in a clean environment, or delete other packages\' files (site-packages/setuptools/, pkg_resources/) at the end of the build',
    why: 'A warning: a packaging defect conda reports as a clobber at install, and one that can leave the owner\'s modules with stale or missing bytecode depending on install order; but no import of this package fails or is recompiled because of it, so not an error. It replaces PYC209 ("never read"), which would blame a missing source the owner in fact installs.',
  },
];

const BY_CODE = new Map(RULES.map((r) => [r.code, r]));

export function ruleFor(code: string): Rule {
  const r = BY_CODE.get(code);
  if (!r) throw new Error(`no rule ${code}`);
  return r;
}

/** The rule of a code, or undefined (for input from users: `pyc-audit rule X`). */
export function findRule(code: string): Rule | undefined {
  return BY_CODE.get(code.trim().toUpperCase());
}

/** 0 for errors, 1 warnings, 2 info: lower is worse. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Whether a finding of `severity` fails a run with --fail-on `level`. */
export function failsAt(severity: Severity, level: Severity | 'never'): boolean {
  return level !== 'never' && severityRank(severity) <= severityRank(level);
}

/**
 * The severity of a finding about a file outside every import location (bin/, the prefix root): no
 * import compiles it again, so an error is a warning; warnings and info stay what they are.
 */
export function outsideImport(s: Severity): Severity {
  return s === 'error' ? 'warning' : s;
}

/** A finding's code is chosen by a list of codes or code prefixes ("PYC1", "PYC101"); "ALL" chooses all. */
export function matchesAny(code: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => p === 'ALL' || code.startsWith(p));
}

/** Checks --select / --ignore arguments: each must name or prefix at least one code. */
export function parseCodeList(value: string): string[] {
  const items = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  if (!items.length) throw new Error('expected codes such as PYC001,PYC1');
  for (const item of items) {
    if (item !== 'ALL' && !RULES.some((r) => r.code.startsWith(item))) throw new Error(`${item} is not a code or the start of one (pyc-audit rules lists them)`);
  }
  return items;
}

/** Which codes a run reports: selected (default all) and not ignored. */
export interface RuleSelection {
  select: readonly string[];
  ignore: readonly string[];
}

export const ALL_RULES: RuleSelection = { select: ['ALL'], ignore: [] };

export function isSelected(code: string, selection: RuleSelection): boolean {
  return matchesAny(code, selection.select) && !matchesAny(code, selection.ignore);
}
