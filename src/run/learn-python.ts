// What the target python writes, learned from the inputs themselves, without running anything.
// A conda `python` package among the inputs says, by its own standard library's bytecode, which
// magic its interpreter writes: it is read first, and that magic becomes its minor's expected
// final magic for the whole run (exact for a release newer than the table, 3.15.0 before this
// table knew it); the entries read are kept for the audit of the package itself (a few, so memory
// stays bounded), so a python package is read once. An environment is judged by its own python:
// a few headers of its standard library's bytecode, read before its packages are audited.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readHeadSync } from '../sources/access/regular-file.js';
import pLimit from 'p-limit';
import type { Reader } from './audit-artifact.js';
import type { MagicTable } from '../magic/table.js';
import { isPythonPackageName, stdlibMagic, stdlibTarget, type PycHead, type StdlibMagic } from '../magic/stdlib.js';
import type { Target } from '../sources/folders/targets.js';
import type { ArtifactEntries } from '../sources/types.js';

/** Python packages whose entries are kept between the first read and their audit. */
const KEEP = 8;

const PHASES: Record<string, number> = { a: 0, b: 1, rc: 2, c: 2 };

/** python-3.15.0rc1-h12_0.conda -> [3, 15, 0, 2, 1]: newer sorts higher, a final above its candidates. */
export function pythonPackageVersionKey(fileName: string): number[] {
  const m = /^python-(\d+)\.(\d+)(?:\.(\d+))?(?:(a|b|rc|c)(\d+))?/.exec(fileName);
  if (!m) return [];
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0), m[4] ? PHASES[m[4]]! : 3, Number(m[5] ?? 0)];
}

function newer(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? -1) !== (b[i] ?? -1)) return (a[i] ?? -1) > (b[i] ?? -1);
  return false;
}

function packageFileName(target: Target): string | null {
  if (target.kind !== 'file' && target.kind !== 'folder' && target.kind !== 'url') return null;
  const name = basename(target.kind === 'url' ? new URL(target.path).pathname : target.path);
  return isPythonPackageName(name) ? name : null;
}

export async function learnFromPythonPackages(
  targets: readonly Target[],
  table: MagicTable,
  read: Reader,
  say: (line: string) => void,
  jobs = 2,
): Promise<{ table: MagicTable; read: Reader }> {
  const pythons = targets.map((t) => ({ target: t, name: packageFileName(t) })).filter((p): p is { target: Target; name: string } => p.name !== null);
  if (!pythons.length) return { table, read };
  const kept = new Map<string, ArtifactEntries>();
  const learned = new Map<string, { from: StdlibMagic; name: string; key: number[] }>(); // by implementation + minor
  const limit = pLimit(jobs);
  await Promise.all(
    pythons.map(({ target, name }) =>
      limit(async () => {
        let entries: ArtifactEntries;
        try {
          entries = await read(target);
        } catch {
          return; // its own audit says why it cannot be read
        }
        if (kept.size < KEEP) kept.set(target.path, entries);
        const found = stdlibMagic(entries.pyc);
        if (!found) return;
        const key = `${found.implementation}\0${found.version}`;
        const versionKey = pythonPackageVersionKey(name);
        const before = learned.get(key);
        if (!before || newer(versionKey, before.key)) learned.set(key, { from: found, name, key: versionKey });
      }),
    ),
  );
  for (const { from, name } of learned.values()) {
    const finals = table.finalMagics(from.version, from.implementation).map((e) => e.magic);
    table = table.withTarget(stdlibTarget(from, name));
    if (finals.length !== 1 || finals[0] !== from.magic) {
      say(`pyc-audit: ${name}: its standard library's bytecode says ${from.version} writes ${from.magic}; expected for ${from.version} in this run${finals.length ? ` (the table has ${finals.join(' or ')})` : ''}`);
    }
  }
  const keptRead: Reader = (target, extra) => {
    const entries = extra ? undefined : kept.get(target.path);
    if (!entries) return read(target, extra);
    kept.delete(target.path);
    return Promise.resolve(entries);
  };
  return { table, read: keptRead };
}

/** Standard-library .pyc read per environment: the magic is the same in every one. */
const STDLIB_SAMPLE = 16;

function names(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * An environment's python, by its standard library's bytecode: the headers of a few
 * lib/pythonX.Y/__pycache__/*.pyc (Lib/__pycache__ on Windows, lib/pypy3.Y for PyPy), each
 * opened as a regular file, never followed through a link.
 */
export function environmentStdlibMagic(root: string): StdlibMagic | null {
  const dirs = ['Lib'];
  for (const d of names(join(root, 'lib'))) if (/^(?:python\d\.\d+t?|pypy\d\.\d+)$/.test(d)) dirs.push(`lib/${d}`);
  const heads: PycHead[] = [];
  for (const dir of dirs) {
    const cache = `${dir}/__pycache__`;
    for (const name of names(join(root, ...cache.split('/'))).filter((n) => n.endsWith('.pyc')).slice(0, STDLIB_SAMPLE)) {
      try {
        heads.push({ path: `${cache}/${name}`, head: readHeadSync(join(root, ...cache.split('/'), name), 4, { follow: false }).head });
      } catch {
        // unreadable: the walk reports it
      }
    }
  }
  return stdlibMagic(heads);
}

/**
 * Each environment among the targets is judged by its own python: the table its stdlib's magic
 * calls for (that magic its minor's only final), and a note when that differs from the table.
 */
export function learnFromEnvironments(targets: readonly Target[], table: MagicTable): Map<string, { table: MagicTable; note: string | null }> {
  const out = new Map<string, { table: MagicTable; note: string | null }>();
  for (const t of targets) {
    if (t.kind !== 'env') continue;
    const root = t.part?.root ?? t.path;
    if (out.has(root)) continue;
    const learned = environmentStdlibMagic(root);
    if (!learned) continue;
    const finals = table.finalMagics(learned.version, learned.implementation).map((e) => e.magic);
    const note =
      finals.length === 1 && finals[0] === learned.magic
        ? null
        : `the environment's python writes ${learned.magic} for ${learned.version} (its standard library's bytecode, e.g. ${learned.example}): ${finals.length ? `expected instead of the table's ${finals.join(' or ')}` : `expected; the table knows no ${learned.version} final`}`;
    out.set(root, { table: table.withTarget(stdlibTarget(learned, "the environment's python")), note });
  }
  return out;
}
