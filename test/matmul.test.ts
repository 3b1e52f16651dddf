// matMul on every backend, and on WebGPU with both kernels (register tiles and workgroup tiles):
// forward against a float64 reference on odd and larger shapes, all transpose combinations and
// broadcast batches; gradients against central differences of the reference; errors; checkGradients.
// fusedMatMul (bias + activation in the kernel's epilogue) likewise, for each activation, with and without bias.
import { describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import { preferredTiling } from '../src/backend/webgpu/tiling-choice.js';
import { fusedMatMulOp, matMulOp } from '../src/ops/matmul.js';
import { VARIANTS, useVariant } from './helpers/variants.js';
import { normRelativeError } from './helpers/close.js';
import { uniform } from './helpers/random.js';

/** Error relative to the reference's largest magnitude (long f32 sums): ~1e-7 is typical on both backends. */
const TOL = { cpu: 1e-5, webgpu: 1e-5 } as const;


const FLAGS = [
  { transposeA: false, transposeB: false },
  { transposeA: true, transposeB: false },
  { transposeA: false, transposeB: true },
  { transposeA: true, transposeB: true },
];

interface Operand {
  values: Float64Array;
  shape: number[];
}

interface Case {
  aBatch: number[];
  bBatch: number[];
  M: number;
  K: number;
  N: number;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** Random operands of a case, laid out as the flags say ([..., K, M] when transposeA, [..., N, K] when transposeB). */
function operands({ aBatch, bBatch, M, K, N }: Case, { transposeA, transposeB }: (typeof FLAGS)[number]): [Operand, Operand] {
  const aShape = [...aBatch, ...(transposeA ? [K, M] : [M, K])];
  const bShape = [...bBatch, ...(transposeB ? [N, K] : [K, N])];
  return [
    { values: uniform(sizeOf(aShape)), shape: aShape },
    { values: uniform(sizeOf(bShape)), shape: bShape },
  ];
}

/** Index into an input's batch (right-aligned, size-1 dims broadcast) of output batch `z`. */
function batchIndex(z: number, outBatch: number[], batch: number[]): number {
  let idx = 0;
  let stride = 1;
  for (let d = outBatch.length - 1; d >= 0; d--) {
    const c = z % outBatch[d];
    z = Math.floor(z / outBatch[d]);
    const j = d - (outBatch.length - batch.length);
    if (j >= 0) {
      if (batch[j] !== 1) idx += c * stride;
      stride *= batch[j];
    }
  }
  return idx;
}

/** The float64 reference product. */
function refMatMul(a: Operand, b: Operand, tA: boolean, tB: boolean): Operand {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K, N] = [tA ? ac : ar, tA ? ar : ac, tB ? br : bc];
  const aB = a.shape.slice(0, -2);
  const bB = b.shape.slice(0, -2);
  const rank = Math.max(aB.length, bB.length);
  const batch = Array.from({ length: rank }, (_, i) => Math.max(aB[aB.length - rank + i] ?? 1, bB[bB.length - rank + i] ?? 1));
  const out = new Float64Array(sizeOf(batch) * M * N);
  for (let z = 0; z < sizeOf(batch); z++) {
    const ao = batchIndex(z, batch, aB) * ar * ac;
    const bo = batchIndex(z, batch, bB) * br * bc;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.values[ao + (tA ? k * ac + i : i * ac + k)] * b.values[bo + (tB ? j * bc + k : k * bc + j)];
        out[(z * M + i) * N + j] = s;
      }
  }
  return { values: out, shape: [...batch, M, N] };
}

const toTensor = (x: Operand): nt.Tensor => nt.tensor(Float32Array.from(x.values), x.shape);

async function neuriteMatMul(a: Operand, b: Operand, flags: nt.MatMulOptions): Promise<{ shape: number[]; values: Float32Array }> {
  const y = nt.tidy(() => nt.matMul(toTensor(a), toTensor(b), flags));
  const values = (await y.data()) as Float32Array;
  const shape = [...y.shape];
  y.dispose();
  return { shape, values };
}

/** Central differences of the float64 loss Σ W ⊙ (a·b) with respect to every element of `x` (a or b). */
function numericGrad(a: Operand, b: Operand, w: Float64Array, wrtA: boolean, tA: boolean, tB: boolean): Float64Array {
  const h = 1e-3;
  const x = wrtA ? a : b;
  const loss = (): number => refMatMul(a, b, tA, tB).values.reduce((s, v, i) => s + v * w[i], 0);
  return x.values.map((v, i) => {
    x.values[i] = v + h;
    const plus = loss();
    x.values[i] = v - h;
    const minus = loss();
    x.values[i] = v;
    return (plus - minus) / (2 * h);
  });
}

const MAT_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 3, 7],
  [3, 1, 13],
  [7, 13, 1],
  [13, 31, 33],
  [31, 65, 3],
  [65, 7, 127],
  [127, 33, 65],
  [16, 64, 64],
  [257, 129, 67],
  // N a multiple of 4 (the register kernel reads B as vec4s) with odd M and K (k unrolled ×4, a remainder)
  [9, 7, 12],
  [33, 65, 20],
  // enough tiles for the register kernel's 16 × 16 shape: ragged edges, K with a remainder, B as vec4s or not
  [263, 37, 259],
  [260, 65, 260],
];

const BATCH_CASES: Case[] = [
  { aBatch: [3], bBatch: [3], M: 5, K: 7, N: 9 },
  { aBatch: [4], bBatch: [], M: 13, K: 3, N: 10 },
  { aBatch: [], bBatch: [2, 3], M: 9, K: 17, N: 5 },
  { aBatch: [2, 1], bBatch: [1, 3], M: 7, K: 6, N: 11 },
  { aBatch: [1, 3], bBatch: [2, 1], M: 1, K: 9, N: 3 },
  { aBatch: [2, 3, 1], bBatch: [3, 2], M: 3, K: 5, N: 4 },
  // Interleaved broadcasts that do not collapse to three batch dims.
  { aBatch: [2, 1, 2, 1], bBatch: [1, 2, 1, 2], M: 3, K: 4, N: 5 },
  // Large register tiles over a batch (each matrix alone has too few of them).
  { aBatch: [4], bBatch: [4], M: 129, K: 9, N: 131 },
];

describe('matMul kernel choice', () => {
  it('gives register kernels 16 × 16 tiles where a product has enough of them, else 8 × 8', () => {
    const keyOf = (aShape: number[], bShape: number[]) =>
      nt.tidy(() => {
        const [a, b] = [nt.zeros(aShape), nt.zeros(bShape)];
        const attrs = { transposeA: false, transposeB: false };
        return matMulOp.kernel([a, b], matMulOp.outputs([a, b], attrs), attrs, { tiling: 'register' }).key;
      });
    expect(keyOf([256, 8], [8, 256])).toContain('register:r16x4vu4'); // 16 × 16 = 256 tiles
    expect(keyOf([240, 8], [8, 256])).toContain('register:r8x2vu4'); // 15 × 16 = 240: too few
    expect(keyOf([16, 64, 8], [16, 8, 64])).toContain('register:r16x4vu4'); // 4 × 4 tiles × 16 matrices
    expect(keyOf([256, 8], [8, 255])).toContain('register:r16x4su4'); // N not a multiple of 4: scalar B
  });

  it('prefers register tiles on fallback adapters and workgroup tiles on GPUs', () => {
    const gpu = { vendor: 'nvidia', architecture: 'hopper', description: '', isFallbackAdapter: false };
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', description: '', isFallbackAdapter: true };
    expect(preferredTiling(gpu)).toBe('workgroup');
    expect(preferredTiling(swiftshader)).toBe('register');
    expect(preferredTiling({ ...swiftshader, isFallbackAdapter: false })).toBe('register');
  });
});

describe.each(VARIANTS)('matMul on $name', (variant) => {
  const { backend, tiling } = variant;
  const tol = TOL[backend];
  useVariant(variant);

  if (tiling) {
    it(`builds the ${tiling} kernel`, () => {
      nt.tidy(() => {
        const [a, b] = [nt.zeros([3, 4]), nt.zeros([4, 5])];
        const call = matMulOp.kernel([a, b], matMulOp.outputs([a, b], { transposeA: false, transposeB: false }), { transposeA: false, transposeB: false }, { tiling });
        expect(call.key).toContain(tiling);
      });
    });
  }

  it.each(MAT_SHAPES)('M=%i K=%i N=%i matches float64', async (M, K, N) => {
    const [a, b] = operands({ aBatch: [], bBatch: [], M, K, N }, FLAGS[0]);
    const y = await neuriteMatMul(a, b, {});
    const ref = refMatMul(a, b, false, false);
    expect(y.shape).toEqual([M, N]);
    expect(normRelativeError(y.values, ref.values)).toBeLessThan(tol);
  });

  describe.each(FLAGS)('transposeA $transposeA, transposeB $transposeB', (flags) => {
    it.each([
      [1, 1, 1],
      [7, 13, 3],
      [33, 65, 31],
      [257, 129, 67],
      [263, 37, 259],
    ])('[M,K,N] = [%i,%i,%i] matches float64', async (M, K, N) => {
      const [a, b] = operands({ aBatch: [], bBatch: [], M, K, N }, flags);
      const y = await neuriteMatMul(a, b, flags);
      expect(y.shape).toEqual([M, N]);
      expect(normRelativeError(y.values, refMatMul(a, b, flags.transposeA, flags.transposeB).values)).toBeLessThan(tol);
    });

    it.each(BATCH_CASES)('broadcasts batch $aBatch with $bBatch', async (c) => {
      const [a, b] = operands(c, flags);
      const y = await neuriteMatMul(a, b, flags);
      const ref = refMatMul(a, b, flags.transposeA, flags.transposeB);
      expect(y.shape).toEqual(ref.shape);
      expect(normRelativeError(y.values, ref.values)).toBeLessThan(tol);
    });

    it.each([
      { aBatch: [], bBatch: [], M: 3, K: 5, N: 4 },
      { aBatch: [2, 1], bBatch: [3], M: 3, K: 4, N: 2 },
    ])('gradients with batch $aBatch x $bBatch match central differences', async (c) => {
      const [a, b] = operands(c, flags);
      const outShape = refMatMul(a, b, flags.transposeA, flags.transposeB).shape;
      const w = uniform(sizeOf(outShape));
      const [ga, gb] = nt.grads((x, y) => nt.sum(nt.mul(nt.matMul(x, y, flags), nt.tensor(Float32Array.from(w), outShape))))([toTensor(a), toTensor(b)]);
      expect(ga.shape).toEqual(a.shape);
      expect(gb.shape).toEqual(b.shape);
      const refA = numericGrad(a, b, w, true, flags.transposeA, flags.transposeB);
      const refB = numericGrad(a, b, w, false, flags.transposeA, flags.transposeB);
      expect(normRelativeError(await ga.data(), refA), 'd/da').toBeLessThan(tol);
      expect(normRelativeError(await gb.data(), refB), 'd/db').toBeLessThan(tol);
      nt.dispose([ga, gb]);
    });
  });

  it('returns zeros when K is 0 and an empty tensor when M is 0', async () => {
    const y = nt.tidy(() => nt.matMul(nt.zeros([3, 0]), nt.zeros([0, 2])));
    expect(Array.from(await y.data())).toEqual([0, 0, 0, 0, 0, 0]);
    const e = nt.tidy(() => nt.matMul(nt.zeros([0, 4]), nt.zeros([4, 2])));
    expect(e.shape).toEqual([0, 2]);
    nt.dispose([y, e]);
  });

  it('passes checkGradients', async () => {
    const w = nt.tensor(Float32Array.from(uniform(2 * 3 * 5)), [2, 3, 5]);
    const a = nt.tensor(Float32Array.from(uniform(2 * 3 * 4)), [2, 3, 4]);
    const b = nt.tensor(Float32Array.from(uniform(5 * 4)), [5, 4]);
    const result = await nt.checkGradients((x, y) => nt.sum(nt.mul(nt.matMul(x, y, { transposeB: true }), w)), [a, b]);
    expect(result.maxRelativeError).toBeLessThan(1e-2);
    nt.dispose([w, a, b]);
  });

  it('names the op, both shapes and what was expected in shape errors', () => {
    nt.tidy(() => {
      expect(() => nt.matMul(nt.zeros([2, 3]), nt.zeros([4, 5]))).toThrow(
        'matMul: inner dims differ: a [2,3] (transposeA false) has K=3, b [4,5] (transposeB false) has K=4',
      );
      expect(() => nt.matMul(nt.zeros([2, 3]), nt.zeros([2, 5]), { transposeA: true, transposeB: true })).toThrow(
        'matMul: inner dims differ: a [2,3] (transposeA true) has K=2, b [2,5] (transposeB true) has K=5',
      );
      expect(() => nt.matMul(nt.zeros([3]), nt.zeros([3, 2]))).toThrow(nt.ShapeError);
      expect(() => nt.matMul(nt.zeros([3]), nt.zeros([3, 2]))).toThrow(/matMul: a \[3\] has rank 1; expected rank 2 or more/);
      expect(() => nt.matMul(nt.zeros([2, 3, 4]), nt.zeros([5, 4, 6]))).toThrow(
        /matMul: batch dims of a \[2,3,4\] and b \[5,4,6\] do not broadcast \(batch dim -1 is 2 vs 5/,
      );
    });
  });

  it('rejects int32 inputs with a DTypeError', () => {
    nt.tidy(() => {
      const i = nt.zeros([2, 2], 'int32');
      expect(() => nt.matMul(i, nt.zeros([2, 2]))).toThrow(nt.DTypeError);
      expect(() => nt.matMul(nt.zeros([2, 2]), i)).toThrow('matMul: expected float32 inputs, got a float32 [2,2] and b int32 [2,2]');
    });
  });
});

const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh'] as const;
type Act = (typeof ACTIVATIONS)[number];
const ACT_FN: Record<Act, (z: number) => number> = {
  linear: (z) => z,
  relu: (z) => Math.max(z, 0),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: Math.tanh,
};

/** The float64 reference of fusedMatMul: act(a·b + bias[col]). */
function refFused(a: Operand, b: Operand, bias: Operand | null, act: Act, tA: boolean, tB: boolean): Operand {
  const z = refMatMul(a, b, tA, tB);
  const N = z.shape[z.shape.length - 1];
  return { shape: z.shape, values: z.values.map((v, i) => ACT_FN[act](v + (bias ? bias.values[i % N] : 0))) };
}

/** Central differences of Σ W ⊙ fused(a, b, bias) with respect to every element of `x`. */
function numericFusedGrad(x: Operand, f: () => Operand, w: Float64Array): Float64Array {
  const h = 1e-3;
  const loss = (): number => f().values.reduce((s, v, i) => s + v * w[i], 0);
  return x.values.map((v, i) => {
    x.values[i] = v + h;
    const plus = loss();
    x.values[i] = v - h;
    const minus = loss();
    x.values[i] = v;
    return (plus - minus) / (2 * h);
  });
}

/** Shapes of the forward checks: [aBatch, M, K, N] (b unbatched when aBatch is set, so the bias spans batches). */
const FUSED_SHAPES: [number[], number, number, number][] = [
  [[], 1, 1, 1],
  [[], 7, 13, 5],
  [[], 33, 65, 17],
  [[2], 7, 13, 5],
  // N a multiple of 4: B read as vec4s, K not a multiple of the k unroll
  [[3], 9, 13, 12],
];

describe.each(VARIANTS)('fusedMatMul on $name', (variant) => {
  const { backend, tiling } = variant;
  const tol = TOL[backend];
  useVariant(variant);

  it('builds one kernel whose key holds the variant, the activation and the bias', () => {
    nt.tidy(() => {
      const [a, b, bias] = [nt.zeros([3, 4]), nt.zeros([4, 5]), nt.zeros([5])];
      const attrs = { transposeA: false, transposeB: false, activation: 'relu' as const };
      const withBias = fusedMatMulOp.kernel([a, b, bias], fusedMatMulOp.outputs([a, b, bias], attrs), attrs, engine.backend.preferences);
      const without = fusedMatMulOp.kernel([a, b], fusedMatMulOp.outputs([a, b], attrs), attrs, engine.backend.preferences);
      expect(withBias.key).toContain(tiling ?? engine.backend.preferences.tiling);
      expect(withBias.key).toContain('relu');
      expect(withBias.key).not.toBe(without.key);
    });
  });

  describe.each(ACTIVATIONS)('activation %s', (activation) => {
    const cases = FUSED_SHAPES.flatMap((shape, i) =>
      [true, false].map((withBias) => {
        const flags = FLAGS[(i + +withBias) % 4];
        const label = `[${[...shape[0], shape[1], shape[2]]}] x [${shape[2]},${shape[3]}] tA ${flags.transposeA} tB ${flags.transposeB} bias ${withBias}`;
        return { shape, withBias, flags, label };
      }),
    );
    it.each(cases)(
      '$label matches float64',
      async ({ shape: [aBatch, M, K, N], withBias, flags }) => {
        const [a, b] = operands({ aBatch, bBatch: [], M, K, N }, flags);
        const bias = withBias ? { values: uniform(N), shape: [N] } : null;
        const y = nt.tidy(() => nt.fusedMatMul(toTensor(a), toTensor(b), { ...flags, activation, bias: bias ? toTensor(bias) : undefined }));
        const ref = refFused(a, b, bias, activation, flags.transposeA, flags.transposeB);
        expect(y.shape).toEqual(ref.shape);
        expect(normRelativeError(await y.data(), ref.values)).toBeLessThan(tol);
        y.dispose();
      },
    );

    it.each([
      { aBatch: [], M: 3, K: 5, N: 4, flags: FLAGS[0] },
      { aBatch: [], M: 7, K: 3, N: 5, flags: FLAGS[3] },
      { aBatch: [2], M: 3, K: 4, N: 6, flags: FLAGS[1] },
    ])('gradients w.r.t. a, b and bias, batch $aBatch, [M,K,N] [$M,$K,$N], match central differences', async ({ aBatch, M, K, N, flags }) => {
      const [a, b] = operands({ aBatch, bBatch: [], M, K, N }, flags);
      const bias = { values: uniform(N), shape: [N] };
      const f = () => refFused(a, b, bias, activation, flags.transposeA, flags.transposeB);
      const ref = f();
      // Relu's kink: outputs whose pre-activation is within 0.01 of 0 get no weight, since a step
      // of 1e-3 in one input moves each pre-activation by at most 1e-3 (inputs lie in [-1, 1)).
      const pre = refFused(a, b, bias, 'linear', flags.transposeA, flags.transposeB).values;
      const w = uniform(ref.values.length).map((v, i) => (Math.abs(pre[i]) < 0.01 ? 0 : v));
      const wT = nt.tensor(Float32Array.from(w), ref.shape);
      const [ga, gb, gbias] = nt.grads((x, y, z) => nt.sum(nt.mul(nt.fusedMatMul(x, y, { ...flags, bias: z, activation }), wT)))([
        toTensor(a),
        toTensor(b),
        toTensor(bias),
      ]);
      expect([ga.shape, gb.shape, gbias.shape]).toEqual([a.shape, b.shape, [N]]);
      expect(normRelativeError(await ga.data(), numericFusedGrad(a, f, w)), 'd/da').toBeLessThan(tol);
      expect(normRelativeError(await gb.data(), numericFusedGrad(b, f, w)), 'd/db').toBeLessThan(tol);
      expect(normRelativeError(await gbias.data(), numericFusedGrad(bias, f, w)), 'd/dbias').toBeLessThan(tol);
      nt.dispose([ga, gb, gbias, wT]);
    });
  });

  it('takes the gradient of the bias alone (a and b need none)', async () => {
    const [a, b] = operands({ aBatch: [], bBatch: [], M: 4, K: 3, N: 2 }, FLAGS[0]);
    const [ta, tb, tbias] = [toTensor(a), toTensor(b), nt.tensor(Float32Array.from(uniform(2)), [2])];
    const gbias = nt.grad((z) => nt.sum(nt.fusedMatMul(ta, tb, { bias: z, activation: 'tanh' })))(tbias);
    const ref = refFused(a, b, { values: Float64Array.from(await tbias.data()), shape: [2] }, 'tanh', false, false).values;
    // d/dbias_j Σ tanh(z) = Σ_i (1 − y_ij²)
    const expected = [0, 1].map((j) => ref.reduce((s, y, i) => (i % 2 === j ? s + 1 - y * y : s), 0));
    expect(normRelativeError(await gbias.data(), expected)).toBeLessThan(tol);
    nt.dispose([ta, tb, tbias, gbias]);
  });

  it('names the op in argument, shape and dtype errors', () => {
    nt.tidy(() => {
      const [a, b] = [nt.zeros([2, 3]), nt.zeros([3, 4])];
      expect(() => nt.fusedMatMul(a, b, { activation: 'softmax' as never })).toThrow(nt.ArgumentError);
      expect(() => nt.fusedMatMul(a, b, { activation: 'softmax' as never })).toThrow(
        'fusedMatMul: unsupported activation "softmax" (expected one of linear, relu, sigmoid, tanh)',
      );
      expect(() => nt.fusedMatMul(a, b, { bias: nt.zeros([3]) })).toThrow(nt.ShapeError);
      expect(() => nt.fusedMatMul(a, b, { bias: nt.zeros([1, 4]) })).toThrow(
        "fusedMatMul: bias [1,4] does not match the product's 4 columns; expected shape [4]",
      );
      expect(() => nt.fusedMatMul(a, b, { bias: nt.zeros([4], 'int32') })).toThrow(nt.DTypeError);
      expect(() => nt.fusedMatMul(a, nt.zeros([4, 4]), { activation: 'relu' })).toThrow(
        'fusedMatMul: inner dims differ: a [2,3] (transposeA false) has K=3, b [4,4] (transposeB false) has K=4',
      );
    });
  });
});
