// The conda package format (.conda): a zip holding metadata.json, info-*.tar.zst and
// pkg-*.tar.zst. Each component is a zstd-compressed tarball, streamed through the tar walker.
// Which zip members are components, and what a zip that is not a package is told, live here only.
import { zstd } from '../codecs/codecs.js';
import { scanTarball, type MemberCollector, type ScanOptions } from './tar-members.js';
import { InputError } from '../types.js';

const COMPONENT = /^(info|pkg)-.+\.tar\.zst$/;

/** A member that is one of a .conda's tarballs. */
export function isComponent(name: string): boolean {
  return COMPONENT.test(name);
}

/** A .conda's members: metadata.json and its components; nothing else. */
const MEMBER = /^(metadata\.json|(info|pkg)-.+\.tar\.zst)$/;

/**
 * Whether a zip's first bytes (its first local header) name a member only a .conda holds: its
 * bytes say it is one, whatever the file is called.
 */
export function startsAsConda(first: Buffer): boolean {
  if (first.length < 30 || first.readUInt32LE(0) !== 0x04034b50) return false;
  const nameLength = first.readUInt16LE(26);
  return first.length >= 30 + nameLength && MEMBER.test(first.toString('latin1', 30, 30 + nameLength));
}

/** info-*.tar.zst: small, says which Python the package targets, holds info/index.json and info/paths.json. */
export function isInfoComponent(name: string): boolean {
  return isComponent(name) && name.startsWith('info-');
}

/** Whether the component decoder is done with each input chunk before asking for the next. */
export function componentInputReusable(): boolean {
  return zstd().consumesSynchronously;
}

/** A file name that says the artifact is a .conda package. */
export function namedConda(name: string): boolean {
  return /\.conda$/i.test(name);
}

/**
 * Checks that a zip with components is a whole package, and that one named .conda has them:
 * `count` members, the first few of them `names`.
 */
export function checkPackage(name: string, components: number, pkg: boolean, count: number, names: readonly string[]): void {
  if (pkg || (!components && !namedConda(name))) return;
  const listed = names.slice(0, 3).join(', ');
  throw new InputError(`not a conda package: the zip has no pkg-*.tar.zst (it holds ${count} entr${count === 1 ? 'y' : 'ies'}${listed ? `: ${listed}${count > 3 ? ', …' : ''}` : ''})`);
}

/** Streams one component (its zstd bytes) into the collector. */
export async function readComponent(name: string, compressed: AsyncIterable<Buffer>, into: MemberCollector, scan: ScanOptions): Promise<void> {
  const codec = zstd();
  try {
    await scanTarball((sink) => codec.decode(compressed, sink), into, scan);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${name}: ${(err as Error).message}`, name);
  }
}
