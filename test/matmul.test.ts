// matMul on every backend, and on WebGPU with both kernels (register tiles and workgroup tiles):
// forward against a float64 reference on odd and larger shapes, all transpose combinations and
// broadcast batches; gradients against central differences of the reference; errors; checkGradients.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { kernelPreferences, preferredTiling, type Tiling } from '../src/backend/kernel.js';
import { matMulOp } from '../src/ops/matmul.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { normRelativeError } from './helpers/close.js';
import { uniform } from './helpers/random.js';

/** Error relative to the reference's largest magnitude (long f32 sums): ~1e-7 is typical on both backends. */
const TOL = { cpu: 1e-5, webgpu: 1e-5 } as const;

/** Each suite: a backend, and on WebGPU each kernel variant. */
interface Variant {
  name: string;
  backend: nt.BackendName;
  tiling?: Tiling;
}
const VARIANTS: Variant[] = BACKENDS.flatMap((backend): Variant[] =>
  backend === 'webgpu' ? (['register', 'workgroup'] as const).map((tiling) => ({ name: `webgpu/${tiling}`, backend, tiling })) : [{ name: backend, backend }],
);

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
];

describe('matMul kernel choice', () => {
  it('prefers register tiles on fallback adapters and workgroup tiles on GPUs', () => {
    const gpu = { vendor: 'nvidia', architecture: 'hopper', description: '', isFallbackAdapter: false };
    const swiftshader = { vendor: 'google', architecture: 'swiftshader', description: '', isFallbackAdapter: true };
    expect(preferredTiling(gpu)).toBe('workgroup');
    expect(preferredTiling(swiftshader)).toBe('register');
    expect(preferredTiling({ ...swiftshader, isFallbackAdapter: false })).toBe('register');
  });
});

describe.each(VARIANTS)('matMul on $name', ({ backend, tiling }) => {
  const tol = TOL[backend];
  let saved: Tiling;
  beforeAll(async () => {
    await useBackend(backend);
    saved = kernelPreferences.tiling;
    if (tiling) kernelPreferences.tiling = tiling;
  });
  afterAll(() => {
    kernelPreferences.tiling = saved;
  });

  if (tiling) {
    it(`builds the ${tiling} kernel`, () => {
      nt.tidy(() => {
        const [a, b] = [nt.zeros([3, 4]), nt.zeros([4, 5])];
        const call = matMulOp.kernel([a, b], matMulOp.outputs([a, b], { transposeA: false, transposeB: false }), { transposeA: false, transposeB: false });
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
