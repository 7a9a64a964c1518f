// The conda package format (.conda): a zip holding metadata.json, info-*.tar.zst and
// pkg-*.tar.zst. Each component is a zstd-compressed tarball, streamed through the tar walker.
// Which zip members are components, and what a zip that is not a package is told, live here only.
import { zstd } from './codecs.js';
import { scanTarball, type MemberCollector, type ScanOptions } from './tar-members.js';
import { InputError } from './types.js';

const COMPONENT = /^(info|pkg)-.+\.tar\.zst$/;

/** A member that is one of a .conda's tarballs. */
export function isComponent(name: string): boolean {
  return COMPONENT.test(name);
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
  throw new InputError(`not a conda package: the zip has no pkg-*.tar.zst (it holds ${count} entries${listed ? `: ${listed}${count > 3 ? ', …' : ''}` : ''})`);
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
