// `pyc-audit magic [NUMBER…]`: what the magic table says of each number, or the whole table.
import { EXIT, UsageError } from '../run/exit.js';
import { explainEntry, explainMagic, parseMagicArgument } from '../magic/explain.js';
import { magicEntryJson } from '../report/json.js';
import type { ReportIo } from '../report/reporter.js';
import { loadTable } from '../run/load-table.js';

export interface MagicFlags {
  format: 'text' | 'json';
  magicTable?: string;
  update?: boolean;
  tagsUrl?: string;
  rawUrl?: string;
  timeout?: number;
}

export async function runMagic(args: string[], flags: MagicFlags, io: ReportIo): Promise<number> {
  if (flags.update) {
    if (args.length) throw new UsageError('--update takes no magic numbers');
    const { runMagicUpdate } = await import('./magic-update.js');
    const { MagicUpdateError } = await import('../magic/update.js');
    try {
      const { update, path } = await runMagicUpdate({ tagsUrl: flags.tagsUrl, rawUrl: flags.rawUrl, timeout: flags.timeout ?? 30, say: (line) => io.stderr.write(`${line}\n`) });
      const newest = update.releases.at(-1);
      io.stdout.write(`magic table updated: ${update.releases.length} release${update.releases.length === 1 ? '' : 's'} after ${update.after}${newest ? `, to ${newest.tag} (${newest.magic})` : ''}; written to ${path}\n`);
      return EXIT.clean;
    } catch (err) {
      if (err instanceof MagicUpdateError) throw new UsageError(`magic --update: ${err.message}; the table is unchanged`);
      throw err;
    }
  }
  if (flags.tagsUrl || flags.rawUrl) throw new UsageError('--tags-url and --raw-url go with --update');
  const table = await loadTable(flags.magicTable);
  const magics = args.map((a) => {
    const n = parseMagicArgument(a);
    if (n === null) throw new UsageError(`${a}: not a magic number (give 3627, 0x0e2b or the header bytes 2b0e0d0a)`);
    return n;
  });
  if (flags.format === 'json') {
    if (!magics.length) {
      // Each row says which table it is in: built-in, update (magic --update), or --magic-table.
      io.stdout.write(`${JSON.stringify(table.entries.map((e) => ({ ...magicEntryJson(e), origin: e.origin ?? 'built-in' })), null, 2)}\n`);
      return EXIT.clean;
    }
    // Every number asked for, in order; one the table does not know is a row saying so.
    const rows = magics.flatMap((m): object[] => {
      const known = table.entries.filter((e) => e.magic === m);
      return known.length ? known.map((e) => ({ ...magicEntryJson(e), origin: e.origin ?? 'built-in' })) : [{ magic: m, unknown: true }];
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
