#!/usr/bin/env node
// npm run docs: writes the options reference into docs/options.md, between its markers, from the
// command definitions (src/commands/reference.ts). test/docs.test.ts fails when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { buildProgram } = await import(join(root, 'dist', 'src', 'cli.js'));
const { optionsMarkdown } = await import(join(root, 'dist', 'src', 'commands', 'reference.js'));
const discard = { write: () => true };
const generated = optionsMarkdown(buildProgram({ stdout: discard, stderr: discard }, () => {}));
const file = join(root, 'docs', 'options.md');
const text = readFileSync(file, 'utf8');
const begin = '<!-- options:begin (npm run docs) -->\n';
const end = '<!-- options:end -->';
const at = text.indexOf(begin);
const to = text.indexOf(end);
if (at < 0 || to < at) throw new Error(`${file}: no options markers`);
writeFileSync(file, text.slice(0, at + begin.length) + generated + text.slice(to));
console.log(`wrote ${file}`);
