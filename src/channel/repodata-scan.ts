// repodata.json read front to back, one record at a time: memory holds one record and the bytes
// of one chunk, not the document (conda-forge's largest subdirs are hundreds of MB, more than
// V8's longest string). The scanner follows the document's structure only as far as the two
// tables that matter — the top-level object, its "packages" and "packages.conda" objects — and
// hands each record's bytes to JSON.parse, which validates them. Other top-level values (info,
// removed, repodata_version) are skipped over, their strings and brackets balanced but not
// parsed. Pure: bytes in, records out through a callback.

export type RecordTable = 'packages' | 'packages.conda';
export type RecordSink = (table: RecordTable, file: string, value: unknown) => void;

/** A single record larger than this is refused (a real one is a few KB). */
export const RECORD_LIMIT = 16 << 20;

const enum S {
  Start, // before the top-level '{'
  TopKeyOrEnd, // after '{'
  TopKey, // after ','
  TopColon,
  TopValue,
  TopComma,
  TableKeyOrEnd,
  TableKey,
  TableColon,
  TableValue,
  TableComma,
  Done,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class RepodataScanError extends Error {
  override name = 'RepodataScanError';
}

/**
 * Feed chunks with push(), then call end(). Throws RepodataScanError (with the byte offset) on a
 * document that is not a JSON object, and lets the sink's own errors through.
 */
export class RepodataScanner {
  private state = S.Start;
  /** Bytes not yet consumed, from `base` (an offset in the whole document). */
  private buf: Buffer = Buffer.alloc(0);
  private base = 0;
  private pos = 0;
  /** A token or value being read: where it starts in buf (-1: none), and how it is being read. */
  private start = -1;
  private kind: 'string' | 'nested' | 'scalar' | null = null;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Whether the value being read is kept (a record, a key) or only stepped over. */
  private keep = false;
  private topKey = '';
  private table: RecordTable | null = null;
  private tableKey = '';
  private sawTable = false;

  constructor(private readonly sink: RecordSink) {}

  push(chunk: Buffer): void {
    // The decoders reuse their output buffers: what is kept past this call is copied.
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.run();
    const drop = this.start >= 0 ? this.start : this.pos;
    if (this.pos - drop > RECORD_LIMIT) this.tooLarge();
    this.buf = Buffer.from(this.buf.subarray(drop));
    this.base += drop;
    this.pos -= drop;
    if (this.start >= 0) this.start -= drop;
  }

  end(): void {
    if (this.state !== S.Done) this.fail('the document ends early');
  }

  private fail(reason: string): never {
    throw new RepodataScanError(`not JSON: ${reason} at byte ${this.base + this.pos}`);
  }

  private tooLarge(): never {
    throw new RepodataScanError(`a record of more than ${RECORD_LIMIT >> 20} MiB at byte ${this.base + (this.start >= 0 ? this.start : this.pos)}`);
  }

  private unexpected(c: number): never {
    this.fail(`unexpected ${c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`}`);
  }

  private run(): void {
    const buf = this.buf;
    while (this.pos < buf.length) {
      if (this.kind) {
        if (!this.stepValue()) return; // needs more bytes
        continue;
      }
      const c = buf[this.pos]!;
      if (isSpace(c)) {
        this.pos++;
        continue;
      }
      switch (this.state) {
        case S.Start:
          if (c !== OPEN_BRACE) this.unexpected(c);
          this.pos++;
          this.state = S.TopKeyOrEnd;
          break;
        case S.TopKeyOrEnd:
        case S.TopKey:
          if (c === CLOSE_BRACE && this.state === S.TopKeyOrEnd) {
            this.pos++;
            this.state = S.Done;
          } else if (c === QUOTE) this.begin('string', true);
          else this.unexpected(c);
          break;
        case S.TopColon:
        case S.TableColon:
          if (c !== COLON) this.unexpected(c);
          this.pos++;
          this.state = this.state === S.TopColon ? S.TopValue : S.TableValue;
          break;
        case S.TopValue:
          if (this.topKey === 'packages' || this.topKey === 'packages.conda') {
            if (c !== OPEN_BRACE) this.fail(`"${this.topKey}" is not an object`);
            this.table = this.topKey;
            this.sawTable = true;
            this.pos++;
            this.state = S.TableKeyOrEnd;
          } else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.begin('nested', false);
          else if (c === QUOTE) this.begin('string', false);
          else this.begin('scalar', true);
          break;
        case S.TopComma:
        case S.TableComma:
          if (c === COMMA) this.state = this.state === S.TopComma ? S.TopKey : S.TableKey;
          else if (c === CLOSE_BRACE) this.state = this.state === S.TopComma ? S.Done : S.TopComma;
          else this.unexpected(c);
          this.pos++;
          break;
        case S.TableKeyOrEnd:
        case S.TableKey:
          if (c === CLOSE_BRACE && this.state === S.TableKeyOrEnd) {
            this.pos++;
            this.state = S.TopComma;
          } else if (c === QUOTE) this.begin('string', true);
          else this.unexpected(c);
          break;
        case S.TableValue:
          if (c === OPEN_BRACE || c === OPEN_BRACKET) this.begin('nested', true);
          else if (c === QUOTE) this.begin('string', true);
          else this.begin('scalar', true);
          break;
        case S.Done:
          this.unexpected(c);
      }
    }
  }

  private begin(kind: 'string' | 'nested' | 'scalar', keep: boolean): void {
    this.kind = kind;
    this.keep = keep;
    this.start = keep ? this.pos : -1;
    this.depth = 0;
    this.inString = kind === 'string';
    this.escaped = false;
    if (kind === 'string') this.pos++; // the opening quote
  }

  /** Advances through the value being read; true when it is complete (and handed on). */
  private stepValue(): boolean {
    const buf = this.buf;
    if (this.kind === 'scalar') {
      while (this.pos < buf.length) {
        const c = buf[this.pos]!;
        if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) {
          this.finishScalar();
          return true;
        }
        this.pos++;
      }
      return false;
    }
    // A string (a key, or a string value), or an object or array with strings inside. The state
    // lives in locals while the loop runs (this is the one loop over every byte of a document).
    const string = this.kind === 'string';
    let { inString, escaped, depth } = this;
    let i = this.pos;
    const n = buf.length;
    while (i < n) {
      const c = buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) {
          inString = false;
          if (string) {
            this.pos = i + 1;
            this.finish();
            return true;
          }
        } else if (c < 0x20) {
          this.pos = i;
          this.unexpected(c);
        }
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) {
          this.pos = i + 1;
          this.finish();
          return true;
        }
      }
      i++;
    }
    this.inString = inString;
    this.escaped = escaped;
    this.depth = depth;
    this.pos = i;
    return false;
  }

  private finishScalar(): void {
    const text = this.buf.toString('latin1', this.start, this.pos);
    if (!/^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/.test(text)) {
      this.pos = this.start;
      this.fail(`unexpected "${text.slice(0, 20)}"`);
    }
    this.finish();
  }

  private parse(): unknown {
    if (this.pos - this.start > RECORD_LIMIT) this.tooLarge();
    try {
      return JSON.parse(this.buf.toString('utf8', this.start, this.pos));
    } catch (err) {
      const at = this.start;
      this.pos = at;
      this.fail((err as Error).message.replace(/ in JSON at position \d+.*$/s, '').replace(/^Unexpected /, 'unexpected '));
    }
  }

  private finish(): void {
    const keep = this.keep;
    const value = keep ? this.parse() : undefined;
    this.kind = null;
    this.start = -1;
    switch (this.state) {
      case S.TopKeyOrEnd:
      case S.TopKey:
        this.topKey = value as string;
        this.state = S.TopColon;
        break;
      case S.TopValue:
        this.state = S.TopComma;
        break;
      case S.TableKeyOrEnd:
      case S.TableKey:
        this.tableKey = value as string;
        this.state = S.TableColon;
        break;
      case S.TableValue:
        this.sink(this.table!, this.tableKey, value);
        this.state = S.TableComma;
        break;
      default:
        break;
    }
  }

  /** Whether a "packages" or "packages.conda" table was seen (a document without either lists nothing). */
  get hadTable(): boolean {
    return this.sawTable;
  }
}

/** Scans a whole document given as chunks. */
export async function scanRepodata(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, sink: RecordSink): Promise<void> {
  const scanner = new RepodataScanner(sink);
  for await (const chunk of chunks) scanner.push(chunk);
  scanner.end();
}
