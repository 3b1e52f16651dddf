// Shape arithmetic shared by every op: sizes, strides, broadcasting and axis normalisation.
import { ShapeError, fmtShape } from './errors.js';

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** True when both shapes have the same rank and dims. */
export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming `op` when they do not broadcast. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast ` +
          `(dim ${i - rank} is ${da} vs ${db}; expected equal or 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides for reading a tensor of `shape` as if broadcast to `outShape`:
 * broadcast dims get stride 0, missing leading dims are dropped.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || shape[j] === 1 ? 0 : own[j];
  });
}

/** Normalises a possibly negative axis; throws naming the op, the shape and the valid range. */
export function normalizeAxis(op: string, axis: number, rank: number, shape?: readonly number[]): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const where = shape ? ` of shape ${fmtShape(shape)}` : ` of rank ${rank}`;
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor${where} (expected an integer in [${-rank}, ${rank - 1}])`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises `axis` (one, several or all when undefined) to sorted unique non-negative axes. */
export function normalizeAxes(op: string, axis: number | number[] | undefined, shape: readonly number[]): number[] {
  if (axis === undefined) return shape.map((_, i) => i);
  const list = (Array.isArray(axis) ? axis : [axis]).map((a) => normalizeAxis(op, a, shape.length, shape));
  return [...new Set(list)].sort((x, y) => x - y);
}

/** Checks that a user-given shape is a list of non-negative integers. */
export function assertValidShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${op}: invalid shape ${JSON.stringify(shape)} (expected non-negative integers)`);
  }
}
