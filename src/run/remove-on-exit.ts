// What a run made and must not leave behind — an --output report's temporary file, a channel's
// spilled records, --cache's copies folder — removed synchronously on exit (a crash's included)
// and on SIGINT, SIGTERM and SIGHUP, after which the signal is raised again so the process ends as
// the signal says (130 for SIGINT, 143 for SIGTERM). A link at the path is removed, never followed;
// a file is removed only as a file.
import { rmSync } from 'node:fs';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Each path, and whether it is a folder (removed with what it holds). */
const tracked = new Map<string, boolean>();
let hooked = false;

function removeAll(): void {
  for (const [path, folder] of tracked) {
    try {
      rmSync(path, { recursive: folder, force: true });
    } catch {
      // gone already, or not what was made there
    }
  }
  tracked.clear();
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.removeListener('exit', removeAll);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  unhook();
  process.kill(process.pid, signal); // ends the process as the signal would have
}

/** Removes `path` (a file, or a folder and what it holds) if the process exits or is signalled before forget(path). */
export function removeOnExit(path: string, kind: 'file' | 'folder'): void {
  tracked.set(path, kind === 'folder');
  if (hooked) return;
  hooked = true;
  process.on('exit', removeAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** `path` is taken care of (renamed into place, or removed by its owner): nothing to do for it at exit. */
export function forget(path: string): void {
  tracked.delete(path);
  if (!tracked.size) unhook();
}
