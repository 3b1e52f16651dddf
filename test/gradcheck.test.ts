// The public checkGradients run on every differentiable op exported here (unary, binary,
// reductions, transforms, softmax, losses, dropout; matMul, conv and pooling are checked by their
// own suites), on every backend; and proof that it catches a wrong gradient.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { freshRng, integers, uniform } from './helpers/random.js';

/** An input: its shape and how to draw values (kept away from the op's kinks). */
interface InputSpec {
  shape: number[];
  values?: (n: number) => Float64Array;
}

/** One op under check: `f` maps float32 inputs to the op's output (any shape). */
export interface GradCase {
  name: string;
  inputs: InputSpec[];
  f: (...xs: nt.Tensor[]) => nt.Tensor;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** Uniform values whose magnitude is at least `gap` (away from kinks at 0). */
const awayFromZero = (lo: number, hi: number, gap = 0.1) => (n: number) => uniform(n, lo, hi).map((v) => (Math.abs(v) < gap ? v + 2 * gap * Math.sign(v || 1) : v));
/** Distinct values at least 4/n apart in [-2, 2], shuffled: no ties for max/min. */
const distinct = (n: number): Float64Array => {
  const r = freshRng();
  const v = Float64Array.from({ length: n }, (_, i) => -2 + (4 * (i + 0.5)) / n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
};
const positive = (n: number) => uniform(n, 0.5, 2);
const M = [3, 4];
/** Drawn once per run (not per evaluation), so f stays deterministic within a check. */
const SPARSE_LABELS = integers(4, 5);
const GATHER_INDICES = Int32Array.from([4, 0, 4, 2, 4, 1]);

/** Every differentiable op (the registry test checks this list is complete). */
export const GRAD_CASES: GradCase[] = [
  // unary
  { name: 'neg', inputs: [{ shape: M }], f: nt.neg },
  { name: 'exp', inputs: [{ shape: M }], f: nt.exp },
  { name: 'log', inputs: [{ shape: M, values: positive }], f: nt.log },
  { name: 'sqrt', inputs: [{ shape: M, values: positive }], f: nt.sqrt },
  { name: 'square', inputs: [{ shape: M }], f: nt.square },
  { name: 'abs', inputs: [{ shape: M, values: awayFromZero(-2, 2) }], f: nt.abs },
  { name: 'relu', inputs: [{ shape: M, values: awayFromZero(-2, 2) }], f: nt.relu },
  { name: 'leakyRelu', inputs: [{ shape: M, values: awayFromZero(-2, 2) }], f: (x) => nt.leakyRelu(x, { alpha: 0.3 }) },
  { name: 'elu', inputs: [{ shape: M, values: awayFromZero(-2, 2) }], f: (x) => nt.elu(x, { alpha: 0.7 }) },
  { name: 'sigmoid', inputs: [{ shape: M }], f: nt.sigmoid },
  { name: 'tanh', inputs: [{ shape: M }], f: nt.tanh },
  { name: 'clipByValue', inputs: [{ shape: M, values: (n) => distinct(n).map((v) => v + 0.01) }], f: (x) => nt.clipByValue(x, -0.5, 0.8) },
  { name: 'cast', inputs: [{ shape: M }], f: (x) => nt.cast(x, 'float32') },
  // binary, with broadcasting
  { name: 'add', inputs: [{ shape: M }, { shape: [4] }], f: nt.add },
  { name: 'sub', inputs: [{ shape: [3, 1] }, { shape: M }], f: nt.sub },
  { name: 'mul', inputs: [{ shape: M }, { shape: [1, 4] }], f: nt.mul },
  { name: 'div', inputs: [{ shape: M }, { shape: [4], values: positive }], f: nt.div },
  { name: 'pow', inputs: [{ shape: M, values: positive }, { shape: M, values: (n) => uniform(n, -1.5, 1.5) }], f: nt.pow },
  { name: 'maximum', inputs: [{ shape: M, values: distinct }, { shape: M, values: (n) => distinct(n).map((v) => v + 0.05) }], f: nt.maximum },
  { name: 'minimum', inputs: [{ shape: M, values: distinct }, { shape: M, values: (n) => distinct(n).map((v) => v + 0.05) }], f: nt.minimum },
  // reductions
  { name: 'sum', inputs: [{ shape: [2, 3, 4] }], f: (x) => nt.sum(x, { axis: [0, 2] }) },
  { name: 'mean', inputs: [{ shape: [2, 3, 4] }], f: (x) => nt.mean(x, { axis: -1, keepDims: true }) },
  { name: 'max', inputs: [{ shape: M, values: distinct }], f: (x) => nt.max(x, { axis: 1 }) },
  { name: 'min', inputs: [{ shape: M, values: distinct }], f: (x) => nt.min(x, { axis: 0 }) },
  { name: 'logSumExp', inputs: [{ shape: M }], f: (x) => nt.logSumExp(x, { axis: 1 }) },
  // transforms
  { name: 'reshape', inputs: [{ shape: M }], f: (x) => nt.reshape(x, [2, -1]) },
  { name: 'expandDims', inputs: [{ shape: M }], f: (x) => nt.expandDims(x, 1) },
  { name: 'squeeze', inputs: [{ shape: [3, 1, 4] }], f: (x) => nt.squeeze(x) },
  { name: 'transpose', inputs: [{ shape: [2, 3, 4] }], f: (x) => nt.transpose(x, { perm: [2, 0, 1] }) },
  { name: 'broadcastTo', inputs: [{ shape: [3, 1] }], f: (x) => nt.broadcastTo(x, [2, 3, 5]) },
  { name: 'slice', inputs: [{ shape: [5, 6] }], f: (x) => nt.slice(x, { begin: [1, 2], size: [3, -1] }) },
  { name: 'pad', inputs: [{ shape: M }], f: (x) => nt.pad(x, [[1, 0], [2, 1]], 0.5) },
  { name: 'concat', inputs: [{ shape: [3, 2] }, { shape: M }, { shape: [3, 1] }], f: (a, b, c) => nt.concat([a, b, c], { axis: 1 }) },
  {
    name: 'gather',
    inputs: [{ shape: [5, 3] }],
    // Indices repeat, so the scatter-add of the gradient is exercised.
    f: (x) => nt.gather(x, nt.tensor(GATHER_INDICES), { axis: 0 }),
  },
  // softmax
  { name: 'softmax', inputs: [{ shape: M }], f: (x) => nt.softmax(x) },
  { name: 'logSoftmax', inputs: [{ shape: M }], f: (x) => nt.logSoftmax(x, { axis: 0 }) },
  // losses
  { name: 'meanSquaredError', inputs: [{ shape: M }, { shape: M }], f: nt.meanSquaredError },
  {
    name: 'binaryCrossentropy',
    inputs: [{ shape: M, values: (n) => uniform(n, 0, 1) }, { shape: M, values: (n) => uniform(n, 0.05, 0.95) }],
    f: (z, p) => nt.binaryCrossentropy(z, p),
  },
  {
    name: 'binaryCrossentropy fromLogits',
    inputs: [{ shape: M, values: (n) => uniform(n, 0, 1) }, { shape: M, values: (n) => uniform(n, -3, 3) }],
    f: (z, x) => nt.binaryCrossentropy(z, x, { fromLogits: true }),
  },
  {
    name: 'softmaxCrossEntropy',
    inputs: [{ shape: [4, 5], values: (n) => uniform(n, -2, 2) }, { shape: [4, 5], values: (n) => uniform(n, 0, 1) }],
    f: (x, labels) => nt.softmaxCrossEntropy(x, labels),
  },
  {
    name: 'softmaxCrossEntropy sparse',
    inputs: [{ shape: [4, 5], values: (n) => uniform(n, -2, 2) }],
    f: (x) => nt.softmaxCrossEntropy(x, nt.tensor(SPARSE_LABELS), { sparse: true }),
  },
  // random: with a fixed seed dropout is deterministic, so it can be checked too
  { name: 'dropout', inputs: [{ shape: [5, 7] }], f: (x) => nt.dropout(x, { rate: 0.3, seed: 17 }) },
];

/** Σ w·f(xs) with fixed random weights w: a scalar whose gradient exercises every output element. */
function weightedScalar(f: GradCase['f'], outShape: number[], w: Float32Array): (...xs: nt.Tensor[]) => nt.Tensor {
  return (...xs) => nt.sum(nt.mul(f(...xs), nt.tensor(w, outShape)));
}

describe.each(BACKENDS)('checkGradients on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(GRAD_CASES)('$name has a gradient that matches central differences', async ({ f, inputs }) => {
    const xs = inputs.map(({ shape, values }) => nt.tensor(Float32Array.from((values ?? ((n: number) => uniform(n, -2, 2)))(size(shape))), shape));
    const outShape = nt.tidy(() => [...f(...xs).shape]);
    const w = Float32Array.from(uniform(size(outShape), 0.5, 1.5));
    const result = await nt.checkGradients(weightedScalar(f, outShape, w), xs);
    expect(result.inputs.length).toBe(xs.length);
    for (const r of result.inputs) expect(r.checked).toBeGreaterThan(0);
    expect(result.maxRelativeError).toBeLessThan(1e-2);
    nt.dispose(xs);
  });

  it('catches a wrong gradient', async () => {
    // x² whose recorded gradient is dy·x instead of dy·2x.
    const wrongSquare = (x: nt.Tensor): nt.Tensor => {
      const y = nt.square(nt.stopGradient(x));
      engine.record('wrongSquare', [x], [y], ([dy]) => [nt.mul(dy, x)]);
      return y;
    };
    const rightSquare = (x: nt.Tensor): nt.Tensor => {
      const y = nt.square(nt.stopGradient(x));
      engine.record('rightSquare', [x], [y], ([dy]) => [nt.mul(dy, nt.mul(x, 2))]);
      return y;
    };
    const x = nt.tensor(Float32Array.from(uniform(7, 0.5, 2)));
    const wrong = await nt.checkGradients((t) => nt.sum(wrongSquare(t)), [x]);
    expect(wrong.maxRelativeError).toBeGreaterThan(0.3);
    expect(wrong.inputs[0].maxAbsoluteError).toBeGreaterThan(0.2);
    const right = await nt.checkGradients((t) => nt.sum(rightSquare(t)), [x]);
    expect(right.maxRelativeError).toBeLessThan(1e-2);
    x.dispose();
  });

  it('samples at most maxChecksPerInput elements and leaks nothing', async () => {
    const x = nt.tensor(Float32Array.from(uniform(200)));
    const before = nt.memory().numTensors;
    const result = await nt.checkGradients((t) => nt.sum(nt.tanh(t)), [x], { maxChecksPerInput: 5, seed: 3 });
    expect(result.inputs[0].checked).toBe(5);
    expect(result.maxRelativeError).toBeLessThan(1e-2);
    expect(nt.memory().numTensors).toBe(before);
    x.dispose();
  });
});
