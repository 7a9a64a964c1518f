// `pyc-audit magic [NUMBER…]`: what the magic table says of each number, or the whole table.
import { EXIT, UsageError } from '../run/exit.js';
import { explainEntry, explainMagic, parseMagicArgument } from '../magic/explain.js';
import { magicEntryJson, magicTableJson } from '../report/json.js';
import type { ReportIo } from '../report/reporter.js';
import { loadTable } from '../run/load-table.js';

export async function runMagic(args: string[], flags: { format: 'text' | 'json'; magicTable?: string }, io: ReportIo): Promise<number> {
  const table = await loadTable(flags.magicTable);
  const magics = args.map((a) => {
    const n = parseMagicArgument(a);
    if (n === null) throw new UsageError(`${a}: not a magic number (give 3627, 0x0e2b or the header bytes 2b0e0d0a)`);
    return n;
  });
  if (flags.format === 'json') {
    if (!magics.length) {
      io.stdout.write(magicTableJson(table));
      return EXIT.clean;
    }
    // Every number asked for, in order; one the table does not know is a row saying so.
    const rows = magics.flatMap((m): object[] => {
      const known = table.entries.filter((e) => e.magic === m);
      return known.length ? known.map(magicEntryJson) : [{ magic: m, unknown: true }];
    });
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return magics.some((m) => !table.lookup(m)) ? EXIT.findings : EXIT.clean;
  }
  if (!magics.length) {
    for (const e of table.entries) io.stdout.write(`${explainEntry(table, e)}\n`);
    return EXIT.clean;
  }
  let unknown = false;
  for (const m of magics) {
    if (!table.lookup(m)) unknown = true;
    io.stdout.write(`${explainMagic(table, m)}\n`);
  }
  return unknown ? EXIT.findings : EXIT.clean;
}
