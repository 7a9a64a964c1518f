/** A .pyc member of an artifact: where it is, how big, and its first (up to) 16 bytes. */
export interface PycMember {
  path: string;
  size: number;
  head: Buffer;
}

/** A .py member: what CPython compares a timestamp .pyc with, and the source hashes asked for. */
export interface SourceMember {
  path: string;
  size: number;
  /** Modification time in whole seconds; null where the format records none worth comparing (zip). */
  mtime: number | null;
  /** Source hashes computed while the body streamed past, by hashKey(magic, rounds). */
  hashes?: Map<string, string>;
}

export type ArtifactKind = 'conda' | 'tar.bz2' | 'tar.gz' | 'tar' | 'whl' | 'zip' | 'pyc' | 'folder' | 'env' | 'dir';

/** Everything an audit keeps of one artifact after streaming through it. */
export interface ArtifactEntries {
  kind: ArtifactKind;
  pyc: PycMember[];
  /** .py members, kept as small records (never their bytes). */
  sources: SourceMember[];
  /** Paths of .pyo members (Python 2's optimized bytecode, which Python 3.5+ ignores). */
  pyo: string[];
  /** Small metadata files read whole, by path inside the package (info/index.json). */
  metadata: Map<string, Buffer>;
  /** Folders: entries the walk could not read (path and reason). */
  unreadable?: string[];
  /** Environments: which installed package owns each file (conda-meta/*.json). */
  owners?: Map<string, string>;
  /** Environments: the minor version of the python conda-meta lists. */
  envPython?: string | null;
  /**
   * A loose .pyc or a __pycache__ folder: the sources are only those its .pyc name, looked up on
   * disk, so a source without a .pyc here is not a finding.
   */
  contextSources?: boolean;
  /** What the reader wants said about how it read (the archive beside a folder, disagreements). */
  notes?: string[];
}

export function emptyEntries(kind: ArtifactKind): ArtifactEntries {
  return { kind, pyc: [], sources: [], pyo: [], metadata: new Map() };
}

/** A failure to read an input, with the reason a person can act on. */
export class InputError extends Error {
  constructor(message: string, readonly member?: string) {
    super(message);
    this.name = 'InputError';
  }
}
