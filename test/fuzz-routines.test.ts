// Shape fuzzing of the routines: matMul and fusedMatMul (batched, broadcast batches, transposes),
// conv2d and fusedConv2d (strides, dilations, paddings; their gradients run both backprop
// kernels) and max/avg pooling, on every backend and, on WebGPU, both kernel tilings.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as nt from '../src/index.js';
import { covering } from './helpers/coverage.js';
import { checkCase, fuzz, input, seedArb, type FuzzCase } from './helpers/fuzz.js';
import { ROUTINE_TARGETS, runsOn, shapeArb, tolerance, useFuzzTarget, type FuzzTarget } from './helpers/fuzz-targets.js';
import { sizeOf } from './helpers/numeric.js';
import { broadcastShape, conv2dRef, matMulRef, poolRef, windowOut, type Window } from './helpers/reference.js';
import { rng } from './helpers/random.js';

const ACTIVATIONS: Record<nt.FusedActivation, (v: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(v, 0),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
};

/** act(y + bias[last dim]) of a reference output whose last dim has bias.length entries. */
function epilogue(y: Float64Array, bias: Float64Array | null, act: nt.FusedActivation): Float64Array {
  return y.map((v, i) => ACTIVATIONS[act](v + (bias ? bias[i % bias.length] : 0)));
}

interface MatMulParams {
  aBatch: number[];
  bBatch: number[];
  M: number;
  K: number;
  N: number;
  tA: boolean;
  tB: boolean;
  /** Breaks the case: 'k' makes b's inner dim differ, 'rank' gives a rank 1, 'bias' a wrong bias. */
  fault: 'k' | 'rank' | 'bias' | null;
  fused: { bias: boolean; activation: nt.FusedActivation } | null;
  seed: number;
}

/** Dims in [1, small], or [small, large] on targets that split. */
const dim = (target: FuzzTarget, small: number, large: number) => (target.large ? fc.integer({ min: small, max: large }) : fc.integer({ min: 1, max: small }));

const matMulArb = (target: FuzzTarget): fc.Arbitrary<MatMulParams> =>
  fc.record({
    aBatch: shapeArb(0, 2, 3),
    bBatch: shapeArb(0, 2, 3),
    M: dim(target, 9, 24),
    K: dim(target, 9, 24),
    N: dim(target, 9, 24),
    tA: fc.boolean(),
    tB: fc.boolean(),
    fault: fc.option(fc.constantFrom('k' as const, 'rank' as const, 'bias' as const), { freq: 6 }),
    fused: fc.option(fc.record({ bias: fc.boolean(), activation: fc.constantFrom('linear' as const, 'relu' as const, 'sigmoid' as const, 'tanh' as const) }), { freq: 2 }),
    seed: seedArb,
  });

function matMulCase(p: MatMulParams): FuzzCase {
  const r = rng(p.seed);
  const Kb = p.fault === 'k' ? p.K + 1 : p.K;
  const aShape = p.fault === 'rank' ? [p.K] : [...p.aBatch, ...(p.tA ? [p.K, p.M] : [p.M, p.K])];
  const bShape = [...p.bBatch, ...(p.tB ? [p.N, Kb] : [Kb, p.N])];
  const biasShape = p.fused?.bias ? [p.fault === 'bias' ? p.N + 1 : p.N] : null;
  const op = p.fused ? 'fusedMatMul' : 'matMul';
  const batch = broadcastShape(p.aBatch, p.bBatch);
  // Which shapes the message must name, by the documented rules, in the order they are checked.
  const invalid = p.fault === 'rank' ? [aShape] : p.fault === 'k' || batch === null ? [aShape, bShape] : p.fault === 'bias' && biasShape ? [biasShape] : null;
  const inputs = [input(r, aShape), input(r, bShape), ...(biasShape ? [input(r, biasShape)] : [])];
  const options = { transposeA: p.tA, transposeB: p.tB };
  return {
    op,
    seed: p.seed,
    inputs,
    build: ([a, b, bias]) => (p.fused ? nt.fusedMatMul(a, b, { ...options, bias, activation: p.fused.activation }) : nt.matMul(a, b, options)),
    invalid,
    outShape: [...(batch ?? []), p.M, p.N],
    reference: ([a, b, bias]) => epilogue(matMulRef(a, aShape, b, bShape, p.tA, p.tB), bias ?? null, p.fused?.activation ?? 'linear'),
    differentiable: inputs.map((_, i) => i),
  };
}

interface ConvParams {
  N: number;
  H: number;
  W: number;
  C: number;
  O: number;
  window: Window;
  rank3: boolean;
  /** Breaks the case: a filter with the wrong input channels. */
  wrongChannels: boolean;
  fused: { bias: boolean; activation: nt.FusedActivation } | null;
  seed: number;
}

const pairArb = (max: number) => fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max }));
const windowArb = (maxK: number, maxDilation: number): fc.Arbitrary<Window> =>
  fc.record({ k: pairArb(maxK), s: pairArb(3), d: pairArb(maxDilation), padding: fc.constantFrom('same' as const, 'valid' as const) });

const convArb = (target: FuzzTarget): fc.Arbitrary<ConvParams> =>
  fc.record({
    N: fc.integer({ min: 1, max: 2 }),
    H: dim(target, 7, 14),
    // Split kernels bind whole image rows: a window's rows (W·C floats each, up to 5 rows with
    // dilation) must fit 1 KiB with the offset's alignment, else conv2d refuses the split (a
    // BackendError saying so; on real devices a binding holds 128 MiB or more).
    W: target.large ? fc.integer({ min: 4, max: 8 }) : fc.integer({ min: 1, max: 7 }),
    C: fc.integer({ min: 1, max: 3 }),
    O: fc.integer({ min: 1, max: 3 }),
    window: windowArb(3, 2),
    rank3: fc.boolean(),
    wrongChannels: fc.nat(5).map((v) => v === 0),
    fused: fc.option(fc.record({ bias: fc.boolean(), activation: fc.constantFrom('linear' as const, 'relu' as const, 'sigmoid' as const, 'tanh' as const) }), { freq: 3 }),
    seed: seedArb,
  });

function convCase(p: ConvParams): FuzzCase {
  const r = rng(p.seed);
  const xShape = p.rank3 ? [p.H, p.W, p.C] : [p.N, p.H, p.W, p.C];
  const fShape = [p.window.k[0], p.window.k[1], p.wrongChannels ? p.C + 1 : p.C, p.O];
  const biasShape = p.fused?.bias ? [p.O] : null;
  const [oh, ow] = windowOut(p.H, p.W, p.window);
  const op = p.fused && (p.fused.bias || p.fused.activation !== 'linear') ? 'fusedConv2d' : 'conv2d';
  const inputs = [input(r, xShape), input(r, fShape), ...(biasShape ? [input(r, biasShape)] : [])];
  const options = { strides: p.window.s, dilations: p.window.d, padding: p.window.padding };
  const x4 = [p.rank3 ? 1 : p.N, p.H, p.W, p.C];
  return {
    op,
    seed: p.seed,
    inputs,
    build: ([x, f, bias]) => (p.fused ? nt.fusedConv2d(x, f, { ...options, bias, activation: p.fused.activation }) : nt.conv2d(x, f, options)),
    invalid: p.wrongChannels || oh === 0 || ow === 0 ? [xShape, fShape] : null,
    outShape: p.rank3 ? [oh, ow, p.O] : [p.N, oh, ow, p.O],
    reference: ([x, f, bias]) => epilogue(conv2dRef(x, x4, f, fShape, p.window), bias ?? null, p.fused?.activation ?? 'linear'),
    differentiable: inputs.map((_, i) => i),
  };
}

/** n distinct values 1/64 apart in random order: no window has two maxima, and the difference step never changes one. */
function distinct(r: () => number, n: number): Float64Array {
  const order = Array.from({ length: n }, (_, i) => [r(), i]).sort((p, q) => p[0] - q[0]);
  const out = new Float64Array(n);
  order.forEach(([, i], rank) => (out[i] = (rank - n / 2) / 64));
  return out;
}

interface PoolParams {
  kind: 'max' | 'avg';
  shape: number[];
  window: Window;
  seed: number;
}

function poolCase({ kind, shape, window, seed }: PoolParams): FuzzCase {
  const x4 = shape.length === 3 ? [1, ...shape] : shape;
  const [oh, ow] = windowOut(x4[1], x4[2], window);
  const op = kind === 'max' ? 'maxPool2d' : 'avgPool2d';
  return {
    op,
    seed,
    inputs: [{ values: distinct(rng(seed), sizeOf(shape)), shape }],
    build: ([x]) => (kind === 'max' ? nt.maxPool2d : nt.avgPool2d)(x, { poolSize: window.k, strides: window.s, padding: window.padding }),
    invalid: oh === 0 || ow === 0 ? [shape] : null,
    outShape: shape.length === 3 ? [oh, ow, shape[2]] : [shape[0], oh, ow, shape[3]],
    reference: ([x]) => poolRef(x, x4, window, kind),
    differentiable: [0],
  };
}

describe.each(ROUTINE_TARGETS)('routine shape fuzzing on $name', (target) => {
  useFuzzTarget(target);
  const tol = tolerance(target);
  const runs = (cpu: number, gpu: number) => runsOn(target, cpu, gpu);

  it('matMul and fusedMatMul: batches, broadcasting, transposes, wrong inner dims, ranks and biases', async () => {
    const plain: MatMulParams = { aBatch: [2], bBatch: [], M: 3, K: 5, N: 2, tA: false, tB: true, fault: null, fused: null, seed: 1 };
    const examples = [plain, { ...plain, fused: { bias: true, activation: 'tanh' as const } }];
    await covering({ forward: ['matMul', 'fusedMatMul'], gradient: ['matMul', 'fusedMatMul'] }, () =>
      fuzz(`matMul/${target.name}`, matMulArb(target), (p) => checkCase(matMulCase(p), tol), runs(40, 6), examples),
    );
  });

  it('conv2d and fusedConv2d: strides, dilations, paddings, rank-3 inputs, empty outputs and wrong channels; both backprops', async () => {
    const window: Window = { k: [2, 3], s: [1, 2], d: [1, 1], padding: 'same' };
    const plain: ConvParams = { N: 2, H: 5, W: 4, C: 2, O: 3, window, rank3: false, wrongChannels: false, fused: null, seed: 1 };
    // Few of this input gradient's taps fall outside dy, so register-tiled WebGPU runs the direct
    // kernel for it, not patch columns (ops/conv-columns.ts), as for most small fuzzed shapes.
    const dense: ConvParams = { ...plain, H: 9, W: 8, window: { k: [2, 2], s: [1, 1], d: [1, 1], padding: 'same' } };
    const examples = [plain, { ...plain, fused: { bias: true, activation: 'relu' as const } }, dense];
    await covering(
      { forward: ['conv2d', 'fusedConv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'], gradient: ['conv2d', 'fusedConv2d'] },
      () => fuzz(`conv2d/${target.name}`, convArb(target), (p) => checkCase(convCase(p), tol), runs(30, 5), examples),
    );
  });

  it('maxPool2d and avgPool2d: pool sizes, strides, paddings, rank-3 inputs and empty outputs', async () => {
    const arb = fc.record({
      kind: fc.constantFrom('max' as const, 'avg' as const),
      shape: target.large ? fc.tuple(dim(target, 1, 2), dim(target, 6, 14), fc.integer({ min: 4, max: 8 }), fc.integer({ min: 1, max: 3 })) : fc.oneof(shapeArb(4, 4, 6), shapeArb(3, 3, 6)),
      window: windowArb(3, 1),
      seed: seedArb,
    });
    const window: Window = { k: [2, 2], s: [2, 1], d: [1, 1], padding: 'same' };
    const examples = (['max', 'avg'] as const).map((kind) => ({ kind, shape: [1, 5, 4, 2], window, seed: 1 }));
    await covering(
      { forward: ['maxPool2d', 'avgPool2d', 'maxPool2dBackprop', 'avgPool2dBackprop'], gradient: ['maxPool2d', 'avgPool2d'] },
      () => fuzz(`pool/${target.name}`, arb, (p) => checkCase(poolCase(p), tol), runs(30, 8), examples),
    );
  });
});
