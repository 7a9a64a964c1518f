// A progress line on stderr for runs of several artifacts, on a terminal only: artifacts done of
// total, bytes, rate and time left. It is redrawn at most ten times a second and cleared before
// anything else is written to stderr, so it never mixes with error lines or stdout.

export interface ProgressStream {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const units = ['B', 'kB', 'MB', 'GB', 'TB'];
export function formatBytes(n: number): string {
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n >= 100 || i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The line itself (pure): "[=====>    ] 12/105  340 MB of 1.2 GB  85 MB/s  10 s left". */
export function progressLine(p: { done: number; total: number; bytesDone: number; bytesTotal: number; seconds: number; width: number }): string {
  const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : p.total ? p.done / p.total : 0;
  const barWidth = Math.max(10, Math.min(30, p.width - 60));
  const filled = Math.min(barWidth, Math.round(fraction * barWidth));
  const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled ? '>' : ''}${' '.repeat(barWidth - filled)}]`;
  const rate = p.seconds > 0 ? p.bytesDone / p.seconds : 0;
  const left = rate > 0 && p.bytesTotal > 0 ? (p.bytesTotal - p.bytesDone) / rate : NaN;
  const parts = [bar, `${p.done}/${p.total}`];
  if (p.bytesTotal > 0) parts.push(`${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`, `${formatBytes(rate)}/s`, `${formatDuration(left)} left`);
  return parts.join('  ').slice(0, Math.max(20, p.width - 1));
}

/** Where signals come from and go (the process; a stand-in in tests). */
export interface SignalSource {
  once(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  kill(pid: number, signal: NodeJS.Signals): unknown;
  pid: number;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class Progress {
  private done = 0;
  private bytesDone = 0;
  private shown = false;
  private lastDraw = 0;
  private readonly started = Date.now();
  /**
   * Ctrl-C or a CI cancel while the line is shown: the line is cleared (the shell's prompt must
   * not land after a half line and `^C`), then the signal is raised again so the process ends
   * as the signal says.
   */
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.clear();
    this.stop();
    this.signals.kill(this.signals.pid, signal);
  };

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
    private readonly bytesTotal: number,
    private readonly signals: SignalSource = process,
  ) {
    for (const signal of SIGNALS) signals.once(signal, this.onSignal);
  }

  /** The run is over: signals are no longer this line's business. */
  stop(): void {
    for (const signal of SIGNALS) this.signals.removeListener(signal, this.onSignal);
  }

  /** Whether a progress line belongs on this stream at all. */
  static wanted(stream: ProgressStream, artifacts: number, quiet: boolean): boolean {
    return !quiet && artifacts > 1 && stream.isTTY === true;
  }

  finished(bytes: number): void {
    this.done++;
    this.bytesDone += bytes;
    const now = Date.now();
    if (now - this.lastDraw >= 100 || this.done === this.total) this.draw(now);
  }

  /** Clear the line (before other output goes to the same terminal). */
  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  /** Put the line back after other output. */
  redraw(): void {
    if (this.done < this.total) this.draw(Date.now());
  }

  private draw(now: number): void {
    this.lastDraw = now;
    const line = progressLine({ done: this.done, total: this.total, bytesDone: this.bytesDone, bytesTotal: this.bytesTotal, seconds: (now - this.started) / 1000, width: this.stream.columns || 80 });
    this.stream.write(`\r\x1b[K${line}`);
    this.shown = true;
  }
}
