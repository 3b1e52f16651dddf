// Float64 reference helpers shared by the op tests: central-difference gradients of a
// reference function, and shape bookkeeping (sizes, row-major coordinates).

/** Elements of a shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major coordinates of flat index `i` in `shape`. */
export function coordsOf(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

/** Flat row-major index of coordinates `c` in `shape`. */
export function indexOf(c: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + c[d];
  return i;
}

/**
 * ∂f/∂x by central differences of a float64 function, at every element or only at `indices`
 * (the others stay 0). The step is small because references are exact float64 code: truncation
 * error (h²) and rounding (1e-16/h) both stay below 1e-8, and piecewise-linear functions (max,
 * relu) are exact unless a kink lies within h.
 */
export function numericGradient(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-7, indices?: Iterable<number>): Float64Array {
  const point = Float64Array.from(x);
  const g = new Float64Array(point.length);
  for (const i of indices ?? point.keys()) {
    const v = point[i];
    point[i] = v + h;
    const plus = f(point);
    point[i] = v - h;
    const minus = f(point);
    point[i] = v;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

/** Σ w·y: the scalar that turns a tensor-valued reference into one with a gradient to compare. */
export function weighted(y: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * w[i];
  return s;
}
