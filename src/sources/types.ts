/** A .pyc member of an artifact: where it is, how big, and its first (up to) 16 bytes. */
export interface PycMember {
  path: string;
  size: number;
  head: Buffer;
}

export type ArtifactKind = 'conda' | 'tar.bz2' | 'whl' | 'pyc';

/** Everything an audit keeps of one artifact after streaming through it. */
export interface ArtifactEntries {
  kind: ArtifactKind;
  pyc: PycMember[];
  /** Small metadata files read whole, by path inside the package (info/index.json). */
  metadata: Map<string, Buffer>;
}

export function emptyEntries(kind: ArtifactKind): ArtifactEntries {
  return { kind, pyc: [], metadata: new Map() };
}

/** A failure to read an input, with the reason a person can act on. */
export class InputError extends Error {
  constructor(message: string, readonly member?: string) {
    super(message);
    this.name = 'InputError';
  }
}
