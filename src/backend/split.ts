// Helpers for kernels whose storages are larger than one GPU binding may be: near-equal ranges
// of work, aligned windows over the elements a range touches, and a search for the fewest parts
// whose windows fit. The WebGPU backend asks a KernelCall to `split` only when a binding is too big.
import { BackendError } from '../errors.js';
import type { BindingWindow, SplitLimits } from './kernel.js';

/** A half-open range [lo, hi) of elements or of work items. */
export type Span = readonly [number, number];

/** `n` items cut into `parts` near-equal, non-empty ranges (fewer when n < parts). */
export function ranges(n: number, parts: number): Span[] {
  const count = Math.max(1, Math.min(parts, n));
  const out: Span[] = [];
  for (let p = 0; p < count; p++) out.push([Math.floor((n * p) / count), Math.floor((n * (p + 1)) / count)]);
  return out;
}

/** The window covering `span` whose offset is aligned down, or null when it holds too many elements. */
export function windowOver([lo, hi]: Span, { maxElements, alignElements }: SplitLimits): BindingWindow | null {
  const offset = lo - (lo % alignElements);
  const size = Math.max(1, hi - offset);
  return size <= maxElements ? { offset, size } : null;
}

/** Most parts a split tries: beyond this the kernel is better rejected than run as a flood of dispatches. */
const MAX_PARTS = 1 << 16;

/**
 * Tries 1, 2, 4, … parts until `plan(parts)` returns parts that fit (it returns null when a
 * window is too large), so a kernel runs as few dispatches as its windows allow.
 */
export function searchParts<T>(name: string, limits: SplitLimits, plan: (parts: number) => T[] | null): T[] {
  for (let parts = 1; parts <= MAX_PARTS; parts *= 2) {
    const found = plan(parts);
    if (found) return found;
  }
  throw new BackendError(
    `${name}: cannot split this kernel into ${MAX_PARTS} dispatches or fewer whose bindings each hold at most ${limits.maxElements * 4} bytes`,
  );
}

/**
 * The elements [lo, hi) read by outputs [start, end) of a row-major `shape` through `strides`
 * (all ≥ 0) from `offset`. Exact in the leading dims where the first and last output agree;
 * the dims after take their whole extent, so it may over-cover by less than one row.
 */
export function stridedSpan(shape: readonly number[], strides: readonly number[], offset: number, start: number, end: number): Span {
  const first = coordsOf(shape, start);
  const last = coordsOf(shape, end - 1);
  let lo = offset;
  let hi = offset;
  let d = 0;
  for (; d < shape.length && first[d] === last[d]; d++) {
    lo += first[d] * strides[d];
    hi += first[d] * strides[d];
  }
  if (d < shape.length) {
    lo += first[d] * strides[d];
    hi += last[d] * strides[d];
    for (d++; d < shape.length; d++) hi += (shape[d] - 1) * strides[d];
  }
  return [lo, hi + 1];
}

function coordsOf(shape: readonly number[], index: number): number[] {
  const c = new Array<number>(shape.length);
  let rem = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = rem % shape[d];
    rem = Math.floor(rem / shape[d]);
  }
  return c;
}

/** A range of work items and the window over the elements it touches. */
interface WindowedRange {
  readonly span: Span;
  readonly window: BindingWindow;
}

/** [0, n) cut into the fewest ranges whose windows fit, each item touching `unit` consecutive elements. */
export function fittingRanges(name: string, n: number, limits: SplitLimits, unit = 1): WindowedRange[] {
  return searchParts(name, limits, (parts) => {
    const out: WindowedRange[] = [];
    for (const span of ranges(n, parts)) {
      const window = windowOver([span[0] * unit, span[1] * unit], limits);
      if (!window) return null;
      out.push({ span, window });
    }
    return out;
  });
}

/** One part of a split over items: its range of items and the window of each binding (undefined: bound whole). */
export interface ItemPart {
  readonly span: Span;
  readonly windows: readonly (BindingWindow | undefined)[];
}

/**
 * [0, n) items cut into the fewest ranges whose windows fit. `touches[k](span)` gives the elements
 * of binding k (inputs then outputs) that the items of `span` read or write, or null for a
 * binding bound whole (it must fit as it is). Throws when even single items do not fit.
 */
export function splitItems(
  name: string, n: number, limits: SplitLimits, touches: readonly ((span: Span) => Span | null)[], item = 'item',
): ItemPart[] {
  return searchParts(name, limits, (parts) => {
    const out: ItemPart[] = [];
    for (const span of ranges(n, parts)) {
      const windows: (BindingWindow | undefined)[] = [];
      for (const touch of touches) {
        const elements = touch(span);
        const window = elements ? windowOver(elements, limits) : undefined;
        if (window === null) {
          if (parts < n) return null;
          throw new BackendError(
            `${name}: cannot be split finely enough: one ${item} alone binds more than ${limits.maxElements * 4} bytes (maxStorageBufferBindingSize or the maxBindingBytes option); use smaller tensors`,
          );
        }
        windows.push(window);
      }
      out.push({ span, windows });
    }
    return out;
  });
}
