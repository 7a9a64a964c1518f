// --cache DIR's private folders for artifact copies (DIR/.copies-HOST-PID-XXXXXX): one per run,
// removed at the end, on exit, and on SIGINT/SIGTERM/SIGHUP (Ctrl-C, a CI cancel:
// remove-on-exit.ts) before the process ends as the signal would end it. A run killed outright
// (SIGKILL, a power cut) leaves its folder; the next run removes it: a folder of this host whose
// process is gone, or any such folder (another host's, or one named before the PID was in the name)
// untouched for STALE_MS. Only directories named .copies-* directly in DIR are removed, never
// followed through a link.
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { forget, removeOnExit } from './remove-on-exit.js';

/** Another host's folder, or one this host cannot tell about, is stale after a day. */
export const STALE_MS = 24 * 3600 * 1000;

/** This host's name as it may stand in a file name. */
export const host = () => hostname().replace(/[^A-Za-z0-9.]/g, '_').slice(0, 64) || 'host';

/** Whether process `pid` of this host is running (another user's counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process: alive
  }
}

/** Whether DIR/name is a copies folder left by a run that is over. */
async function stale(dir: string, name: string, now: number): Promise<boolean> {
  if (!name.startsWith('.copies-')) return false;
  let stats;
  try {
    stats = await lstat(join(dir, name));
  } catch {
    return false;
  }
  if (!stats.isDirectory()) return false;
  const m = /^\.copies-(.+)-(\d{1,10})-[A-Za-z0-9]{6}$/.exec(name);
  if (m && m[1] === host() && Number(m[2]) !== process.pid) return !alive(Number(m[2]));
  return now - stats.mtimeMs > STALE_MS;
}

/** Removes the copies folders in `dir` that runs now over left behind; returns how many. */
export async function removeStaleCopies(dir: string, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (await stale(dir, name, now)) {
      await rm(join(dir, name), { recursive: true, force: true }).then(() => removed++, () => {});
    }
  }
  return removed;
}

/** A fresh copies folder in `dir` (stale ones removed first), removed on exit and on SIGINT/SIGTERM/SIGHUP too. */
export async function makeCopiesDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await removeStaleCopies(dir);
  const made = await mkdtemp(join(dir, `.copies-${host()}-${process.pid}-`));
  removeOnExit(made, 'folder');
  return made;
}

/** Removes a copies folder made by makeCopiesDir. */
export async function removeCopiesDir(made: string): Promise<void> {
  forget(made);
  await rm(made, { recursive: true, force: true }).catch(() => {});
}
