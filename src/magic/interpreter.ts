// --interpreter PATH: ask the target Python itself which magic it loads. The interpreter is run
// once, with a deadline and a bound on what it may print; parsing its answer is pure.
import { execFile } from 'node:child_process';
import type { TargetMagic } from './table.js';

export class InterpreterError extends Error {}

/** What the interpreter said about itself. */
export interface InterpreterInfo {
  magic: number;
  implementation: string;
  /** Minor version, "3.15". */
  version: string;
  /** The release, as Python names its tags: "3.15.0", "3.15.0rc3". */
  release: string;
  cacheTag: string | null;
}

// Runs on Python 2.7 and 3.x alike (no f-strings; imp where importlib.util is missing).
const PROBE = `import sys, json
try:
    from importlib.util import MAGIC_NUMBER as m
except ImportError:
    import imp
    m = imp.get_magic()
impl = getattr(sys, 'implementation', None)
name = impl.name if impl is not None else ('pypy' if 'PyPy' in sys.version else 'cpython')
tag = getattr(impl, 'cache_tag', None)
print(json.dumps({'magic': list(bytearray(m[:4])), 'version_info': list(sys.version_info[:5]), 'name': name, 'cache_tag': tag}))
`;

/** The most the probe may print (its answer is about 150 bytes). */
const MAX_OUTPUT = 64 << 10;

const NAMES: Record<string, string> = { cpython: 'CPython', pypy: 'PyPy', graalpy: 'GraalPy', graalpython: 'GraalPy' };
const LEVELS: Record<string, string> = { alpha: 'a', beta: 'b', candidate: 'rc', final: '' };

/** Parses the probe's one line of JSON; throws InterpreterError saying what is wrong. */
export function parseInterpreterReport(stdout: string): InterpreterInfo {
  let data: unknown;
  try {
    data = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    throw new InterpreterError('did not print what a Python interpreter prints');
  }
  const d = data as { magic?: unknown; version_info?: unknown; name?: unknown; cache_tag?: unknown };
  const magic = d.magic;
  const vi = d.version_info;
  if (!Array.isArray(magic) || magic.length !== 4 || !magic.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
    throw new InterpreterError('gave no magic number');
  }
  if (!Array.isArray(vi) || vi.length < 5 || !Number.isInteger(vi[0]) || !Number.isInteger(vi[1]) || !Number.isInteger(vi[2])) {
    throw new InterpreterError('gave no version');
  }
  if (magic[2] !== 0x0d || magic[3] !== 0x0a) throw new InterpreterError(`magic bytes ${Buffer.from(magic).toString('hex')} do not end in \\r\\n`);
  const name = typeof d.name === 'string' ? d.name : 'cpython';
  const level = LEVELS[String(vi[3])] ?? String(vi[3]);
  return {
    magic: magic[0] | (magic[1] << 8),
    implementation: NAMES[name] ?? name,
    version: `${vi[0]}.${vi[1]}`,
    release: `${vi[0]}.${vi[1]}.${vi[2]}${level ? `${level}${vi[4]}` : ''}`,
    cacheTag: typeof d.cache_tag === 'string' ? d.cache_tag : null,
  };
}

/** Runs `path` once (no site, no PYTHON* variables) and parses what it says. */
export function probeInterpreter(path: string, timeoutSeconds = 30): Promise<InterpreterInfo> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ['-E', '-S', '-c', PROBE],
      { timeout: timeoutSeconds * 1000, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number | null };
          let reason: string;
          if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') reason = `printed more than ${MAX_OUTPUT} bytes`;
          else if (e.killed || e.signal === 'SIGKILL') reason = `no answer within ${timeoutSeconds} s`;
          else if (typeof e.code === 'string') reason = `cannot run it (${e.code})`; // ENOENT, EACCES
          else reason = `exited with ${e.code ?? e.signal}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)!.slice(0, 200)}` : ''}`;
          reject(new InterpreterError(reason));
          return;
        }
        try {
          resolve(parseInterpreterReport(stdout));
        } catch (parseErr) {
          reject(parseErr);
        }
      },
    );
  });
}

/** The table row the interpreter's answer becomes: the expected final magic of its minor. */
export function interpreterTarget(info: InterpreterInfo, path: string): TargetMagic {
  const who = info.implementation === 'CPython' ? info.release : `${info.implementation} ${info.release}`;
  return {
    magic: info.magic,
    implementation: info.implementation,
    version: info.version,
    releases: `${who} (--interpreter)`,
    source: `--interpreter ${path}: importlib.util.MAGIC_NUMBER of ${who}${info.cacheTag ? ` (${info.cacheTag})` : ''}`,
  };
}
