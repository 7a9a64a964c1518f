// The checks pyc-audit makes, each with a stable code, a severity and what it means. Data, not
// logic: checks.ts decides which apply, the README documents them, --select/--ignore/--fail-on
// filter by them.

export type Severity = 'error' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

export interface Rule {
  code: string;
  severity: Severity;
  /** A few words, for titles (SARIF rule names, GitHub annotation titles). */
  title: string;
  /** Whether the finding means the .pyc is not used and its source is compiled at first import. */
  invalidates: boolean;
}

const rule = (code: string, severity: Severity, title: string, invalidates: boolean): Rule => ({ code, severity, title, invalidates });

export const RULES: readonly Rule[] = [
  // Magic numbers: will the Python the package targets load this .pyc at all?
  rule('PYC001', 'error', 'stale bytecode (pre-release or superseded magic)', true),
  rule('PYC002', 'error', 'bytecode of another Python version', true),
  rule('PYC003', 'error', 'cache tag and magic disagree', true),
  rule('PYC004', 'error', 'unknown magic number', true),
  rule('PYC005', 'error', 'invalid .pyc header', true),
  // The header against its source: CPython recompiles when they disagree.
  rule('PYC101', 'error', 'source mtime differs from the .pyc header', true),
  rule('PYC102', 'error', 'source size differs from the .pyc header', true),
  rule('PYC103', 'error', 'source hash differs from the checked-hash .pyc', true),
  rule('PYC104', 'info', 'unchecked-hash .pyc (never validated against its source)', false),
  rule('PYC105', 'error', 'source has a prefix placeholder: conda rewrites it at install', true),
  rule('PYC106', 'info', 'source hash not verified', false),
  // Which files are there.
  rule('PYC201', 'info', '.pyc without its source', false),
  rule('PYC202', 'warning', 'module without bytecode for the target Python', true),
  rule('PYC203', 'error', 'cache tag of another Python: never read', false),
  rule('PYC204', 'warning', '.pyc in a noarch: python package', false),
  rule('PYC205', 'warning', '.pyc under info/', false),
  rule('PYC206', 'warning', '.pyo file (ignored since Python 3.5)', false),
  rule('PYC207', 'warning', 'legacy .pyc beside its source: Python 3.2+ ignores it', false),
  rule('PYC208', 'warning', '__pycache__ .pyc for a Python that does not read __pycache__ (2.x, 3.0, 3.1)', false),
];

const BY_CODE = new Map(RULES.map((r) => [r.code, r]));

export function ruleFor(code: string): Rule {
  const r = BY_CODE.get(code);
  if (!r) throw new Error(`no rule ${code}`);
  return r;
}

/** 0 for errors, 1 warnings, 2 info: lower is worse. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
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
