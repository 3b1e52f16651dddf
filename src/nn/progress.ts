// The training progress display used by fit's `verbose` and by `npm start`:
//   [=====>    ] 12345/60000  812 samples/s  loss 0.1234  acc 0.9612  ETA 1m12s
// redrawn in place with \r on a terminal, and printed as a line every few seconds otherwise.
import { Callback, type Logs } from './callbacks.js';

/** Options of the progress display. */
export interface ProgressOptions {
  /** Where text goes (default: process.stdout in Node, console.log elsewhere). */
  write?: (text: string) => void;
  /** Redraw one line in place (default: whether stdout is a terminal). */
  tty?: boolean;
  /** Milliseconds between redraws: default 200 on a terminal, 10 000 otherwise. */
  intervalMs?: number;
  /** Bar width in characters (default 30). */
  width?: number;
  /** 1: the bar during each epoch and a summary line at its end; 2: only the summary lines. */
  verbose?: 1 | 2;
}

/** Formats seconds as 1h02m, 1m12s or 9s. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** The bar line for `done` of `total` examples after `seconds`, with the logged values. */
function progressLine(done: number, total: number, seconds: number, logs: Logs, width = 30, final = false): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.floor(frac * width);
  const bar = frac >= 1 ? '='.repeat(width) : '='.repeat(filled) + '>' + ' '.repeat(Math.max(0, width - filled - 1));
  const rate = seconds > 0 ? done / seconds : 0;
  const digits = String(total).length;
  const parts = [`[${bar}] ${String(done).padStart(digits)}/${total}`, `${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)} samples/s`];
  for (const [k, v] of Object.entries(logs)) {
    if (k === 'batch' || k === 'size') continue;
    parts.push(`${k} ${formatValue(v)}`);
  }
  parts.push(final ? formatDuration(seconds) : `ETA ${rate > 0 ? formatDuration((total - done) / rate) : '?'}`);
  return parts.join('  ');
}

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
}

function defaultWrite(): (text: string) => void {
  const out = (globalThis as { process?: { stdout?: { write(s: string): unknown } } }).process?.stdout;
  if (out) return (text) => void out.write(text);
  return (text) => console.log(text.replace(/^\r/, '').replace(/\n$/, ''));
}

function stdoutIsTty(): boolean {
  return !!(globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process?.stdout?.isTTY;
}

/** A callback printing a progress bar per epoch. */
export class ProgressBar extends Callback {
  private readonly write: (text: string) => void;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly width: number;
  private readonly verbose: 1 | 2;
  private epochStart = 0;
  private lastDraw = 0;
  private done = 0;

  constructor(options: ProgressOptions = {}) {
    super();
    this.write = options.write ?? defaultWrite();
    this.tty = options.tty ?? stdoutIsTty();
    this.intervalMs = options.intervalMs ?? (this.tty ? 200 : 10_000);
    this.width = options.width ?? 30;
    this.verbose = options.verbose ?? 1;
  }

  onEpochBegin(epoch: number): void {
    const epochs = this.params?.epochs ?? 0;
    if (this.verbose === 1) this.write(`Epoch ${epoch + 1}/${epochs}\n`);
    this.epochStart = performance.now();
    this.lastDraw = this.epochStart;
    this.done = 0;
  }

  onBatchEnd(_batch: number, logs: Logs = {}): void {
    this.done += logs.size ?? 0;
    if (this.verbose !== 1) return;
    const now = performance.now();
    if (now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const line = progressLine(this.done, this.params?.samples ?? this.done, (now - this.epochStart) / 1000, logs, this.width);
    this.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  onEpochEnd(epoch: number, logs: Logs = {}): void {
    const seconds = (performance.now() - this.epochStart) / 1000;
    const total = this.params?.samples ?? this.done;
    const line = progressLine(total, total, seconds, logs, this.width, true);
    if (this.verbose === 2) this.write(`Epoch ${epoch + 1}/${this.params?.epochs ?? 0}  ${line}\n`);
    else this.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }
}
