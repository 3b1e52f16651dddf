// Sliding-window geometry that conv, pooling and their layers share: the option checks (pairs,
// padding), TF's output length and leading pad per axis, the image check, and which rows of an
// NHWC tensor a range of rows touches — what lets those kernels split by (image, row) ranges over
// tensors larger than one GPU binding (src/backend/split.ts), binding each from whole rows.
import type { Span } from '../backend/split.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** How windows treat the border: 'valid' keeps whole windows only; 'same' pads as TF does. */
export type Padding = 'same' | 'valid';

/** A positive integer or a pair of them, as [h, w]; throws an ArgumentError naming the op otherwise. */
export function pairOption(op: string, name: string, value: unknown): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (Array.isArray(pair) && pair.length === 2 && pair.every((v) => Number.isInteger(v) && v > 0)) return [pair[0], pair[1]];
  throw new ArgumentError(`${op}: ${name} must be a positive integer or a pair [h, w] of them, got ${JSON.stringify(value)}`);
}

/** Checks a padding option. */
export function paddingOption(op: string, value: unknown): Padding {
  if (value === 'same' || value === 'valid') return value;
  throw new ArgumentError(`${op}: padding must be 'same' or 'valid', got ${JSON.stringify(value)}`);
}

/**
 * Output size and leading pad along one axis of `size` with a window of k taps spaced d apart,
 * stepping s. TF's SAME rule: out = ceil(size/s), total pad = max((out−1)·s + (k−1)·d + 1 − size, 0),
 * of which floor(total/2) goes before.
 */
export function windowAxis(size: number, k: number, s: number, d: number, padding: Padding): { out: number; pad: number } {
  const span = (k - 1) * d + 1;
  if (padding === 'valid') return { out: size >= span ? Math.floor((size - span) / s) + 1 : 0, pad: 0 };
  const out = Math.ceil(size / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + span - size, 0) / 2) };
}

/** Throws unless `x` is a rank-3 or rank-4 float32 tensor. */
export function checkImage(op: string, x: Tensor): void {
  x.use(op);
  if (x.rank !== 4 && x.rank !== 3) throw new ShapeError(`${op}: expected x of rank 4 [N,H,W,C] or rank 3 [H,W,C], got ${fmtShape(x.shape)}`);
  if (x.dtype !== 'float32') throw new DTypeError(`${op}: expected float32 x, got ${x.dtype} ${fmtShape(x.shape)}`);
}

/** The output length of one axis (null: unknown, as in a layer's symbolic shape); 0 when no window fits. */
export function outputLength(size: number | null, k: number, s: number, padding: Padding, d = 1): number | null {
  return size === null ? null : windowAxis(size, k, s, d, padding).out;
}

/** One spatial axis of a sliding window: k taps spaced d apart, stride s, leading pad. */
export interface WindowAxis {
  readonly k: number;
  readonly d: number;
  readonly s: number;
  readonly pad: number;
  /** Rows of the input and of the output along this axis. */
  readonly inSize: number;
  readonly outSize: number;
}

/** Input rows [lo, hi) that output rows [o0, o1) read (clamped to the input). */
export function inputRowsOf(a: WindowAxis, o0: number, o1: number): Span {
  const lo = Math.min(a.inSize, Math.max(0, o0 * a.s - a.pad));
  return [lo, Math.max(lo, Math.min(a.inSize, (o1 - 1) * a.s - a.pad + (a.k - 1) * a.d + 1))];
}

/** Output rows [lo, hi) whose windows read any of input rows [i0, i1). */
export function outputRowsOf(a: WindowAxis, i0: number, i1: number): Span {
  const lo = Math.min(a.outSize, Math.max(0, Math.ceil((i0 + a.pad - (a.k - 1) * a.d) / a.s)));
  return [lo, Math.max(lo, Math.min(a.outSize, Math.floor((i1 - 1 + a.pad) / a.s) + 1))];
}

/**
 * The elements of a tensor with `targetRows` rows per image and `rowSize` elements per row that
 * items [r0, r1) touch, items being the flattened (image, row) rows of a grid with `rowsPer` rows
 * per image and `map(y0, y1)` the target rows that rows [y0, y1) of one image touch (monotone).
 */
export function rowSpan([r0, r1]: Span, rowsPer: number, targetRows: number, rowSize: number, map: (y0: number, y1: number) => Span): Span {
  const b0 = Math.floor(r0 / rowsPer);
  const y0 = r0 % rowsPer;
  const b1 = Math.floor((r1 - 1) / rowsPer);
  const y1 = (r1 - 1) % rowsPer;
  const lo = b0 * targetRows + map(y0, y0 + 1)[0];
  const hi = b1 * targetRows + map(y1, y1 + 1)[1];
  return [lo * rowSize, Math.max(lo, hi) * rowSize];
}

/** Rows [r0, r1) of a contiguous tensor of `rowSize`-element rows. */
export const wholeRows = ([r0, r1]: Span, rowSize: number): Span => [r0 * rowSize, r1 * rowSize];
