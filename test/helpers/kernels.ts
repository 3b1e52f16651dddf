// Shared by the CPU-kernel tests: random inputs, "f and its gradients" as one function, and the
// float32 summation bound a GEMM's outputs are held to.
import * as nt from '../../src/index.js';
import { uniform } from './random.js';

/** A random input of `shape` (values uniform in [−1, 1)). */
export const rand = (...shape: number[]) => ({ values: uniform(shape.reduce((p, d) => p * d, 1)), shape });

/** f and the gradients of Σ f(x)·w with respect to every x; w (random, shaped as f's output) is the last input. */
export const withGrads = (f: (...xs: nt.Tensor[]) => nt.Tensor) => (...inputs: nt.Tensor[]) => {
  const xs = inputs.slice(0, -1);
  const w = inputs[inputs.length - 1];
  const loss = (...ys: nt.Tensor[]) => nt.sum(nt.mul(f(...ys), w));
  return [f(...xs), ...nt.grads(loss)(xs)];
};

/**
 * The worst ratio, over C = A·B's outputs, of |got − exact| to the float32 summation bound
 * K·u·Σ|a·b| (u = 2⁻²⁴); ≤ 1 passes. A wrong index or a lost product is off by a whole term, far
 * beyond it; a non-finite output gives Infinity. A is M×K (K×M with `tA`), B K×N (N×K with `tB`).
 */
export function gemmBoundRatio(A: ArrayLike<number>, B: ArrayLike<number>, got: ArrayLike<number>, M: number, K: number, N: number, tA = false, tB = false): number {
  let worst = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let exact = 0;
      let magnitude = 0;
      for (let k = 0; k < K; k++) {
        const p = A[tA ? k * M + i : i * K + k] * B[tB ? j * K + k : k * N + j];
        exact += p;
        magnitude += Math.abs(p);
      }
      const v = got[i * N + j];
      if (!Number.isFinite(v)) return Infinity;
      worst = Math.max(worst, Math.abs(v - exact) / (K * 2 ** -24 * magnitude + 1e-30));
    }
  }
  return worst;
}
