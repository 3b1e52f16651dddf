// Property-based shape fuzzing (fast-check): a case is either valid, and must match its float64
// reference forward and backward, or invalid by the test's own rule, and must raise a ShapeError
// or ArgumentError naming the op and the shapes. Seeds derive from the run's NEURITE_SEED, so a
// failure replays with NEURITE_SEED=<seed> (plus NEURITE_FUZZ_PATH=<path> to jump to the case).
import fc from 'fast-check';
import { expect } from 'vitest';
import * as nt from '../../src/index.js';
import { fmtShape } from '../../src/errors.js';
import { expectCloseAtScale } from './close.js';
import { numericGradient, sizeOf, weighted } from './numeric.js';
import { SEED, rng, uniform } from './random.js';

/** One input of a case: float64 values (exactly representable in its dtype) and a shape. */
export interface CaseInput {
  values: Float64Array;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/** A fuzzed call of one op. */
export interface FuzzCase {
  /** The op name its errors must start with. */
  op: string;
  /** Seeds the weights of the gradient check (inputs are drawn from the same generated seed). */
  seed: number;
  inputs: CaseInput[];
  /** The library call. */
  build(xs: nt.Tensor[]): nt.Tensor;
  /**
   * The test's own verdict: null for a valid call, or the shapes an error message must name.
   * Written from the op's documented rules, independently of the library's checks.
   */
  invalid: number[][] | null;
  /** Invalid for its dtypes rather than its shapes: a DTypeError is expected instead. */
  dtypeError?: boolean;
  /** For valid cases: the output shape and the float64 forward pass. */
  outShape?: number[];
  reference?(xs: Float64Array[]): Float64Array;
  /** Inputs whose gradient is checked against central differences of the reference. */
  differentiable?: number[];
  /** Compare int32 outputs exactly (argMax). */
  exact?: boolean;
}

/** How a target judges results: fp32 tolerance, and which BackendErrors are refusals, not failures. */
export interface FuzzTolerance {
  rtol: number;
  /**
   * On a device whose bindings are smaller than what one output of a kernel reads, the kernel
   * refuses with a BackendError saying so: an honest limit, not a wrong answer.
   */
  refusal?: RegExp;
}

/** A generator of case values seeded by the generated case, so a replayed path gets the same values. */
export type Rng = () => number;

/** Seeds for case values: part of the generated case, so shrinking and replay keep them. */
export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Valid cases checked and refused so far in this file: a property whose cases are mostly refused tests nothing. */
const counts = { valid: 0, refused: 0 };

const named = (e: unknown, dtype: boolean): e is Error => (dtype ? e instanceof nt.DTypeError : e instanceof nt.ShapeError || e instanceof nt.ArgumentError);

/** Runs `c` on the current backend and checks it: the reference's answer or a named error, and no tensor left behind. */
export async function checkCase(c: FuzzCase, { rtol, refusal }: FuzzTolerance): Promise<void> {
  const live = nt.memory().numTensors;
  const label = `${c.op} on ${c.inputs.map((x) => fmtShape(x.shape)).join(', ')}`;
  const inputs = () => c.inputs.map((x) => nt.tensor(x.dtype === 'int32' ? Int32Array.from(x.values) : Float32Array.from(x.values), x.shape));
  if (c.invalid) {
    let outcome: unknown = null;
    try {
      const y = nt.tidy(() => c.build(inputs()));
      outcome = `an output of shape ${fmtShape(y.shape)}`;
      y.dispose();
    } catch (e) {
      outcome = e;
    }
    const expected = c.dtypeError ? 'a DTypeError' : 'a ShapeError or ArgumentError';
    if (!named(outcome, c.dtypeError ?? false)) expect.fail(`${label}: expected ${expected}, got ${outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : String(outcome)}`);
    const message = (outcome as Error).message;
    expect(message.startsWith(`${c.op}`), `${label}: message names the op: ${message}`).toBe(true);
    for (const s of c.invalid) expect(message, `${label}: message names ${fmtShape(s)}`).toContain(fmtShape(s));
  } else {
    counts.valid++;
    try {
      await checkValid(c, inputs, label, rtol);
    } catch (e) {
      if (!(refusal && e instanceof nt.BackendError && refusal.test(e.message))) throw e;
      counts.refused++;
    }
  }
  expect(nt.memory().numTensors, `${label}: live tensors after the case`).toBe(live);
}

async function checkValid(c: FuzzCase, inputs: () => nt.Tensor[], label: string, rtol: number): Promise<void> {
  const xs = c.inputs.map((x) => x.values);
  const expected = c.reference!(xs);
  const wrt = c.differentiable ?? [];
  const weights = uniform(expected.length, -1, 1, rng(c.seed ^ 0x5bd1e995));
  const outs = nt.tidy(() => {
    const ts = inputs();
    const y = c.build(ts);
    if (wrt.length === 0) return [y];
    const w = nt.tensor(Float32Array.from(weights), y.shape);
    const gs = nt.grads((...vs: nt.Tensor[]) => nt.sum(nt.mul(c.build(ts.map((t, i) => (wrt.includes(i) ? vs[wrt.indexOf(i)] : t))), w)))(wrt.map((i) => ts[i]));
    return [y, ...gs];
  });
  const [y, ...gs] = outs;
  try {
    expect([...y.shape], `${label}: output shape`).toEqual(c.outShape);
    const values = await y.data();
    expectCloseAtScale(values, expected, c.exact ? 0 : rtol, `${label}: forward`);
    for (const [j, i] of wrt.entries()) {
      const f = (v: Float64Array) => weighted(c.reference!(xs.map((x, k) => (k === i ? v : x))), weights);
      expectCloseAtScale(await gs[j].data(), numericGradient(f, xs[i]), rtol, `${label}: gradient w.r.t. input ${i}`);
    }
  } finally {
    nt.dispose(outs);
  }
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Checks `property` on `examples` (run first, every time: one valid case per op, so each op of a
 * family is checked whatever is drawn) and on generated values, `numRuns` in all. The seed is
 * NEURITE_SEED mixed with `name`; a failure reports the shrunk counterexample and how to replay it.
 */
export async function fuzz<T>(name: string, arb: fc.Arbitrary<T>, property: (v: T) => Promise<void>, numRuns: number, examples: T[] = []): Promise<void> {
  const seed = (SEED ^ hash(name)) | 0;
  const path = process.env.NEURITE_FUZZ_PATH;
  const before = { ...counts };
  const runs = Math.max(numRuns, examples.length);
  const details = await fc.check(fc.asyncProperty(arb, property), { seed, numRuns: runs, examples: examples.map((e): [T] => [e]), ...(path ? { path } : {}) });
  if (!details.failed) {
    const [valid, refused] = [counts.valid - before.valid, counts.refused - before.refused];
    expect(refused, `${name}: ${refused} of ${valid} valid cases were refused as too large for one binding`).toBeLessThanOrEqual(valid / 2);
    return;
  }
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  expect.fail(
    `${name}: failed on ${fc.stringify(details.counterexample)} after ${details.numRuns} cases (shrunk ${details.numShrinks} times)\n` +
      `replay: NEURITE_SEED=${SEED} NEURITE_FUZZ_PATH=${details.counterexamplePath} (fast-check seed ${seed})\n${error}`,
  );
}

/** A float input of `shape` with values in [lo, hi). */
export const input = (r: Rng, shape: number[], lo = -2, hi = 2): CaseInput => ({ values: uniform(sizeOf(shape), lo, hi, r), shape });
