// Wheels and other zips of bytecode: every .pyc, .py and .pyo is a zip member itself, read
// through the same keep policy as a tar member (16 bytes of a .pyc, a record of a .py, whose
// body is hashed when its checked-hash .pyc came first). A zip records local time without a
// zone, so the times of its .py are not compared (their sizes are).
import { spend, type MemberCollector, type ScanOptions } from './tar-members.js';
import { InputError } from '../types.js';

const WHEEL_MARKER = /^[^/]+\.dist-info\/WHEEL$/;

/** The member that makes a zip a wheel. */
export function isWheelMarker(name: string): boolean {
  return WHEEL_MARKER.test(name);
}

const NOTHING = Buffer.alloc(0);

/**
 * One member: `size` is its uncompressed size as the zip states it, `open` gives its uncompressed
 * bytes (and is not called for a member the audit does not read).
 */
export async function readZipMember(name: string, size: number, open: () => Promise<AsyncIterable<Buffer>>, into: MemberCollector, scan: ScanOptions): Promise<void> {
  if (name.endsWith('/')) return; // a folder
  const decision = into.keep(name, size);
  if (decision === 0) return;
  const keep = typeof decision === 'number' ? decision : decision.keep;
  const observer = typeof decision === 'number' ? null : decision.observer;
  if (!keep && !observer) {
    into.member(name, size, NOTHING, null);
    return;
  }
  const kept: Buffer[] = [];
  let keptLength = 0;
  let total = 0;
  try {
    for await (const chunk of await open()) {
      spend(scan.budget, chunk.length);
      total += chunk.length;
      if (keptLength < keep) {
        const part = chunk.subarray(0, keep - keptLength);
        kept.push(Buffer.from(part));
        keptLength += part.length;
      }
      observer?.update(chunk);
      if (!observer && keptLength >= keep) break; // the head is all that is wanted
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${name}: ${(err as Error).message}`, name);
  }
  // Read whole (a source hashed): its bytes must be the size the zip states, which was reported.
  if (observer && total !== size) throw new InputError(`${name}: the zip states ${size} bytes, its data holds ${total}`, name);
  into.member(name, size, Buffer.concat(kept, keptLength), null);
}
