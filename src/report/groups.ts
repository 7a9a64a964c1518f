// One cause, one line: findings of one artifact with the same code, severity and cause, as the text
// and GitHub reports show them. JSON keeps every finding (each carries its cause).
import type { Finding } from '../judge/checks.js';
import { severityRank } from '../judge/rules.js';

export interface FindingGroup {
  code: string;
  severity: Finding['severity'];
  cause: string;
  /** In the order the artifact lists them; at least one. */
  findings: Finding[];
}

/**
 * Worst first, then by code, then by the first member; a group of one is one finding. `apart` keeps
 * findings apart that share a cause (in an environment: the package that installed each file).
 */
export function groupFindings(findings: readonly Finding[], apart: (f: Finding) => string = () => ''): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const f of findings) {
    const cause = f.cause ?? f.message;
    const key = `${f.code}\0${f.severity}\0${cause}\0${apart(f)}`;
    const g = groups.get(key);
    if (g) g.findings.push(f);
    else groups.set(key, { code: f.code, severity: f.severity, cause, findings: [f] });
  }
  const first = (g: FindingGroup) => g.findings[0]!.member;
  return [...groups.values()].sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) || (first(a) < first(b) ? -1 : first(a) > first(b) ? 1 : 0));
}

/** What a group's members are, by extension: ".pyc", ".py", ".pyo" (a mix says "files"). */
export function memberNoun(g: FindingGroup): string {
  const exts = new Set(g.findings.map((f) => /\.py[co]?$/.exec(f.member)?.[0] ?? 'files'));
  return exts.size === 1 ? [...exts][0]! : 'files';
}

/** A group in one line: its one finding's member and message, or "242 .py: <cause> (e.g. first member)". */
export function describeGroup(g: FindingGroup): { subject: string; text: string } {
  if (g.findings.length === 1) return { subject: g.findings[0]!.member, text: g.findings[0]!.message };
  return { subject: `${g.findings.length} ${memberNoun(g)}`, text: `${g.cause} (e.g. ${g.findings[0]!.member})` };
}

/** The package that installed each member, in an environment (undefined: not an environment). */
export function ownersOf(r: { pyc: readonly { member: string; owner?: string | null }[] }): Map<string, string | null | undefined> {
  return new Map(r.pyc.map((p) => [p.member, p.owner]));
}

/** An artifact's findings grouped as every report shows them: by code, severity, cause and (in an environment) installing package. */
export function artifactGroups(r: { findings: readonly Finding[]; pyc: readonly { member: string; owner?: string | null }[] }): FindingGroup[] {
  const owners = ownersOf(r);
  return groupFindings(r.findings, (f) => String(owners.get(f.member)));
}

/** Members named in a group's one-line message before "…". */
export const MEMBERS_IN_MESSAGE = 3;

/**
 * A group as one message for the CI formats: a group of one is "member: message"; more are
 * "N .pyc: cause: first, second, third, …".
 */
export function groupMessage(g: FindingGroup): string {
  if (g.findings.length === 1) return `${g.findings[0]!.member}: ${g.findings[0]!.message}`;
  const first = g.findings.slice(0, MEMBERS_IN_MESSAGE).map((f) => f.member);
  return `${g.findings.length} ${memberNoun(g)}: ${g.cause}: ${first.join(', ')}${g.findings.length > first.length ? `, … (${g.findings.length - first.length} more)` : ''}`;
}
