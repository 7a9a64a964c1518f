// Whether a file holds a .conda package, from its first bytes (conda-zip.ts), before it is read.
// Never from its name: a .conda renamed is still one, and a .tar.bz2 named .conda is not.
import { openRegular } from '../access/regular-file.js';
import { readFirst } from '../access/access.js';
import { startsAsConda } from './conda-zip.js';

/** False for anything else, unreadable files included (reading them says why). */
export async function isCondaPackage(path: string): Promise<boolean> {
  let opened;
  try {
    opened = await openRegular(path, { follow: true });
  } catch {
    return false;
  }
  try {
    return startsAsConda(await readFirst(opened.handle, opened.stats.size));
  } catch {
    return false;
  } finally {
    await opened.handle.close().catch(() => {});
  }
}
