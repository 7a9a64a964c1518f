// The command line's option values: each parser turns one argument into its value, or refuses it
// with a reason commander prints as "error: option '…' argument '…' is invalid. <reason>".
import { InvalidArgumentError } from 'commander';
import { parseCodeList } from '../judge/rules.js';

export function pythonVersion(value: string): string {
  const m = /^(\d+)\.(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a minor version such as 3.14');
  return `${Number(m[1])}.${Number(m[2])}`;
}

/** --select/--ignore: comma lists, and repeats that add up (--select PYC0 --select PYC1). */
export function codeList(value: string, previous: string[] | undefined): string[] {
  try {
    return [...(previous ?? []), ...parseCodeList(value)];
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** A repeatable option whose values may also be comma-separated. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** A repeatable option, one value each time (--output). */
export function repeated(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

/** Seconds for a timer: Node's timers hold at most 2^31-1 ms, and a longer one fires at once. */
const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function seconds(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_SECONDS) throw new InvalidArgumentError(`expected a whole number of seconds from 1 to ${MAX_SECONDS}`);
  return Number(value);
}

/** A size such as 500M, 2G, 1.5GiB or 4096 (bytes); K, M, G and T are powers of 1024. */
export function byteSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a size such as 500M or 2G');
  const unit = (m[2] ?? 'B').toUpperCase()[0]!;
  const bytes = Math.floor(Number(m[1]) * 1024 ** 'BKMGT'.indexOf(unit));
  if (bytes < 1) throw new InvalidArgumentError('expected a size of at least 1 byte');
  return bytes;
}

/**
 * --built-after/--built-before: a date (2025-08-14, midnight UTC) or a time with its zone
 * (2025-08-14T12:00:00Z, 2025-08-14T14:00+02:00), as milliseconds since 1970.
 */
export function buildTime(value: string): number {
  const text = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  // A day that the month has (Date.parse would move 2025-02-30 to March).
  const realDay = !!m && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
  const ms = realDay ? Date.parse(m![4] ? text : `${text}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected a date (2025-08-14) or a time with its zone (2025-08-14T12:00:00Z)');
  return ms;
}
