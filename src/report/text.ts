// The default report: one line per artifact (its status in the first column), its findings
// indented under it, one line per cause.
import type { ChalkInstance } from 'chalk';
import type { ArtifactResult } from '../judge/artifact.js';
import type { Tally } from './json.js';
import type { MagicTable } from '../magic/table.js';
import { describeClue } from '../judge/package-info.js';
import { magicLabel, type PycStatus } from '../judge/verdict.js';
import { describeImpact } from '../judge/checks.js';
import { ruleFor, type Severity } from '../judge/rules.js';
import { printable } from './escape.js';
import { describeGroup, groupFindings } from './groups.js';
import { windowLines } from './windows.js';

export interface TextOptions {
  color: ChalkInstance;
  table: MagicTable;
  /** Findings listed per artifact before "… and N more"; 0 lists all. */
  maxFindings: number;
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

/** The status column: as wide as the widest label, so the rest of each artifact line starts at one column. */
const STATUS_WIDTH = Math.max(...Object.values(LABEL).map((l) => l.length), 'MAGIC OK'.length, 'NO PYC'.length);

function paint(c: ChalkInstance, status: PycStatus | null, text: string): string {
  if (status === null) return c.dim(text);
  if (status === 'ok') return c.green(text);
  if (status === 'stale' || status === 'superseded' || status === 'unconfirmed') return c.yellow(text);
  return c.red(text);
}

export function formatArtifact(r: ArtifactResult, o: TextOptions): string {
  const c = o.color;
  const name = printable(r.path);
  if (r.error !== null) return `${c.bold(name)}  ${c.red('ERROR')}  ${printable(r.error)}\n`;
  const counts = new Map<number | null, number>();
  for (const p of r.pyc) counts.set(p.magic, (counts.get(p.magic) ?? 0) + 1);
  const magics = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => (m === null ? `no magic ×${n}` : `${magicLabel(o.table.lookup(m, r.expected?.implementation), m)} ×${n}`))
    .join(', ');
  const expected = r.expected?.version
    ? `expects ${r.expected.implementation === 'CPython' ? '' : `${r.expected.implementation} `}${r.expected.version} (${describeClue({ from: r.expected.from!, version: r.expected.version }).replace(/ says .*/, '')})`
    : 'expected Python unknown';
  // "OK" would read as a clean bill when other checks found errors: the magics alone are fine then.
  const verdict = r.status === null ? 'NO PYC' : r.status === 'ok' && r.findings.some((f) => f.severity === 'error') ? 'MAGIC OK' : LABEL[r.status];
  // The status first, in a column of its own: a long report is scanned down it.
  const parts = [paint(c, r.status, verdict.padEnd(STATUS_WIDTH)), c.bold(name), `${r.pyc.length} pyc`];
  if (magics) parts.push(magics);
  parts.push(expected);
  if (r.findings.length) parts.push(findingCounts(r.findings, c));
  let out = `${parts.join('  ')}\n`;
  if (r.expected?.conflict) out += `  ${c.yellow('note')}  ${printable(r.expected.conflict)}\n`;
  for (const note of r.notes) out += `  ${note.level === 'warning' ? c.yellow('note') : c.dim('note')}  ${printable(note.text)}\n`;
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
    if (shown[i + 1]?.code !== g.code) out += `          ${c.dim(`fix: ${ruleFor(g.code).fix}`)}\n`;
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

export function formatSummary(t: Tally, o: Pick<TextOptions, 'color'> & { table?: MagicTable }): string {
  const c = o.color;
  const counts = (['error', 'warning', 'info'] as const).filter((sev) => t.bySeverity[sev]).map((sev) => (sev === 'info' ? `${t.bySeverity.info} info` : s(t.bySeverity[sev], sev)));
  const failing = t.failOn === 'never' ? '' : `; ${s(t.failing, 'artifact')} fail${t.failing === 1 ? 's' : ''} (--fail-on ${t.failOn})`;
  const impact = t.impact.modules ? `; ${describeImpact(t.impact)}` : '';
  const line = `${s(t.artifacts, 'artifact')}, ${t.pyc} pyc: ${s(t.findings, 'finding')}${counts.length ? ` (${counts.join(', ')})` : ''}${failing}${impact}${t.errors ? `; ${t.errors} could not be read` : ''}`;
  const windows = windowLines(t.windows, (magic) => (o.table ? magicLabel(o.table.lookup(magic), magic) : String(magic))).map((w) => `  ${w}\n`).join('');
  return `${t.errors ? c.red(line) : t.failing ? c.red(line) : t.findings ? c.yellow(line) : c.green(line)}\n${windows}`;
}
