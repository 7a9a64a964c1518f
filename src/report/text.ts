// The default report: one line per artifact (its status in the first column), its findings
// indented under it, one line per cause.
import { fixFor } from './fixes.js';
import type { ChalkInstance } from 'chalk';
import type { ArtifactResult } from '../judge/artifact.js';
import type { Tally } from './json.js';
import type { MagicTable } from '../magic/table.js';
import { describeClue } from '../judge/package-info.js';
import { magicLabel, type PycStatus } from '../judge/verdict.js';
import { describeImpact } from '../judge/checks.js';
import { ruleFor, severityRank, type Severity } from '../judge/rules.js';
import type { MagicEntry } from '../magic/types.js';
import { printable } from './escape.js';
import { describeGroup, groupFindings } from './groups.js';
import { windowLines } from './windows.js';

export interface TextOptions {
  color: ChalkInstance;
  table: MagicTable;
  /** Findings listed per artifact before "… and N more"; 0 lists all. */
  maxFindings: number;
  /** --verbose: also how each artifact was read (info notes). */
  verbose?: boolean;
  /** The target came from --interpreter (which sets --python): so labelled. */
  interpreter?: boolean;
}

const LABEL: Record<PycStatus, string> = {
  ok: 'OK',
  unconfirmed: 'UNCONFIRMED',
  superseded: 'SUPERSEDED',
  stale: 'STALE',
  'wrong-version': 'WRONG VERSION',
  'tag-mismatch': 'TAG MISMATCH',
  'unknown-magic': 'UNKNOWN MAGIC',
  invalid: 'INVALID',
};

// Control and bidi characters in names (a hostile archive's member names) are shown escaped, never raw.
export { printable };

/** The label a magic code's finding gives the status column. */
const CODE_LABEL: Record<string, PycStatus> = { PYC001: 'stale', PYC002: 'wrong-version', PYC003: 'tag-mismatch', PYC004: 'unknown-magic', PYC005: 'invalid', PYC006: 'superseded', PYC007: 'unconfirmed' };
/** Error findings about the source a .pyc was compiled from (PYC1xx): the bytecode does not match it. */
const MISMATCH = 'MISMATCH';
/** An error finding that bytecode is missing (PYC202). */
const MISSING = 'MISSING';

/** The status column: as wide as the widest label, so the rest of each artifact line starts at one column. */
const STATUS_WIDTH = Math.max(...Object.values(LABEL).map((l) => l.length), 'WARNING'.length, 'NO PYC'.length, MISMATCH.length);

/**
 * An artifact's status column: the worst finding the run reports (what the exit status follows),
 * so a label never says more than the findings do — a wrong .pyc CPython never reads (a PYC203
 * warning) is WARNING, not WRONG VERSION. A magic code's error names what is wrong with the magic;
 * a PYC1xx error is MISMATCH (the bytecode does not match its source); PYC202 MISSING; any other
 * warning WARNING; info alone, or nothing, OK (NO PYC when it has none).
 */
export function statusLabel(r: ArtifactResult): { text: string; severity: Severity | null } {
  if (r.error !== null) return { text: 'ERROR', severity: 'error' };
  const worst = r.findings.reduce<ArtifactResult['findings'][number] | null>((w, f) => (w === null || severityRank(f.severity) < severityRank(w.severity) ? f : w), null);
  if (!worst || worst.severity === 'info') return { text: r.status === null ? 'NO PYC' : 'OK', severity: null };
  const magic = CODE_LABEL[worst.code];
  if (magic && (worst.severity === 'error' || magic === 'superseded' || magic === 'unconfirmed')) return { text: LABEL[magic], severity: worst.severity };
  if (worst.severity === 'warning') return { text: 'WARNING', severity: 'warning' };
  return { text: worst.code === 'PYC202' ? MISSING : worst.code.startsWith('PYC1') ? MISMATCH : 'ERROR', severity: 'error' };
}

function paint(c: ChalkInstance, label: { text: string; severity: Severity | null }, r: ArtifactResult, text: string): string {
  if (label.severity === 'error') return c.red(text);
  if (label.severity === 'warning') return c.yellow(text);
  return r.status === null ? c.dim(text) : c.green(text);
}

/**
 * A magic in words for the artifact line. The magic final releases write today is named by its
 * version alone ("3627 (3.14)"): "3.14rc3 onward" would read as "built with rc3".
 */
function magicWords(entry: MagicEntry | undefined, magic: number): string {
  if (entry && entry.implementation === 'CPython' && entry.current && entry.final) return `${magic} (${entry.version})`;
  return magicLabel(entry, magic);
}

/** Whether the artifact is listed when a run lists only what needs a look: findings, warnings, or something unread. */
export function worthListing(r: ArtifactResult): boolean {
  return r.error !== null || r.findings.some((f) => f.severity !== 'info') || r.unreadable.length > 0 || r.notes.some((n) => n.level === 'warning') || !!r.expected?.conflict;
}

export function formatArtifact(r: ArtifactResult, o: TextOptions): string {
  const c = o.color;
  const name = printable(r.path);
  if (r.error !== null) return `${c.bold(name)}  ${c.red('ERROR')}  ${printable(r.error)}\n`;
  const counts = new Map<number | null, number>();
  for (const p of r.pyc) counts.set(p.magic, (counts.get(p.magic) ?? 0) + 1);
  const magics = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => (m === null ? `no magic ×${n}` : `${magicWords(o.table.lookup(m, r.expected?.implementation), m)} ×${n}`))
    .join(', ');
  const expected = r.expected?.version
    ? `expects ${r.expected.implementation === 'CPython' ? '' : `${r.expected.implementation} `}${r.expected.version} (${r.expected.from === 'option' && o.interpreter ? '--interpreter' : describeClue({ from: r.expected.from!, version: r.expected.version }).replace(/ says? .*/, '')})`
    : 'expected Python unknown';
  // The status first, in a column of its own: a long report is scanned down it.
  const label = statusLabel(r);
  const parts = [paint(c, label, r, label.text.padEnd(STATUS_WIDTH)), c.bold(name), `${r.pyc.length} pyc`];
  if (magics) parts.push(magics);
  parts.push(expected);
  if (r.findings.length) parts.push(findingCounts(r.findings, c));
  let out = `${parts.join('  ')}\n`;
  if (r.expected?.conflict) out += `  ${c.yellow('note')}  ${printable(r.expected.conflict)}\n`;
  // How it was read ("… beside it agrees") only with --verbose; what is wrong always.
  for (const note of r.notes) if (note.level === 'warning' || o.verbose) out += `  ${note.level === 'warning' ? c.yellow('note') : c.dim('note')}  ${printable(note.text)}\n`;
  if (r.impact.modules) out += `  ${c.dim('impact')}  ${describeImpact(r.impact)}\n`;
  const owners = new Map(r.pyc.map((p) => [p.member, p.owner]));
  // One line per cause (a group of one is the finding itself), worst first; each code's fix after its last line.
  const groups = groupFindings(r.findings, (f) => String(owners.get(f.member)));
  const shown = o.maxFindings > 0 ? groups.slice(0, o.maxFindings) : groups;
  shown.forEach((g, i) => {
    const { subject, text } = describeGroup(g);
    const owner = owners.get(g.findings[0]!.member);
    const ownerText = owner === undefined ? '' : `  [${owner === null ? 'no package' : printable(owner)}]`;
    out += `  ${paintSeverity(c, g.severity, g.severity.padEnd(7))} ${g.code}  ${printable(subject)}${ownerText}  ${printable(text)}\n`;
    if (shown[i + 1]?.code !== g.code) out += `          ${c.dim(`fix: ${fixFor(g.code, r)}`)}\n`;
  });
  if (shown.length < groups.length) {
    const rest = groups.slice(shown.length).flatMap((g) => g.findings);
    const counts = (['error', 'warning', 'info'] as const).map((sev) => [sev, rest.filter((f) => f.severity === sev).length] as const).filter(([, n]) => n);
    out += `  … and ${rest.length} more: ${counts.map(([sev, n]) => `${n} ${sev}${n === 1 || sev === 'info' ? '' : 's'}`).join(', ')} (--max-findings 0 lists all)\n`;
  }
  return out;
}

function paintSeverity(c: ChalkInstance, severity: Severity, text: string): string {
  return severity === 'error' ? c.red(text) : severity === 'warning' ? c.yellow(text) : c.dim(text);
}

const s = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "2 errors, 1 warning, 3 info", coloured by severity. */
function findingCounts(findings: readonly { severity: Severity }[], c: ChalkInstance): string {
  const n = (sev: Severity) => findings.filter((f) => f.severity === sev).length;
  const parts: string[] = [];
  if (n('error')) parts.push(c.red(s(n('error'), 'error')));
  if (n('warning')) parts.push(c.yellow(s(n('warning'), 'warning')));
  if (n('info')) parts.push(c.dim(`${n('info')} info`));
  return parts.join(', ');
}

/** `unlisted`: artifacts without findings the report did not list (many inputs, no --verbose). */
export function formatSummary(t: Tally, o: Pick<TextOptions, 'color'> & { table?: MagicTable }, unlisted = 0): string {
  const c = o.color;
  const counts = (['error', 'warning', 'info'] as const).filter((sev) => t.bySeverity[sev]).map((sev) => (sev === 'info' ? `${t.bySeverity.info} info` : s(t.bySeverity[sev], sev)));
  const failing = t.failOn === 'never' ? '' : `; ${s(t.failing, 'artifact')} fail${t.failing === 1 ? 's' : ''} (--fail-on ${t.failOn})`;
  const impact = t.impact.modules ? `; ${describeImpact(t.impact)}` : '';
  // Clean: one short line, like ruff's "All checks passed!".
  if (!t.findings && !t.errors && !t.incomplete) return `${c.green(`${s(t.artifacts, 'artifact')}, ${t.pyc} pyc: all OK`)}\n`;
  const quiet = unlisted ? `; ${unlisted} OK not listed (--verbose lists ${unlisted === 1 ? 'it' : 'them'})` : '';
  const line = `${s(t.artifacts, 'artifact')}, ${t.pyc} pyc: ${s(t.findings, 'finding')}${counts.length ? ` (${counts.join(', ')})` : ''}${failing}${impact}${t.errors ? `; ${t.errors} could not be read` : ''}${quiet}`;
  // A channel run: when the failing bytecode was built, per magic (windows.ts).
  const windows = windowLines(t.windows, (magic) => (o.table ? magicLabel(o.table.lookup(magic), magic) : String(magic))).map((w) => `  ${w}\n`).join('');
  return `${t.errors ? c.red(line) : t.failing ? c.red(line) : t.findings ? c.yellow(line) : c.green(line)}\n${windows}`;
}
