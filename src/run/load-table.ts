// --magic-table FILE: the built-in magic table with the user's rows added; a bad file is a usage error.
import { MagicTable } from '../magic/table.js';
import { loadUserTable, MagicTableError } from '../magic/user-table.js';
import { UsageError } from './exit.js';

export async function loadTable(path: string | undefined): Promise<MagicTable> {
  if (!path) return MagicTable.builtIn();
  try {
    return MagicTable.builtIn(await loadUserTable(path));
  } catch (err) {
    if (err instanceof MagicTableError) throw new UsageError(err.message);
    throw err;
  }
}
