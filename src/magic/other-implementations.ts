import type { MagicEntry } from './types.js';

// Magic numbers written by Python implementations other than CPython. These do not come
// from one authoritative history like CPython's, so each row names what it rests on.
// PyPy 3.x numbers are `pypy_incremental_magic` (pypy/interpreter/pycode.py), bumped by 16
// and kept below 3000 so they never collide with CPython's.
type Row = Pick<MagicEntry, 'magic' | 'implementation' | 'version' | 'releases' | 'note' | 'source'> & { final?: boolean };

const ROWS: Row[] = [
  { magic: 62218, implementation: 'PyPy', version: '2.7', releases: 'PyPy 2.6.1 – 7.3.x (Python 2.7)', note: 'CPython 2.7 magic + 7', source: 'pypy/interpreter/pycode.py default_magic = (0xf303 + 7) (PyPy 2.7 branch)' },
  { magic: 48, implementation: 'PyPy', version: '3.2', releases: 'PyPy3 2.x (Python 3.2)', note: null, source: 'pypy_incremental_magic; as listed by xdis magics.py' },
  { magic: 64, implementation: 'PyPy', version: '3.3', releases: 'PyPy 5.x (Python 3.3)', note: null, source: 'pypy_incremental_magic; as listed by xdis magics.py' },
  { magic: 112, implementation: 'PyPy', version: '3.5', releases: 'PyPy 5.x – 7.0 (Python 3.5)', note: null, source: 'pypy/interpreter/pycode.py pypy_incremental_magic = 112 (py3.5 branch)' },
  { magic: 160, implementation: 'PyPy', version: '3.6', releases: 'PyPy 7.1 beta (Python 3.6)', note: 'superseded by 192', source: 'pypy_incremental_magic; as listed by xdis magics.py', final: false },
  { magic: 192, implementation: 'PyPy', version: '3.6', releases: 'PyPy 7.x (Python 3.6)', note: null, source: 'pypy_incremental_magic; as listed by xdis magics.py' },
  { magic: 224, implementation: 'PyPy', version: '3.7', releases: 'PyPy 7.3 beta (Python 3.7)', note: 'superseded by 240', source: 'pypy_incremental_magic; as listed by xdis magics.py', final: false },
  { magic: 240, implementation: 'PyPy', version: '3.7', releases: 'PyPy 7.3.x (Python 3.7)', note: null, source: 'pypy_incremental_magic; as listed by xdis magics.py' },
  { magic: 336, implementation: 'PyPy', version: '3.9', releases: 'PyPy 7.3.x (Python 3.9)', note: null, source: 'pypy/interpreter/pycode.py pypy_incremental_magic = 336 (py3.9 branch); Gentoo SLOT pypy39-pp73-336' },
  { magic: 384, implementation: 'PyPy', version: '3.10', releases: 'PyPy 7.3.x (Python 3.10)', note: null, source: 'pypy/interpreter/pycode.py pypy_incremental_magic = 384 (py3.10 branch); Gentoo SLOT pypy310-pp73-384' },
  { magic: 416, implementation: 'PyPy', version: '3.11', releases: 'PyPy 7.3.x (Python 3.11)', note: null, source: 'Gentoo dev-lang/pypy SLOT pypy311-pp73-416 ("check pypy/interpreter/pycode.py -> pypy_incremental_magic")' },
  { magic: 21150, implementation: 'GraalPy', version: '3.8', releases: 'GraalPython 20.x (Python 3.8)', note: 'the payload is GraalPy\'s own serialized tree, not CPython bytecode', source: 'as listed by xdis magics.py ("3.8.5Graal")' },
];

export const OTHER_IMPLEMENTATION_MAGICS: readonly MagicEntry[] = ROWS.map((r) => ({
  alsoVersions: [],
  firstRelease: r.releases,
  final: r.final ?? true,
  firstFinal: r.final === false ? null : r.releases,
  current: r.final !== false,
  commentTag: null,
  word: null,
  ...r,
}));
