// Comparing results with references. NaN never passes; the message names the worst element.
import { expect } from 'vitest';

/** Tolerances: |actual − expected| ≤ atol + rtol·|expected| element by element. */
export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** Element-wise closeness with a report of the worst element. */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: Tolerance = {},
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) throw new Error(`${what}: the reference itself is NaN at ${i} (fix the test inputs)`);
    const err = Math.abs(a - e);
    const excess = Number.isNaN(a) ? Infinity : err - (atol + rtol * Math.abs(e));
    if (excess > worstExcess || (Number.isNaN(a) && worst < 0)) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Error relative to the reference's largest magnitude: max|a − e| / max|e|. For long sums. */
export function normRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(expected[i]));
  }
  return den === 0 ? num : num / den;
}

/**
 * |a − e| ≤ rtol·(|e| + max(max|e|, 1)): relative, with a floor at the reference's scale or at
 * the inputs' (values and weights are O(1), and fp32 rounds sums of such terms at that scale even
 * where they cancel, as in softmax's gradient).
 */
export function expectCloseAtScale(actual: ArrayLike<number>, expected: Float64Array, rtol: number, what: string): void {
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  expectAllClose(actual, expected, { rtol, atol: rtol * scale }, what);
}
