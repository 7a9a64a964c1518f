// The options reference (docs/options.md), made from the command definitions themselves, so it
// cannot drift from what the commands accept: a section per command, a row per option with its
// help, default and choices as commander knows them. `npm run docs` writes it; a test compares.
import type { Command, Option } from 'commander';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function optionRow(o: Option): string {
  const notes: string[] = [];
  if (o.argChoices?.length) notes.push(`one of ${o.argChoices.map((c) => `\`${c}\``).join(', ')}`);
  if (o.defaultValueDescription) notes.push(`default: ${o.defaultValueDescription}`);
  else if (o.defaultValue !== undefined && o.defaultValue !== false && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0)) notes.push(`default: \`${String(o.defaultValue)}\``);
  return `| \`${cell(o.flags)}\` | ${cell(o.description)}${notes.length ? ` (${notes.join('; ')})` : ''} |`;
}

function commandSection(cmd: Command, usage: string): string {
  const args = cmd.registeredArguments.map((a) => `- \`${a.name()}${a.variadic ? '...' : ''}\`: ${a.description}`);
  const options = cmd.options.filter((o) => !o.hidden && o.long !== '--help' && o.long !== '--version');
  return [
    `## \`${usage}\``,
    '',
    `${cmd.description()}.`,
    ...(args.length ? ['', ...args] : []),
    ...(options.length ? ['', '| option | meaning |', '|---|---|', ...options.map(optionRow)] : []),
    '',
  ].join('\n');
}

/** The reference of every command of `program`, in Markdown, the default command first. */
export function optionsMarkdown(program: Command): string {
  const commands = [...program.commands].sort((a, b) => Number(b.name() === 'audit') - Number(a.name() === 'audit'));
  return commands.map((c) => commandSection(c, c.name() === 'audit' ? 'pyc-audit [audit] [options] [path...]' : `pyc-audit ${c.name()} ${c.usage()}`)).join('\n');
}
