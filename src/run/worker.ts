// A worker thread that reads artifacts for the main thread: decompression is CPU-bound, so each
// core gets its own. It sends back only what the audit keeps (16-byte heads and small metadata).
import { parentPort } from 'node:worker_threads';
import { readArtifact } from '../sources/index.js';
import type { ReadReply, ReadRequest } from './pool.js';

parentPort!.on('message', async ({ path, options }: ReadRequest) => {
  let reply: ReadReply;
  try {
    const entries = await readArtifact(path, options);
    reply = { ok: true, kind: entries.kind, pyc: entries.pyc, sources: entries.sources, pyo: entries.pyo, metadata: [...entries.metadata] };
  } catch (err) {
    reply = { ok: false, message: (err as Error).message || String(err) };
  }
  parentPort!.postMessage(reply);
});
