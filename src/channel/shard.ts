// --shard K/N: a partition of a channel's artifacts that N machines compute alike with no
// coordination. An artifact's shard is a hash of its subdir and file name, so it stays in the same
// shard however the channel grows or shrinks between the machines' reads of repodata. Pure.
import { createHash } from 'node:crypto';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) throw new Error('expected K/N, such as 1/4 (shard K of N, counting from 1)');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new Error(`${value}: K must be between 1 and N`);
  return { index, count };
}

/** The shard (1-based) of an artifact, from the first 4 bytes of SHA-256("subdir/file"). */
export function shardOf(subdir: string, file: string, count: number): number {
  const digest = createHash('sha256').update(`${subdir}/${file}`).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}
