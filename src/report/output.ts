// Where reports are written, and how: a file given with --output is written to a temporary file
// in the same folder and renamed over the target only when the run ends well, so a run that is
// killed (SIGTERM, SIGINT, SIGHUP), fails or is cut off leaves the previous report as it was. An
// ndjson report continued with --resume is appended to in place instead (each line is whole when
// written). A device or FIFO (/dev/stdout, /dev/full, `>(gzip > x)`) is written directly. Every
// write error is kept and said once, as one line naming the file.
// node:fs/promises through fs.promises, loaded when an --output file is written (src/sources/access/stat-file.ts says why).
import { constants, createWriteStream, promises, unlinkSync, type WriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Stats } from 'node:fs';
import { FORMATS, type Format } from './formats.js';
import { didYouMean } from '../run/did-you-mean.js';
import { printable } from './escape.js';
import { forget, removeOnExit } from '../run/remove-on-exit.js';
import { describeFileError } from '../sources/access/regular-file.js';

/** node:crypto only when an --output file is written: it costs start-up time (docs/performance.md). */
const randomHex = () => (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomBytes(4).toString('hex');

/** A problem with --output (a bad path, a write that failed), as opposed to a problem with an input. */
export class OutputError extends Error {}

export interface OutputSpec {
  format: Format;
  /** As the user gave it. */
  path: string;
}

export interface OutputPlan {
  /** The format printed on stdout, or null when a plain --output FILE takes the report (the text summary is printed then). */
  stdoutFormat: Format | null;
  files: (OutputSpec & { target: string; mode: 'atomic' | 'direct'; existing: Stats | null })[];
}

/**
 * --output values: `FILE` (the report in --format; once) or `FORMAT=FILE` (repeatable: several
 * reports from one read). A file whose name starts with a format and `=` is given as `./json=x`;
 * one that starts with another word and `=` (`xml=a.xml`, `JSON=a.json`) is taken for a mistyped
 * format and refused, never written as a text report under that name.
 */
export function parseOutputs(values: readonly string[], format: Format): { stdoutFormat: Format | null; specs: OutputSpec[] } {
  const specs: OutputSpec[] = [];
  let plain = 0;
  for (const value of values) {
    const m = /^([A-Za-z][A-Za-z0-9-]*)=(.*)$/.exec(value);
    if (m && (FORMATS as readonly string[]).includes(m[1]!)) {
      if (!m[2]) throw new OutputError(`--output ${printable(value)}: no file after ${m[1]}=`);
      specs.push({ format: m[1] as Format, path: m[2] });
    } else if (m) {
      const hint = didYouMean(m[1]!, FORMATS);
      throw new OutputError(
        `--output ${printable(value)}: '${printable(m[1]!)}' is not a format${hint ? ` (did you mean '${hint}'?)` : ` (${FORMATS.join(', ')})`}; a file of that name is given as ./${printable(value)}`,
      );
    } else {
      if (!value) throw new OutputError('--output: an empty file name');
      if (++plain > 1) throw new OutputError('--output FILE can be given once; give the other reports as FORMAT=FILE (--output sarif=a.sarif)');
      specs.push({ format, path: value });
    }
  }
  return { stdoutFormat: plain ? null : format, specs };
}

/**
 * A link another user planted in a shared sticky folder (/tmp) is not followed, as Linux's
 * fs.protected_symlinks would stop a shell redirect: the rename would replace the file the link
 * points to (another user's, or one of ours they chose). Followed only when the link is ours, or
 * the folder's owner's, or the folder is not sticky and world-writable.
 */
async function refuseForeignLink(path: string, name: string): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  const link = await promises.lstat(path).catch(() => null);
  if (!link?.isSymbolicLink() || link.uid === uid) return;
  const dir = await promises.stat(dirname(resolve(path))).catch(() => null);
  if (!dir || (dir.mode & 0o1002) !== 0o1002 || dir.uid === link.uid) return;
  throw new OutputError(`${name}: a link owned by another user in a shared sticky folder: not followed (give the file it points to, or another name)`);
}

/** dev:ino of a file, the key that tells two names of one file apart from two files. */
export const fileKey = (s: Stats) => `${s.dev}:${s.ino}`;

/**
 * Checks every output before anything is written: its folder exists, it is not a folder, not one
 * of the inputs (`inputs`: their fileKeys, asked for only when an output exists; `--output build/*.conda` after a shell glob would empty
 * an input), not given twice. A link is resolved, so the rename replaces the file it points to.
 */
export async function planOutputs(values: readonly string[], format: Format, inputs: () => Promise<ReadonlySet<string>>): Promise<OutputPlan> {
  let inputKeys: ReadonlySet<string> | null = null;
  const { stdoutFormat, specs } = parseOutputs(values, format);
  const plan: OutputPlan = { stdoutFormat, files: [] };
  const seen = new Set<string>();
  for (const spec of specs) {
    const name = `--output ${printable(spec.path)}`;
    await refuseForeignLink(spec.path, name);
    let existing: Stats | null = null;
    try {
      existing = await promises.stat(spec.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new OutputError(`${name}: ${describeFileError(err)}`);
    }
    let target: string;
    if (existing) {
      if (existing.isDirectory()) throw new OutputError(`${name}: is a folder; give a file name`);
      inputKeys ??= await inputs();
      if (inputKeys.has(fileKey(existing))) throw new OutputError(`${name}: is one of the inputs; writing the report there would destroy it`);
      target = existing.isFile() ? await promises.realpath(spec.path) : spec.path;
    } else {
      const folder = dirname(resolve(spec.path));
      let dir: Stats;
      try {
        dir = await promises.stat(folder);
      } catch (err) {
        throw new OutputError((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${name}: no such folder ${printable(dirname(spec.path))}` : `${name}: ${printable(dirname(spec.path))}: ${describeFileError(err)}`);
      }
      if (!dir.isDirectory()) throw new OutputError(`${name}: ${printable(dirname(spec.path))} is not a folder`);
      target = resolve(spec.path);
    }
    const key = existing ? fileKey(existing) : target;
    if (seen.has(key)) throw new OutputError(`${name}: given twice`);
    seen.add(key);
    plan.files.push({ ...spec, target, existing, mode: existing && !existing.isFile() ? 'direct' : 'atomic' });
  }
  return plan;
}

/** One report file being written. Writes after an error are dropped; the error is kept for close(). */
export class OutputFile {
  /** The first write error, as one line (`--output FILE: ENOSPC: no space left on device`). */
  error: string | null = null;
  private constructor(
    readonly path: string,
    private readonly stream: WriteStream,
    private readonly handle: FileHandle | null,
    private readonly temp: string | null,
    private readonly target: string,
    private readonly onError: (line: string) => void,
  ) {
    stream.on('error', (err) => this.fail(err));
  }

  /**
   * `atomic`: a new file beside `target`, renamed over it by commit() (keeping the mode of the
   * file it replaces); `append`: `target` itself, appended to; `direct`: a device or FIFO.
   */
  static async open(path: string, target: string, mode: 'atomic' | 'append' | 'direct', onError: (line: string) => void, replacing: Stats | null = null): Promise<OutputFile> {
    const name = `--output ${printable(path)}`;
    try {
      if (mode === 'atomic') {
        const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomHex()}.tmp`);
        // Watched before the open that creates it: a crash (exit on 'uncaughtException') between the
        // file's creation and the open's callback must still remove it.
        removeOnExit(temp, 'file');
        const handle = await promises.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666).catch((err) => {
          forget(temp);
          throw err;
        });
        if (replacing) await handle.chmod(replacing.mode & 0o7777).catch(() => {});
        return new OutputFile(path, createWriteStream('', { fd: handle.fd, autoClose: false }), handle, temp, target, onError);
      }
      const stream = createWriteStream(target, { flags: mode === 'append' ? 'a' : 'w' });
      await new Promise<void>((done, fail) => {
        stream.once('open', () => done());
        stream.once('error', fail);
      });
      return new OutputFile(path, stream, null, null, target, onError);
    } catch (err) {
      throw new OutputError(`${name}: ${describeFileError(err)}`);
    }
  }

  write(data: string | Uint8Array): void {
    if (this.error === null && !this.stream.errored && data.length) this.stream.write(data);
  }

  private fail(err: unknown): void {
    if (this.error !== null) return;
    this.error = `--output ${printable(this.path)}: ${describeFileError(err)}`;
    this.onError(this.error);
  }

  /** Finishes the file: flushed, synced and renamed into place; on an error the temporary file is removed and the target left alone. */
  async close(): Promise<string | null> {
    await new Promise<void>((done) => {
      if (this.stream.destroyed || this.stream.errored) return done();
      this.stream.once('error', () => done());
      this.stream.end((err?: Error | null) => {
        if (err) this.fail(err);
        done();
      });
    });
    // An error is set on the stream at once, and emitted a tick later: take it from either.
    if (this.stream.errored) this.fail(this.stream.errored);
    if (this.handle) {
      try {
        if (this.error === null) await this.handle.sync();
      } catch (err) {
        this.fail(err);
      }
      await this.handle.close().catch(() => {});
    }
    if (this.temp) {
      try {
        if (this.error === null) await promises.rename(this.temp, this.target);
        else await promises.unlink(this.temp).catch(() => {});
      } catch (err) {
        this.fail(err);
        await promises.unlink(this.temp).catch(() => {});
      }
      forget(this.temp);
    }
    return this.error;
  }

  /** Gives up: the temporary file is removed, the target left as it was. */
  abort(): void {
    this.stream.destroy();
    void this.handle?.close().catch(() => {});
    if (this.temp) {
      try {
        unlinkSync(this.temp);
      } catch {
        // gone already
      }
      forget(this.temp);
    }
  }
}
