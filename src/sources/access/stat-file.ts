// stat() as a promise through node:fs's callback API. node:fs/promises (fs.promises too) loads
// readline, the REPL's history and the file watchers with it: a run on one small .conda loaded it
// for a stat alone (docs/performance.md). What opens FileHandles still loads it, when it runs.
import { stat as statCallback, type Stats } from 'node:fs';

export function stat(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => statCallback(path, (err, stats) => (err ? reject(err) : resolve(stats))));
}
