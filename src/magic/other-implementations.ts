import type { MagicEntry } from './types.js';

// Magic numbers written by Python implementations other than CPython. They do not come from one
// history like CPython's "Known values" comment, so each row names what it rests on: the file and
// line that defines the number at the release tags of the implementation's own repository (read
// with `git grep` at every release tag; README.md, "The magic table", gives the commands).
//
// PyPy 3.x writes `pypy_incremental_magic` (pypy/interpreter/pycode.py), bumped by 16 and kept
// below 3000 so it never collides with CPython's; PyPy 2.7 writes CPython 2.7's 62211 plus a
// small offset. A PyPy loads only its own number, so every number a final release wrote is that
// release's final magic: PyPy 3.9 7.3.8 wrote 320, 7.3.9 onward 336.
// GraalPy writes 21000 + 10 × the version of its serialized code format; its .pyc payload is
// GraalPy's own, not CPython bytecode. GraalPython 20.3 wrote CPython 3.8's 3413, which this
// table cannot tell from CPython's.
type Row = Pick<MagicEntry, 'magic' | 'implementation' | 'version' | 'releases' | 'note' | 'source'> & {
  final?: boolean;
  current?: boolean;
  /** Later minors whose releases wrote it too, and are final for it. */
  alsoVersions?: string[];
  /** The first final release, when not all of `releases` ("PyPy3.8 7.3.10"). */
  firstFinal?: string;
};

const PYCODE = 'pypy/interpreter/pycode.py';
const BOOTSTRAP = 'lib-python/3/importlib/_bootstrap_external.py';
const GRAAL_IMP = 'graalpython/com.oracle.graal.python/src/com/oracle/graal/python/builtins/modules/ImpModuleBuiltins.java';
const GRAAL_LANGUAGE = 'graalpython/com.oracle.graal.python/src/com/oracle/graal/python/PythonLanguage.java';

const ROWS: Row[] = [
  // ---- PyPy 2.7 ----
  { magic: 62213, implementation: 'PyPy', version: '2.7', releases: 'PyPy 1.5 – 2.0 (Python 2.7)', note: 'CPython 2.7 magic + 2', current: false, source: `${PYCODE}:31 default_magic = (168686339+2) | 0x0a0d0000 @ release-1.5, release-1.6, release-1.7, release-2.0-beta-1; from commit 7365961246a (2010-07-12)` },
  { magic: 62217, implementation: 'PyPy', version: '2.7', releases: 'PyPy 2.1/2.2 era (Python 2.7)', note: 'CPython 2.7 magic + 6; defined 2013-07-30 – 2014-01-18, no release tag in between to check', current: false, source: `${PYCODE} default_magic = (0xf303 + 6) from commit e968a41bcaf (2013-07-30) to d851973a435 (2014-01-18)` },
  { magic: 62218, implementation: 'PyPy', version: '2.7', releases: 'PyPy 2.3 – 7.3.23 (Python 2.7)', note: 'CPython 2.7 magic + 7', source: `${PYCODE}:34 default_magic = (0xf303 + 7) | 0x0a0d0000 @ release-2.3 … release-pypy2.7-v7.3.23 (from commit d851973a435, 2014-01-18)` },
  // ---- PyPy 3.x ----
  { magic: 48, implementation: 'PyPy', version: '3.2', releases: 'PyPy3 2.3 – 2.4 (Python 3.2)', note: null, source: `${PYCODE} pypy_incremental_magic = 48 from commit 52aa59c3e86 (2014-03-03, py3k branch; no release tag in the clone)` },
  { magic: 64, implementation: 'PyPy', version: '3.3', releases: 'PyPy3.3 5.2 – 5.5 alpha (Python 3.3)', note: null, source: `${PYCODE}:39 pypy_incremental_magic = 64 @ release-pypy3.3-v5.2` },
  { magic: 112, implementation: 'PyPy', version: '3.5', releases: 'PyPy3.5 5.7.0 – 7.0.0 (Python 3.5)', note: null, source: `${PYCODE} pypy_incremental_magic = 112 @ release-pypy3.5-v5.7.0 … release-pypy3.5-v7.0.0` },
  { magic: 160, implementation: 'PyPy', version: '3.6', releases: 'PyPy3.6 7.0.0 – 7.1.1 (Python 3.6)', note: null, current: false, source: `${PYCODE} pypy_incremental_magic = 160 @ release-pypy3.6-v7.0.0, v7.1.0, v7.1.1` },
  { magic: 192, implementation: 'PyPy', version: '3.6', releases: 'PyPy3.6 7.2.0 – 7.3.3 (Python 3.6)', note: null, source: `${PYCODE} pypy_incremental_magic = 192 @ release-pypy3.6-v7.2.0rc0 … release-pypy3.6-v7.3.3` },
  { magic: 224, implementation: 'PyPy', version: '3.7', releases: 'PyPy3.7 7.3.2 – 7.3.3 (Python 3.7)', note: null, current: false, source: `${PYCODE} pypy_incremental_magic = 224 @ release-pypy3.7-v7.3.2rc1 … release-pypy3.7-v7.3.3` },
  { magic: 240, implementation: 'PyPy', version: '3.7', releases: 'PyPy3.7 7.3.4 – 7.3.9 (Python 3.7)', note: null, source: `${PYCODE} pypy_incremental_magic = 240 @ release-pypy3.7-v7.3.4rc1 … release-pypy3.7-v7.3.9` },
  { magic: 3413, implementation: 'PyPy', version: '3.8', releases: 'PyPy3.8 7.3.6 – 7.3.9 (Python 3.8)', firstFinal: 'PyPy3.8 7.3.6', note: "CPython 3.8's magic, under the pypy38 cache tag", current: false, source: `${BOOTSTRAP}:342 MAGIC_NUMBER = (3413).to_bytes(2, 'little') + b'\\r\\n' @ release-pypy3.8-v7.3.6 (2021-10-17) … release-pypy3.8-v7.3.9 (2022-03-28), from commit c9993687e2f (2020-12-31); pypy/pypy issue #3782; fixed by 746b424ef983 (2022-07-24)` },
  { magic: 256, implementation: 'PyPy', version: '3.8', releases: 'PyPy3.8 7.3.10 – 7.3.11 (Python 3.8)', firstFinal: 'PyPy3.8 7.3.10', note: null, source: `${PYCODE} pypy_incremental_magic = 256 @ release-pypy3.8-v7.3.6rc1 … release-pypy3.8-v7.3.11; written only from 7.3.10 (2022-12-04: commit 746b424ef983, pypy/doc/release-v7.3.10.rst L287), before that ${BOOTSTRAP} wrote 3413` },
  { magic: 304, implementation: 'PyPy', version: '3.9', releases: null, note: "release candidates' pycode.py number (7.3.8rc1, rc2), never written: lib-python set MAGIC_NUMBER to 3425", final: false, source: `${PYCODE} pypy_incremental_magic = 304 @ release-pypy3.9-v7.3.8rc1, release-pypy3.9-v7.3.8rc2; overwritten by ${BOOTSTRAP}:349 (3425)` },
  { magic: 320, implementation: 'PyPy', version: '3.9', releases: null, note: "7.3.8's pycode.py number, never written: lib-python set MAGIC_NUMBER to 3425", final: false, source: `${PYCODE} pypy_incremental_magic = 320 @ release-pypy3.9-v7.3.8; overwritten by ${BOOTSTRAP}:349 (3425)` },
  { magic: 3425, implementation: 'PyPy', version: '3.9', releases: 'PyPy3.9 7.3.8 – 7.3.9 (Python 3.9)', firstFinal: 'PyPy3.9 7.3.8', note: "CPython 3.9's magic, under the pypy39 cache tag", current: false, source: `${BOOTSTRAP}:349 MAGIC_NUMBER = (3425).to_bytes(2, 'little') + b'\\r\\n' @ release-pypy3.9-v7.3.8 (2022-02-19), release-pypy3.9-v7.3.9 (2022-03-29), from commit c9993687e2f (2020-12-31); pypy/pypy issue #3782 (abc.pypy39.pyc began 61 0d 0d 0a); fixed by 746b424ef983 (2022-07-24)` },
  { magic: 336, implementation: 'PyPy', version: '3.9', releases: 'PyPy3.9 7.3.10 – 7.3.16 (Python 3.9)', firstFinal: 'PyPy3.9 7.3.10', note: null, source: `${PYCODE} pypy_incremental_magic = 336 @ release-pypy3.9-v7.3.9 … release-pypy3.9-v7.3.16; written only from 7.3.10 (2022-12-03: commit 746b424ef983), before that ${BOOTSTRAP} wrote 3425` },
  { magic: 384, implementation: 'PyPy', version: '3.10', releases: 'PyPy3.10 7.3.12 – 7.3.19 (Python 3.10)', note: null, source: `${PYCODE} pypy_incremental_magic = 384 @ release-pypy3.10-v7.3.12rc1 … release-pypy3.10-v7.3.19` },
  { magic: 400, implementation: 'PyPy', version: '3.11', releases: 'PyPy3.11 7.3.18 (Python 3.11)', note: null, current: false, source: `${PYCODE} pypy_incremental_magic = 400 @ release-pypy3.11-v7.3.18` },
  { magic: 416, implementation: 'PyPy', version: '3.11', releases: 'PyPy3.11 7.3.19 – 7.3.22 (Python 3.11)', note: null, current: false, source: `${PYCODE} pypy_incremental_magic = 416 @ release-pypy3.11-v7.3.19 … release-pypy3.11-v7.3.22` },
  { magic: 432, implementation: 'PyPy', version: '3.11', releases: 'PyPy3.11 7.3.23 (Python 3.11)', note: null, source: `${PYCODE} pypy_incremental_magic = 432 @ release-pypy3.11-v7.3.23` },
  { magic: 448, implementation: 'PyPy', version: '3.12', releases: null, note: 'py3.12 development branch, never in a release', final: false, source: `${PYCODE} pypy_incremental_magic = 448 from commit 71ce9406c92 (2026-07-18, branch py3.12)` },
  // ---- GraalPy ----
  { magic: 21070, implementation: 'GraalPy', version: '3.8', releases: 'GraalPython 21.0 (Python 3.8)', note: 'GraalPy serialized code, not CPython bytecode', current: false, source: `${GRAAL_IMP} MAGIC_NUMBER = 21000 + SerializationUtils.VERSION (7) * 10 @ vm-21.0.0` },
  { magic: 21090, implementation: 'GraalPy', version: '3.8', releases: 'GraalPython 21.1 (Python 3.8)', note: 'GraalPy serialized code, not CPython bytecode', current: false, source: `${GRAAL_IMP} MAGIC_NUMBER = 21000 + SerializationUtils.VERSION (9) * 10 @ vm-21.1.0` },
  { magic: 21130, implementation: 'GraalPy', version: '3.8', releases: 'GraalPython 21.2 (Python 3.8)', note: 'GraalPy serialized code, not CPython bytecode', current: false, source: `${GRAAL_IMP} MAGIC_NUMBER = 21000 + SerializationUtils.VERSION (13) * 10 @ vm-21.2.0` },
  { magic: 21150, implementation: 'GraalPy', version: '3.8', releases: 'GraalPython 21.3 – 22.3 (Python 3.8)', note: 'GraalPy serialized code, not CPython bytecode', source: `${GRAAL_IMP} MAGIC_NUMBER = 21000 + SerializationUtils.VERSION (15) * 10 @ vm-21.3.0 … vm-22.3.3` },
  { magic: 21210, implementation: 'GraalPy', version: '3.8', releases: 'GraalPython 22.2, bytecode interpreter option (Python 3.8)', note: 'written only with --python.EnableBytecodeInterpreter', current: false, source: `${GRAAL_IMP} MAGIC_NUMBER_BYTECODE = 21000 + Compiler.BYTECODE_VERSION (21) * 10 @ vm-22.2.0` },
  { magic: 21260, implementation: 'GraalPy', version: '3.8', releases: 'GraalPython 22.3, bytecode interpreter option (Python 3.8)', note: 'written only with --python.EnableBytecodeInterpreter', source: `${GRAAL_IMP} MAGIC_NUMBER_BYTECODE = 21000 + Compiler.BYTECODE_VERSION (26) * 10 @ vm-22.3.0 … vm-22.3.3` },
  { magic: 21270, implementation: 'GraalPy', version: '3.10', releases: 'GraalPy 23.0 (Python 3.10)', note: 'GraalPy bytecode, not CPython bytecode', current: false, source: `${GRAAL_IMP} MAGIC_NUMBER = 21000 + Compiler.BYTECODE_VERSION (27) * 10 @ vm-23.0.0 … vm-23.0.3` },
  { magic: 21280, implementation: 'GraalPy', version: '3.10', releases: 'GraalPy 23.1 – 24.0 (Python 3.10)', note: 'GraalPy bytecode, not CPython bytecode', source: `${GRAAL_IMP} MAGIC_NUMBER = 21000 + Compiler.BYTECODE_VERSION (28) * 10 @ vm-23.1.0 … vm-24.0.2` },
  { magic: 21290, implementation: 'GraalPy', version: '3.11', alsoVersions: ['3.12'], releases: 'GraalPy 24.1 – 24.2 (Python 3.11), 25.0 (Python 3.12)', note: 'GraalPy bytecode, not CPython bytecode', current: false, source: `${GRAAL_IMP} MAGIC_NUMBER = 21000 + Compiler.BYTECODE_VERSION (29) * 10 @ vm-24.1.0 … vm-25.0.4.1` },
  { magic: 21320, implementation: 'GraalPy', version: '3.12', releases: 'GraalPy 25.1 (Python 3.12)', note: 'GraalPy bytecode, not CPython bytecode', current: false, source: `${GRAAL_LANGUAGE} MAGIC_NUMBER = 21000 + Compiler.BYTECODE_VERSION (32) * 10 @ vm-25.1.3` },
  { magic: 21330, implementation: 'GraalPy', version: '3.12', alsoVersions: ['3.13'], releases: 'GraalPy 25.2 (Python 3.12), 25.3 (Python 3.13)', note: 'GraalPy Bytecode DSL, not CPython bytecode', source: `${GRAAL_LANGUAGE} MAGIC_NUMBER = 21000 + BytecodeDSLCompiler.BYTECODE_VERSION (33) * 10 @ vm-25.2.4, vm-25.3.4.1` },
];

export const OTHER_IMPLEMENTATION_MAGICS: readonly MagicEntry[] = ROWS.map((r) => {
  const final = r.final ?? true;
  const alsoVersions = r.alsoVersions ?? [];
  return {
    magic: r.magic,
    implementation: r.implementation,
    version: r.version,
    alsoVersions,
    releases: r.releases,
    firstRelease: r.releases,
    final,
    finalFor: final ? [r.version, ...alsoVersions] : [],
    firstFinal: final ? (r.firstFinal ?? r.releases) : null,
    current: r.current ?? final,
    commentTag: null,
    note: r.note,
    source: r.source,
  };
});
