// Gradient checking, as the tutorial teaches it: compare autograd's gradients with central
// differences (f(x+ε) − f(x−ε)) / 2ε, element by element, and report the worst error per input.
// Public, so users can check the gradients of their own layers and losses.
import { grads } from './autograd.js';
import { ArgumentError } from './errors.js';
import { engine } from './engine.js';
import { tensor } from './ops/create.js';
import { Tensor } from './tensor.js';

/** Options of `checkGradients`. */
export interface GradientCheckOptions {
  /** Step of the central difference (default 1e-3: a balance of f32 rounding and truncation error). */
  epsilon?: number;
  /** Most elements checked per input; larger inputs are sampled with `seed` (default 64). */
  maxChecksPerInput?: number;
  /** Seed of the sampling (default 1). */
  seed?: number;
}

/** The comparison for one input. */
export interface InputGradientCheck {
  /** max |analytic − numeric| / max(‖analytic‖∞, ‖numeric‖∞): error relative to the gradient's scale. */
  maxRelativeError: number;
  /** max |analytic − numeric|. */
  maxAbsoluteError: number;
  /** Flat index of the element with the largest error. */
  worstIndex: number;
  /** Elements compared. */
  checked: number;
}

/** What `checkGradients` reports. */
export interface GradientCheckResult {
  /** One entry per input of f. */
  inputs: InputGradientCheck[];
  /** The worst `maxRelativeError` over all inputs. */
  maxRelativeError: number;
}

/**
 * Compares the analytic gradients of scalar-valued `f` at `inputs` with central differences.
 * `f` must be deterministic (no dropout) and return a scalar.
 */
export async function checkGradients(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  { epsilon = 1e-3, maxChecksPerInput = 64, seed = 1 }: GradientCheckOptions = {},
): Promise<GradientCheckResult> {
  if (inputs.length === 0) throw new ArgumentError('checkGradients: expected at least one input tensor');
  const analytic = grads(f)([...inputs]);
  const analyticValues = await Promise.all(analytic.map((g) => g.data()));
  analytic.forEach((g) => g.dispose());
  const values = await Promise.all(inputs.map((x) => x.data()));

  const evaluate = async (k: number, changed: Float32Array): Promise<number> => {
    const out = engine.tidy(() => {
      const xs = inputs.map((x, i) => (i === k ? tensor(changed, x.shape) : x));
      return f(...xs);
    });
    const [v] = await out.data();
    out.dispose();
    return v;
  };

  const results: InputGradientCheck[] = [];
  let state = seed >>> 0 || 1;
  for (let k = 0; k < inputs.length; k++) {
    const base = Float32Array.from(values[k]);
    const indices = sampleIndices(base.length, maxChecksPerInput, () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0));
    let maxAbs = 0;
    let worst = indices[0] ?? 0;
    let scale = 0;
    for (const i of indices) {
      const original = base[i];
      base[i] = original + epsilon;
      const plus = await evaluate(k, base);
      base[i] = original - epsilon;
      const minus = await evaluate(k, base);
      base[i] = original;
      // Divide by the step actually taken: x ± ε rounds in f32.
      const step = Math.fround(original + epsilon) - Math.fround(original - epsilon);
      const numeric = (plus - minus) / step;
      const a = analyticValues[k][i];
      const err = Math.abs(a - numeric);
      scale = Math.max(scale, Math.abs(a), Math.abs(numeric));
      if (!(err <= maxAbs)) {
        maxAbs = Number.isNaN(err) ? Infinity : err;
        worst = i;
      }
    }
    const rel = maxAbs === 0 ? 0 : maxAbs / Math.max(scale, 1e-12);
    results.push({ maxRelativeError: rel, maxAbsoluteError: maxAbs, worstIndex: worst, checked: indices.length });
  }
  return { inputs: results, maxRelativeError: Math.max(...results.map((r) => r.maxRelativeError)) };
}

function sampleIndices(size: number, most: number, next: () => number): number[] {
  if (size <= most) return Array.from({ length: size }, (_, i) => i);
  const picked = new Set<number>();
  while (picked.size < most) picked.add(next() % size);
  return [...picked].sort((a, b) => a - b);
}
