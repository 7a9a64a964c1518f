// Reads artifacts on the main thread and on `size - 1` worker threads, one artifact per thread at
// a time. The main thread takes a share because a worker costs time to start (docs/performance.md):
// with 2 cores, main + 1 worker beats 2 workers.
import { Worker } from 'node:worker_threads';
import { readArtifact, readTarget, type ReadOptions } from '../sources/index.js';
import type { Target } from '../sources/folders/targets.js';
import type { ArtifactEntries, ArtifactKind, PycMember, SourceMember } from '../sources/types.js';
import { InputError } from '../sources/types.js';

export interface ReadRequest {
  path: string;
  options: ReadOptions;
}
export type ReadReply =
  | { ok: true; kind: ArtifactKind; pyc: PycMember[]; sources: SourceMember[]; pyo: string[]; metadata: [string, Uint8Array][] }
  | { ok: false; message: string };

interface Pending {
  resolve: (e: ArtifactEntries) => void;
  reject: (err: Error) => void;
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class ReaderPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly queue: { request: ReadRequest; pending: Pending }[] = [];
  private readonly inFlight = new Map<Worker, { request: ReadRequest; pending: Pending }>();

  constructor(
    private readonly size: number,
    private readonly options: ReadOptions = {},
  ) {}

  /** Artifact files go to the threads; folders (I/O, not decoding) are read here. */
  read = (target: Target, extra: Pick<ReadOptions, 'hashOnly'> = {}): Promise<ArtifactEntries> => {
    const options = { ...this.options, ...extra };
    if (target.kind !== 'file') return readTarget(target, options);
    const path = target.path;
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { path, options }, pending: { resolve, reject } });
      this.pump();
    });
  };

  /** Artifacts the worker threads read (PYC_AUDIT_DEBUG=threads reports it when the pool closes). */
  private onThreads = 0;

  async close(): Promise<void> {
    if (process.env.PYC_AUDIT_DEBUG === 'threads') process.stderr.write(`pyc-audit: debug: ${this.onThreads} artifacts read on ${this.all.size} reader threads\n`);
    await Promise.all([...this.all].map((w) => w.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    this.all.add(worker);
    worker.on('message', (reply: ReadReply) => {
      const job = this.inFlight.get(worker);
      this.inFlight.delete(worker);
      this.idle.push(worker);
      if (job) {
        if (reply.ok) {
          job.pending.resolve({
            kind: reply.kind,
            pyc: reply.pyc.map((p) => ({ path: p.path, size: p.size, head: asBuffer(p.head) })),
            sources: reply.sources,
            pyo: reply.pyo,
            metadata: new Map(reply.metadata.map(([k, v]) => [k, asBuffer(v)])),
          });
        } else {
          job.pending.reject(new InputError(reply.message));
        }
      }
      this.pump();
    });
    // A worker that dies takes only its own artifact with it.
    const fail = (err: Error) => {
      const job = this.inFlight.get(worker);
      this.inFlight.delete(worker);
      this.all.delete(worker);
      job?.pending.reject(new InputError(`reader thread failed: ${err.message}`));
      this.pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.all.has(worker)) fail(new Error(`exited with code ${code}`));
    });
    return worker;
  }

  private mainBusy = false;

  private pump(): void {
    while (this.queue.length) {
      if (!this.mainBusy) {
        const job = this.queue.shift()!;
        this.mainBusy = true;
        readArtifact(job.request.path, job.request.options)
          .then(job.pending.resolve, job.pending.reject)
          .finally(() => {
            this.mainBusy = false;
            this.pump();
          });
        continue;
      }
      const worker = this.idle.pop() ?? (this.all.size < this.size - 1 ? this.spawn() : null);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.inFlight.set(worker, job);
      this.onThreads++;
      worker.postMessage(job.request);
    }
  }
}
