// Everything said about a rule, rendered from its one definition in rules.ts: `pyc-audit rules`
// (text, json, markdown), `pyc-audit rule CODE`, the docs/rules.md table (a test keeps it equal to
// `rules --format markdown`), and SARIF's rule help.
import { RULES, SEVERITIES, SEVERITY_RULE, type Rule } from './rules.js';

/**
 * Where a rule is documented: docs/rules.md has an anchor per code (#pyc101), at the release
 * `version` of the project at `projectUrl` (a GitHub-style web address).
 */
export function helpUri(rule: Rule, projectUrl: string, version: string): string {
  return `${projectUrl}/blob/v${version}/docs/rules.md#${rule.code.toLowerCase()}`;
}

/** `pyc-audit rules`: each code, its default severity and title, and how to fix it. */
export function rulesText(): string {
  return RULES.map((r) => `${r.code}  ${r.severity.padEnd(7)}  ${r.title}${r.invalidates ? ' (compiled at first import)' : ''}\n        fix: ${r.fix}\n`).join('');
}

/** `pyc-audit rules --format json`: the definitions as they are. */
export function rulesJson(): string {
  return `${JSON.stringify(RULES, null, 2)}\n`;
}

/** Severities in words: "error: CPython ignores …", one a line. */
export function severityRuleLines(): string[] {
  return SEVERITIES.map((s) => `${s}: ${SEVERITY_RULE[s]}.`);
}

/** docs/rules.md's list of the severity rule (between its severity-rule markers). */
export function severityRuleMarkdown(): string {
  return SEVERITIES.map((s) => `- **${s}**: ${SEVERITY_RULE[s]}.\n`).join('');
}

const wrap = (text: string, indent = '  ', width = 96): string => {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width - indent.length) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}${l}`).join('\n');
};

/** `pyc-audit rule CODE`, like `ruff rule`: what it means, what CPython does, an example, the fix. */
export function ruleText(r: Rule): string {
  return [
    `${r.code}: ${r.title}`,
    `Default severity: ${r.severity}${r.invalidates ? ' (the module is compiled at first import: it counts in the impact)' : ''}`,
    '',
    'What it means',
    wrap(r.meaning),
    '',
    'What CPython does',
    wrap(r.cpython),
    '',
    'Example',
    `  ${r.severity.padEnd(7)} ${r.example}`,
    '',
    'How to fix',
    wrap(r.fix),
    '',
    'Why this severity',
    wrap(`${r.why ? `${r.why} ` : ''}Default severities follow what CPython does with the file. ${r.severity}: ${SEVERITY_RULE[r.severity]}. An error about a .pyc outside every import location (bin/, the prefix root, share/) is a warning: no import compiles it again.`),
    '',
  ].join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, '')}\``;

/** docs/rules.md's findings table (`pyc-audit rules --format markdown`). */
export function rulesMarkdown(): string {
  const head = '| code | meaning | what CPython does | default severity | how to fix |\n|---|---|---|---|---|\n';
  return head + RULES.map((r) => `| <a id="${r.code.toLowerCase()}"></a>${code(r.code)} | ${cell(r.meaning)} | ${cell(r.cpython)} | ${r.severity} | ${cell(r.fix)} |\n`).join('');
}

/** SARIF reportingDescriptor help: plain text and Markdown. */
export function sarifHelp(r: Rule): { text: string; markdown: string } {
  return {
    text: `${r.meaning} What CPython does: ${r.cpython} Fix: ${r.fix}`,
    markdown: `**${cell(r.title)}** (default severity: ${r.severity})\n\n${r.meaning}\n\n**What CPython does:** ${r.cpython}\n\n**Example:**\n\n\`\`\`\n${r.example}\n\`\`\`\n\n**How to fix:** ${r.fix}\n`,
  };
}
