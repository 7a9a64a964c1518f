// The layout's promises, read from the code's own imports with the TypeScript compiler: no two
// files of src/ import each other in a circle (type imports included), and the judging core
// (src/judge/) reaches no I/O: no node:fs, node:net, node:child_process…, and no reader of
// src/sources/ (only its type and metadata-parsing modules, which import nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from './helpers.js';

const SRC = join(ROOT, 'src');

interface Edge {
  to: string;
  /** Erased at compile time (import type, export type, or only type specifiers). */
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** A file's imports: static, re-exports, import() and require() of a string. Relative ones as src paths (.ts). */
export function importsOf(file: string, text: string): Edge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const to = spec.startsWith('.') ? relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
    edges.push({ to, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier.text, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add((node.arguments[0] as ts.StringLiteral).text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/** Every circle of files (a strongly connected component of more than one file, or a file importing itself). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) strong(v);
  return found;
}

const files = sourceFiles(SRC);
const edges = new Map(files.map((f) => [relative(ROOT, f), importsOf(f, readFileSync(f, 'utf8'))]));

test('the import scan sees every kind of import, and the circle finder finds a circle', () => {
  const scanned = importsOf(join(SRC, 'x', 'a.ts'), `import { a } from './b.js';\nimport type { T } from '../c.js';\nimport { type U } from './d.js';\nexport { e } from './e.js';\nexport type { F } from './f.js';\nconst g = await import('./g.js');\nconst h = require('node:fs');\n`);
  assert.deepEqual(scanned, [
    { to: 'src/x/b.ts', typeOnly: false },
    { to: 'src/c.ts', typeOnly: true },
    { to: 'src/x/d.ts', typeOnly: true },
    { to: 'src/x/e.ts', typeOnly: false },
    { to: 'src/x/f.ts', typeOnly: true },
    { to: 'src/x/g.ts', typeOnly: false },
    { to: 'node:fs', typeOnly: false },
  ]);
  assert.deepEqual(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
  assert.deepEqual(circles(new Map([['a', ['b']], ['b', []]])), []);
});

test('no import circle between files of src/, type imports included', () => {
  assert.ok(edges.size > 50, `${edges.size} files read`);
  const graph = new Map([...edges].map(([file, es]) => [file, es.map((e) => e.to)]));
  assert.deepEqual(circles(graph), []);
});

/** What the judging core may reach: itself, the magic table, and the sources' modules that only describe or parse. */
const PURE_OUTSIDE_JUDGE = new Set(['src/sources/types.ts', 'src/sources/formats/metadata.ts']);
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|http2|tls|dgram|child_process|worker_threads|cluster)$|^undici$/;

test('the judging core (src/judge/) reaches no I/O and no reader, through any chain of value imports', () => {
  const judge = [...edges.keys()].filter((f) => f.startsWith('src/judge/'));
  assert.ok(judge.length >= 9, judge.join(', '));
  const problems: string[] = [];
  for (const start of judge) {
    const seen = new Map<string, string[]>([[start, [start]]]);
    const queue = [start];
    while (queue.length) {
      const file = queue.shift()!;
      for (const { to, typeOnly } of edges.get(file) ?? []) {
        if (typeOnly || seen.has(to)) continue;
        const chain = [...seen.get(file)!, to];
        seen.set(to, chain);
        if (IO_MODULES.test(to)) problems.push(chain.join(' -> '));
        else if (to.startsWith('src/') && !to.startsWith('src/judge/') && !to.startsWith('src/magic/') && !PURE_OUTSIDE_JUDGE.has(to)) problems.push(chain.join(' -> '));
        else if (to.startsWith('src/')) queue.push(to);
      }
    }
  }
  assert.deepEqual(problems, []);
});
