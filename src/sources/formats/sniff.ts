// Which format an input is, from its first bytes.
export type Format = 'zip' | 'tar.bz2' | 'tar.gz' | 'tar' | 'pyc';

/** The format, from the first bytes (the name only breaks a tie: a .pyc too short to show its magic). */
export function sniff(first: Buffer, name: string): Format | null {
  if (first.length >= 4 && first.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (first.length >= 3 && first.toString('latin1', 0, 3) === 'BZh') return 'tar.bz2';
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) return 'tar.gz';
  if (first.length >= 262 && first.toString('latin1', 257, 262) === 'ustar') return 'tar';
  if (name.endsWith('.pyc') || (first.length >= 4 && first[2] === 0x0d && first[3] === 0x0a)) return 'pyc';
  return null;
}
