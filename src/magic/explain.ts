// `pyc-audit magic N`: one line per number, in words.
import type { MagicTable } from './table.js';
import { finalExpectation, isCPython3Range, placementText, SETTLE_NEWER, supersededBy, writtenBy } from './describe.js';
import type { MagicEntry } from './types.js';

/** Accepts 3627, 0x0e2b, or the 4 header bytes as hex (2b0e0d0a). */
export function parseMagicArgument(arg: string): number | null {
  if (/^\d+$/.test(arg)) {
    const n = Number(arg);
    return n <= 0xffff ? n : null;
  }
  if (/^0x[0-9a-f]{1,4}$/i.test(arg)) return parseInt(arg, 16);
  if (/^[0-9a-f]{8}$/i.test(arg)) return Buffer.from(arg, 'hex').readUInt16LE(0);
  return null;
}

export function explainMagic(table: MagicTable, magic: number): string {
  const entry = table.lookup(magic);
  if (!entry) {
    if (!isCPython3Range(magic)) return `${magic} → unknown: not a magic number in this table (see --magic-table to add one)`;
    const where = placementText(table, magic);
    const newer = where.includes('probably');
    return `${magic} → unknown to this table: ${where}${newer ? `; ${SETTLE_NEWER}` : ''}`;
  }
  // One number, several writers (3413: CPython 3.8 and PyPy3.8 7.3.6–7.3.9): each on its own.
  const others = table.entries.filter((e) => e.magic === magic && e !== entry);
  return [explainEntry(table, entry), ...others.map((e) => `  also ${explainEntry(table, e).replace(/^\d+ → /, '')}`)].join('\n');
}

export function explainEntry(table: MagicTable, entry: MagicEntry): string {
  const magic = entry.magic;
  const impl = entry.implementation;
  const who = impl === 'CPython' ? `CPython ${writtenBy(entry)}` : writtenBy(entry);
  const want = finalExpectation(table, entry.version, impl);
  if (want.magics.includes(magic)) {
    const finalNote = impl === 'CPython' && entry.firstFinal && !who.includes(entry.firstFinal) ? ` (${entry.firstFinal} final)` : '';
    const later = supersededBy(table, entry);
    const laterNote = later ? `; ${later.firstFinal ?? later.releases} and later load only ${later.magic}` : '';
    return `${magic} → ${who}${finalNote}: final-release bytecode for ${impl} ${entry.version}${laterNote}`;
  }
  const note = entry.note ? ` [${entry.note}]` : '';
  return `${magic} → ${who}; ${want.text.replace(' expects ', ' final writes ')}${note}`;
}
