#!/usr/bin/env node
// Regenerates src/magic/cpython-history.ts from a git clone of CPython.
//
//   node scripts/magic-history.mjs /path/to/cpython.git [REF]
//
// Two sources, both recorded in the output:
//  1. the "Known values" comment of Include/internal/pycore_magic_number.h at REF
//     (default: main) -- every number CPython ever assigned, with the pre-release
//     tag and note its author gave;
//  2. the magic number actually defined at every release tag (vX.Y[.Z][a|b|c|rcN]),
//     read from the file that held it in that era: Python/import.c (1.x-3.2),
//     Lib/importlib/_bootstrap.py (3.3-3.4), Lib/importlib/_bootstrap_external.py
//     (3.5-3.13), Include/internal/pycore_magic_number.h (3.14+).
//  3. every number ever #defined in those files on a branch or tag of the clone (git log -G):
//     numbers assigned on trunk and replaced before any release (62001, 62141, 3240) are
//     kept as "assigned on trunk, never released", with the commit that assigned them.
// The tags are what shipped; where they disagree with the comment, both are kept. A minor
// whose X.Y final has no tag (2.3 in CPython's conversion) gets it inferred when the last
// pre-release before it and the X.Y.1 after it define the same number.
// Nothing from CPython is copied but the numbers, tags and one-line notes.
// README.md ("The magic table") says how to regenerate the table at each release.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [gitDir, ref = 'main'] = process.argv.slice(2);
if (!gitDir) {
  console.error('usage: node scripts/magic-history.mjs CPYTHON_GIT_DIR [REF]');
  process.exit(2);
}
const git = (...args) =>
  execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

const HEADER = 'Include/internal/pycore_magic_number.h';
const ERA_FILES = [
  HEADER,
  'Lib/importlib/_bootstrap_external.py',
  'Lib/importlib/_bootstrap.py',
  'Python/import.c',
];
const DEFINITION =
  /#define PYC_MAGIC_NUMBER (\d+)|^MAGIC_NUMBER = \((\d+)\)\.to_bytes|^_RAW_MAGIC_NUMBER = (\d+) \||#define MAGIC \((\d+) \||#define MAGIC \(?0x([0-9a-fA-F]+)L/;

// ---- release tags ---------------------------------------------------------
const TAG = /^v(\d+)\.(\d+)(?:\.(\d+))?(?:(a|b|c|rc)(\d+))?$/;
const PHASE = { a: 0, b: 1, c: 2, rc: 2 };

function parseTag(tag) {
  const m = TAG.exec(tag);
  if (!m) return null;
  const [, major, minor, micro, phase, num] = m;
  return {
    tag,
    minor: `${major}.${minor}`,
    key: [+major, +minor, +(micro ?? 0), phase ? PHASE[phase] : 3, phase ? +num : 0],
    final: !phase,
    // 3.14.0rc1 -> "3.14rc1"; 3.14.1 -> "3.14.1"; 2.7 -> "2.7"; 2.7.1rc1 -> "2.7.1rc1"
    label: phase && !+(micro ?? 0) ? `${major}.${minor}${phase}${num}` : tag.slice(1),
  };
}
const byKey = (a, b) => {
  for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
  return 0;
};

function magicAtTag(tag) {
  let out;
  try {
    out = git('grep', '-n', '-E',
      '#define PYC_MAGIC_NUMBER [0-9]|^MAGIC_NUMBER = \\([0-9]+\\)|^_RAW_MAGIC_NUMBER = [0-9]|#define MAGIC [(0]',
      tag, '--', ...ERA_FILES);
  } catch {
    return null;
  }
  const hits = out.split('\n').filter(Boolean).map((line) => {
    // "<tag>:<path>:<line>:<text>"
    const rest = line.slice(tag.length + 1);
    const [path, lineNo, ...text] = rest.split(':');
    return { path, line: +lineNo, text: text.join(':') };
  });
  for (const file of ERA_FILES) {
    for (const hit of hits.filter((h) => h.path === file)) {
      const m = DEFINITION.exec(hit.text.trim());
      if (!m) continue;
      const dec = m[1] ?? m[2] ?? m[3] ?? m[4];
      if (dec) {
        const plusOne = file === 'Python/import.c' && alwaysPlusOne(tag);
        return { magic: +dec + (plusOne ? 1 : 0), word: null, where: `${file}:${hit.line}${plusOne ? ' (+1)' : ''}` };
      }
      // Python 1.0-1.2: a plain 4-byte word with no \r\n, e.g. 0x999902.
      const word = parseInt(m[5], 16);
      return { magic: word & 0xffff, word, where: `${file}:${hit.line}` };
    }
  }
  return null;
}

// Python 3.0 and 3.1 write MAGIC + 1 unconditionally (import.c: `pyc_magic = MAGIC + 1;` in a
// bare block); 2.x does so only under the -U flag (`if (Py_UnicodeFlag)`), which is not counted.
function alwaysPlusOne(ref) {
  const src = git('show', `${ref}:Python/import.c`).split('\n');
  const at = src.findIndex((l) => /pyc_magic = MAGIC \+ 1;/.test(l));
  if (at < 0) return false;
  let inComment = false; // scanning upwards: from a line ending in */ up to the one opening it
  for (let i = at - 1; i >= 0; i--) {
    const l = src[i].trim();
    if (l.endsWith('*/')) inComment = !l.includes('/*');
    else if (inComment) inComment = !l.includes('/*');
    else if (l) return !/Py_UnicodeFlag/.test(l);
  }
  return false;
}

const tags = git('tag', '--list', 'v*').split('\n').map(parseTag).filter(Boolean).sort(byKey);
const definedAt = new Map(); // tag -> what magicAtTag found
for (const t of tags) {
  const found = magicAtTag(t.tag);
  if (found) definedAt.set(t.tag, found);
}

// An X.Y final with no tag of its own (v2.3 is missing from CPython's converted history): when
// the last pre-release of X.Y.0 and X.Y.1 define the same number, X.Y wrote it too.
for (const minor of [...new Set(tags.map((t) => t.minor))]) {
  const own = tags.filter((t) => t.minor === minor);
  if (own.some((t) => t.final && t.key[2] === 0)) continue;
  const before = own.filter((t) => !t.final && t.key[2] === 0).at(-1);
  const after = own.find((t) => t.final && t.key[2] === 1);
  const a = before && definedAt.get(before.tag);
  const b = after && definedAt.get(after.tag);
  if (!a || !b || a.magic !== b.magic) continue;
  const [major, min] = minor.split('.').map(Number);
  const inferred = { tag: `v${minor}`, minor, key: [major, min, 0, 3, 0], final: true, label: minor };
  tags.push(inferred);
  definedAt.set(inferred.tag, { ...a, where: `inferred: no v${minor} tag; ${before.tag} and ${after.tag} both define it` });
}
tags.sort(byKey);

const shipped = new Map(); // magic -> [{tag info, where}]
for (const t of tags) {
  const found = definedAt.get(t.tag);
  if (!found) continue;
  if (!shipped.has(found.magic)) shipped.set(found.magic, []);
  shipped.get(found.magic).push({ ...t, where: found.where, word: found.word });
}

// ---- the "Known values" comment -------------------------------------------
const refCommit = git('rev-parse', ref).trim();
const headerText = git('show', `${refCommit}:${HEADER}`).split('\n');
const start = headerText.findIndex((l) => /Known values:/.test(l));
const entries = [];
let context = null;
for (let i = start + 1; i < headerText.length; i++) {
  const line = headerText[i];
  if (/\*\//.test(line) || /will start with/.test(line)) break;
  const m = /^\s*(?:Python\s+(\d[\w.]*):?\s+)?(\d{4,5})\b\s*(.*)$/.exec(line);
  if (m && (m[1] || /^\s{8,}\d/.test(line))) {
    if (m[1]) context = m[1];
    entries.push({ magic: +m[2], commentTag: context, note: m[3].trim(), line: i + 1 });
  } else if (entries.length && line.trim()) {
    const last = entries[entries.length - 1];
    last.note = `${last.note} ${line.trim()}`;
  }
}
const tidy = (note) => note.replace(/^\((.*)\)\.?$/, '$1').replace(/\s+/g, ' ').trim() || null;

function minorOfCommentTag(tag) {
  if (tag === '3000') return '3.0';
  const m = /^(\d+)\.(\d+)/.exec(tag);
  return m ? `${m[1]}.${m[2]}` : null;
}

// Contiguous runs of tags (in release order, within each minor) that define a magic.
// `current`: the newest tag of its (last) minor still defines it, so later releases will too.
function runs(list) {
  const have = new Set(list.map((t) => t.tag));
  const out = [];
  let current = false;
  for (const minor of [...new Set(list.map((t) => t.minor))]) {
    const minorTags = tags.filter((t) => t.minor === minor);
    let cur = null;
    for (const t of minorTags) {
      if (have.has(t.tag)) {
        if (cur) cur.last = t;
        else cur = { first: t, last: t };
      } else if (cur) {
        out.push(cur);
        cur = null;
      }
    }
    if (cur) out.push(cur);
    current = have.has(minorTags[minorTags.length - 1].tag);
  }
  return { runs: out, current };
}

const rows = [];
const seen = new Set();
for (const e of entries) {
  if (seen.has(e.magic)) {
    // Listed again for a later release (1.5, 1.5.1, 1.5.2: 20121): one row, every tag named.
    const r = rows.find((x) => x.magic === e.magic);
    r.commentTag = `${r.commentTag}, ${e.commentTag}`;
    r.comment = `${r.comment},${e.line}`;
    continue;
  }
  seen.add(e.magic);
  rows.push(row(e.magic, e));
}
for (const magic of shipped.keys()) if (!seen.has(magic)) rows.push(row(magic, null));
for (const t of trunkOnly()) {
  if (seen.has(t.magic) || shipped.has(t.magic)) continue;
  seen.add(t.magic);
  rows.push(t);
}
// By minor version; within one, in the comment's (chronological) order. Array sort is stable.
const versionKey = (r) => r.version.split('.').reduce((k, n) => k * 1000 + Number(n), 0);
rows.sort((a, b) => versionKey(a) - versionKey(b));

function row(magic, e) {
  const list = shipped.get(magic) ?? [];
  const version = list[0]?.minor ?? minorOfCommentTag(e.commentTag);
  const r = {
    magic,
    version,
    commentTag: e?.commentTag ?? null,
    note: e ? tidy(e.note) : null,
    comment: e ? `${HEADER}:${e.line}` : null,
    releases: null,
    firstRelease: null,
    current: false,
    final: false,
    firstFinal: null,
    definedAt: null,
  };
  const finalTagInComment = e && /^\d+\.\d+(\.\d+)?$/.test(e.commentTag) ? e.commentTag : null;
  if (!list.length && finalTagInComment && !tags.some((t) => t.label === finalTagInComment)) {
    // e.g. 1.6 (50428): the mirror has no tag for that release; the comment is all there is.
    r.releases = `${finalTagInComment} (per the comment; no tag to check)`;
    r.firstRelease = r.firstFinal = finalTagInComment;
    r.final = r.current = true;
  }
  if (list.length) {
    const { runs: rs, current } = runs(list);
    const minors = [...new Set(list.map((t) => t.minor))];
    if (minors.length > 1) r.alsoVersions = minors.slice(1);
    r.releases = rs
      .map(({ first, last }) => (first === last ? first.label : `${first.label}–${last.label}`))
      .join(', ');
    r.firstRelease = list[0].label;
    r.current = current;
    const finals = list.filter((t) => t.final);
    r.final = finals.length > 0;
    r.firstFinal = finals[0]?.label ?? null;
    // Minors whose final releases write it: 39171 is 1.1's and 1.2's; 3425 only 3.9's (3.10a1 too).
    if (minors.length > 1 && r.final) r.finalFor = [...new Set(finals.map((t) => t.minor))];
    r.definedAt = `${list[0].where} @ ${list[0].tag}`;
    if (list[0].word !== null) r.word = list[0].word;
  }
  return r;
}

// ---- numbers assigned on a branch and replaced before any release -----------------
// Every added line that defines the number, in every commit of the clone's branches and tags
// (--full-history: the trunk commits merged into py3k count too). Its minor is that of the
// earliest release tag containing the commit.
function trunkOnly() {
  const log = git('log', '--branches', '--tags', '--full-history', '--no-ext-diff', '-U0', '-p',
    '--format=commit %H %ad', '--date=short',
    '-G', '#define MAGIC \\(|^_RAW_MAGIC_NUMBER = |^MAGIC_NUMBER = \\(|#define PYC_MAGIC_NUMBER ',
    '--', ...ERA_FILES);
  const found = new Map(); // magic -> oldest {commit, date, file}
  let commit = null;
  let file = null;
  for (const line of log.split('\n')) {
    let m = /^commit ([0-9a-f]{40}) (\S+)/.exec(line);
    if (m) {
      commit = { hash: m[1], date: m[2] };
      continue;
    }
    m = /^\+\+\+ b\/(.*)$/.exec(line);
    if (m) {
      file = m[1];
      continue;
    }
    if (!line.startsWith('+') || !commit) continue;
    const d = DEFINITION.exec(line.slice(1).trim());
    if (!d) continue;
    const dec = d[1] ?? d[2] ?? d[3] ?? d[4];
    const plusOne = !!dec && file === 'Python/import.c' && alwaysPlusOne(commit.hash);
    const magic = dec ? +dec + (plusOne ? 1 : 0) : parseInt(d[5], 16) & 0xffff; // 1995: 0x4127
    // git log lists newest first: the last one seen is where the number was assigned.
    found.set(magic, { ...commit, file, plusOne });
  }
  const out = [];
  for (const [magic, c] of found) {
    if (shipped.has(magic) || seen.has(magic)) continue;
    // The first release made after it: by date, since later merges put old commits under tags of
    // other lines too (a py3k commit is contained in v2.7.4).
    const containing = git('tag', '--contains', c.hash, '--list', 'v*', '--sort=creatordate').split('\n').map(parseTag).filter(Boolean);
    const short = c.hash.slice(0, 11);
    out.push({
      magic,
      version: containing[0]?.minor ?? null,
      commentTag: null,
      note: `assigned on trunk (${c.date}), never released`,
      comment: null,
      releases: null,
      firstRelease: null,
      current: false,
      final: false,
      firstFinal: null,
      definedAt: `${c.file}${c.plusOne ? ' (+1)' : ''} @ ${short}`,
      trunkOnly: true,
    });
  }
  return out.filter((r) => r.version);
}

// ---- write ------------------------------------------------------------------
const lines = [];
lines.push('// GENERATED by scripts/magic-history.mjs from a CPython git clone: do not edit by hand.');
lines.push('// Facts only (numbers, tags, one-line notes); README.md ("The magic table") says how it is made.');
lines.push("import type { CPythonMagic } from './types.js';");
lines.push('');
lines.push('export const CPYTHON_SOURCE = {');
lines.push(`  comment: ${JSON.stringify(`${HEADER} @ ${refCommit}`)},`);
lines.push(`  tagsRead: ${tags.length},`);
lines.push(`  newestTag: ${JSON.stringify(tags[tags.length - 1].label)},`);
lines.push('} as const;');
lines.push('');
lines.push('export const CPYTHON_MAGICS: readonly CPythonMagic[] = [');
for (const r of rows) lines.push(`  ${JSON.stringify(r)},`);
lines.push('];');
lines.push('');
const target = fileURLToPath(new URL('../src/magic/cpython-history.ts', import.meta.url));
writeFileSync(target, lines.join('\n'));
console.error(`wrote ${rows.length} rows (${shipped.size} magics seen at ${tags.length} tags) to ${target}`);
