// Reads a channel's index from a URL or a local folder: which subdirs it has, and the records of
// each subdir's repodata.json. The artifacts themselves are read later, by the audit.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { opendir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchDocument } from '../sources/http.js';
import { zstd } from '../sources/codecs.js';
import { parseRepodata, type ChannelRecord } from './repodata.js';

/** repodata.json is read whole: a bound well above the largest channel's (conda-forge linux-64 is a few hundred MB). */
const REPODATA_LIMIT = 2 * 1024 ** 3;
/** Subdirs looked for when a channel URL has no channeldata.json and no --subdir is given. */
const KNOWN_SUBDIRS = ['noarch', 'linux-64', 'linux-aarch64', 'linux-ppc64le', 'linux-s390x', 'osx-64', 'osx-arm64', 'win-64', 'win-arm64'];

export class ChannelError extends Error {}

export interface Channel {
  /** The channel as given, without a trailing slash. */
  source: string;
  isUrl: boolean;
  subdirs: string[];
  records: ChannelRecord[];
}

/** Where an artifact of the channel is: a URL, or a path in the folder. */
export function artifactLocation(channel: Pick<Channel, 'source' | 'isUrl'>, subdir: string, file: string): string {
  return channel.isUrl ? `${channel.source}/${encodeURIComponent(subdir)}/${encodeURIComponent(file)}` : join(channel.source, subdir, file);
}

async function readLocal(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ChannelError(`${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The subdirs to read: --subdir, else channeldata.json's list, else those with a repodata.json. */
async function findSubdirs(source: string, isUrl: boolean, timeoutSeconds: number): Promise<string[]> {
  if (!isUrl) {
    const found: string[] = [];
    for await (const entry of await opendir(source)) {
      if (entry.isDirectory() && (await stat(join(source, entry.name, 'repodata.json')).catch(() => null))) found.push(entry.name);
    }
    if (!found.length) throw new ChannelError(`${source}: no <subdir>/repodata.json: not a conda channel`);
    return found.sort();
  }
  const channeldata = await fetchDocument(`${source}/channeldata.json`, timeoutSeconds, 1 << 30).catch(() => null);
  if (channeldata) {
    try {
      const subdirs = (JSON.parse(channeldata.toString('utf8')) as { subdirs?: unknown }).subdirs;
      if (Array.isArray(subdirs) && subdirs.every((s) => typeof s === 'string' && /^[\w.-]+$/.test(s))) return [...(subdirs as string[])].sort();
    } catch {
      // not usable: fall back to the usual subdirs
    }
  }
  return KNOWN_SUBDIRS;
}

/** A zstd-compressed document, decompressed up to `limit` bytes. */
async function unzstd(bytes: Buffer, limit: number): Promise<Buffer> {
  const out: Buffer[] = [];
  let size = 0;
  await zstd().decode(
    (async function* () {
      yield bytes;
    })(),
    (chunk) => {
      size += chunk.length;
      if (size > limit) throw new Error(`larger than ${limit} bytes decompressed`);
      out.push(Buffer.from(chunk)); // the decoder reuses its output buffer
    },
  );
  return Buffer.concat(out);
}

/**
 * A subdir's repodata from a URL: repodata.json.zst where the channel has it (conda-forge
 * publishes one: JSON compresses several-fold), else repodata.json. null when there is neither.
 */
async function fetchRepodata(base: string, timeoutSeconds: number): Promise<{ bytes: Buffer; where: string } | null> {
  const compressed = await fetchDocument(`${base}/repodata.json.zst`, timeoutSeconds, REPODATA_LIMIT).catch(() => null);
  if (compressed) {
    try {
      return { bytes: await unzstd(compressed, REPODATA_LIMIT), where: `${base}/repodata.json.zst` };
    } catch {
      // a damaged .zst: the plain document is the authority anyway
    }
  }
  const plain = await fetchDocument(`${base}/repodata.json`, timeoutSeconds, REPODATA_LIMIT);
  return plain ? { bytes: plain, where: `${base}/repodata.json` } : null;
}

/**
 * Loads a channel's records. `subdirs` (from --subdir) must all exist; subdirs found by looking
 * may be missing (a channel without osx-arm64).
 */
export async function loadChannel(source: string, subdirs: readonly string[], timeoutSeconds: number): Promise<Channel> {
  const isUrl = /^https?:\/\//i.test(source);
  source = source.replace(/\/+$/, '');
  if (!isUrl) {
    const info = await stat(source).catch(() => null);
    if (!info?.isDirectory()) throw new ChannelError(`${source}: not a folder or an http(s) URL`);
  }
  const explicit = subdirs.length > 0;
  const wanted = explicit ? [...subdirs] : await findSubdirs(source, isUrl, timeoutSeconds);
  const records: ChannelRecord[] = [];
  const read: string[] = [];
  for (const subdir of wanted) {
    let where = isUrl ? `${source}/${subdir}/repodata.json` : join(source, subdir, 'repodata.json');
    let bytes: Buffer | null;
    try {
      if (isUrl) {
        const got = await fetchRepodata(`${source}/${subdir}`, timeoutSeconds);
        bytes = got?.bytes ?? null;
        where = got?.where ?? where;
      } else {
        bytes = await readLocal(where);
      }
    } catch (err) {
      throw new ChannelError(`${where}: ${(err as Error).message}`);
    }
    if (!bytes) {
      if (explicit) throw new ChannelError(`${where}: not found (is ${subdir} a subdir of this channel?)`);
      continue;
    }
    try {
      for (const record of parseRepodata(bytes, subdir)) records.push(record); // not push(...): 10^5 arguments overflow the stack
    } catch (err) {
      throw new ChannelError(`${where}: ${(err as Error).message}`);
    }
    read.push(subdir);
  }
  if (!read.length) throw new ChannelError(`${source}: no repodata.json in ${wanted.join(', ')}; give --subdir`);
  return { source, isUrl, subdirs: read, records };
}

/** SHA-256 of a local file, for the cache key of an artifact whose repodata gives none. */
export async function fileSha256(path: string): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch {
    return null; // unreadable: the audit will say why
  }
  return hash.digest('hex');
}
