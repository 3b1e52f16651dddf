// Which rows of an NHWC tensor a range of output rows of a sliding-window op (conv, pooling)
// touches: the helpers that let those kernels split by (image, row) ranges over tensors larger
// than one GPU binding (src/backend/split.ts), binding each tensor from a window of whole rows.
import type { Span } from '../backend/split.js';

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
