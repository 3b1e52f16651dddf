// Tensors larger than one GPU binding (maxStorageBufferBindingSize): kernels run as several
// dispatches over windows of their buffers. A backend with a 1 KiB binding limit (256 floats)
// exercises every split on small odd sizes against float64 references written here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { preferTiling } from './helpers/variants.js';
import { BACKENDS, RTOL } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { coordsOf, indexOf, numericGradient, sizeOf } from './helpers/numeric.js';
import { integers, uniform } from './helpers/random.js';

const gpu = BACKENDS.includes('webgpu');
const LIMIT_BYTES = 1024;
const LIMIT = LIMIT_BYTES / 4;
const rtol = RTOL.webgpu;

/**
 * Runs `f`, reads its result, and returns the values with the dispatches it took. Elementwise
 * values are lazy: flushes realize the inputs' before counting and `f`'s before reading the count.
 */
async function run(f: () => nt.Tensor): Promise<{ values: Float32Array | Int32Array; dispatches: number }> {
  nt.flush();
  nt.resetStats();
  const y = f();
  nt.flush();
  const dispatches = nt.stats().dispatches;
  const values = (await y.data()) as Float32Array | Int32Array;
  y.dispose();
  return { values, dispatches };
}

/** Values of a row-major tensor of `shape` read at out coords mapped by `src`. */
function gatherCoords(x: ArrayLike<number>, shape: number[], outShape: number[], src: (c: number[]) => number[]): Float64Array {
  return Float64Array.from({ length: sizeOf(outShape) }, (_, i) => x[indexOf(src(coordsOf(i, outShape)), shape)]);
}

describe.runIf(gpu)(`webgpu with a ${LIMIT_BYTES}-byte binding limit`, () => {
  let backend: WebGpuBackend;
  beforeAll(async () => {
    backend = await createWebGpuBackend({ maxBindingBytes: LIMIT_BYTES });
    engine.setBackend(backend);
  });
  afterAll(async () => {
    await nt.setBackend('cpu');
    backend.destroy();
  });

  it.each([1031, 4099])('runs contiguous elementwise ops over %i elements as several dispatches', async (n) => {
    const a = uniform(n);
    const b = uniform(n, 0.5, 2);
    const ta = nt.tensor(Float32Array.from(a));
    const tb = nt.tensor(Float32Array.from(b));
    const { values, dispatches } = await run(() => nt.div(nt.add(ta, nt.exp(ta)), tb));
    // The chain fuses into one kernel (ta, tb, out bound), which runs over windows of all three.
    expect(dispatches).toBeGreaterThanOrEqual(Math.ceil(n / LIMIT));
    expectAllClose(values, a.map((v, i) => (v + Math.exp(v)) / b[i]), { rtol });
    nt.dispose([ta, tb]);
  });

  it.each([1031, 4099])('runs fused elementwise kernels over %i elements split: a chain, and two values as one multi-output kernel', async (n) => {
    const x = uniform(n, -2, 2);
    const tx = nt.tensor(Float32Array.from(x));
    // Any one elementwise kernel over n contiguous elements splits into the same ranges.
    const one = (await run(() => nt.neg(tx))).dispatches;
    expect(one).toBeGreaterThanOrEqual(Math.ceil(n / LIMIT));

    const chain = await run(() => nt.relu(nt.add(nt.mul(tx, 2), 1)));
    expect(chain.dispatches).toBe(one);
    expectAllClose(chain.values, x.map((v) => Math.max(0, v * 2 + 1)), { rtol });

    nt.flush();
    nt.resetStats();
    const a = nt.mul(tx, 2);
    const b = nt.add(tx, 1);
    // A flush computes both pending values of one shape as one kernel with two outputs.
    nt.flush();
    const av = await a.data();
    const bv = await b.data();
    expect(nt.stats().dispatches).toBe(one);
    expectAllClose(av, x.map((v) => v * 2), { rtol });
    expectAllClose(bv, x.map((v) => v + 1), { rtol });
    nt.dispose([a, b, tx]);
  });

  it.each([
    [[37, 29], [29]],
    [[37, 29], [37, 1]],
    [[5, 1, 61], [7, 1]],
    [[3, 41, 13], [1, 41, 1]],
  ])('broadcasts %j with %j', async (shapeA, shapeB) => {
    const outShape = shapeA.map((d, i) => Math.max(d, [...new Array(shapeA.length - shapeB.length).fill(1), ...shapeB][i]));
    const a = uniform(sizeOf(shapeA));
    const b = uniform(sizeOf(shapeB));
    const ta = nt.tensor(Float32Array.from(a), shapeA);
    const tb = nt.tensor(Float32Array.from(b), shapeB);
    const { values, dispatches } = await run(() => nt.mul(ta, tb));
    expect(dispatches).toBeGreaterThan(1);
    const lead = shapeA.length - shapeB.length;
    const pick = (x: Float64Array, shape: number[], c: number[]) => x[indexOf(c.slice(c.length - shape.length).map((v, d) => (shape[d] === 1 ? 0 : v)), shape)];
    const expected = Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = coordsOf(i, outShape);
      return pick(a, shapeA, c) * pick(b, shapeB, c.slice(lead));
    });
    expectAllClose(values, expected, { rtol });
    nt.dispose([ta, tb]);
  });

  it.each([
    [[41, 37], [1, 0]],
    [[7, 11, 13], [2, 0, 1]],
    [[3, 5, 7, 11], [3, 1, 0, 2]],
  ])('transposes %j by %j', async (shape, perm) => {
    const x = uniform(sizeOf(shape));
    const tx = nt.tensor(Float32Array.from(x), shape);
    const { values, dispatches } = await run(() => nt.transpose(tx, { perm }));
    expect(dispatches).toBeGreaterThan(1);
    const outShape = perm.map((p) => shape[p]);
    expectAllClose(values, gatherCoords(x, shape, outShape, (c) => {
      const src = new Array<number>(shape.length);
      perm.forEach((p, d) => (src[p] = c[d]));
      return src;
    }), { rtol: 0, atol: 0 });
    tx.dispose();
  });

  it.each([
    [[300, 7], [250, 2], [13, 5]],
    [[1000, 3], [997, 0], [3, 3]],
    [[61, 67], [3, 5], [50, 60]],
    [[5000], [4321], [77]],
  ])('slices %j at %j, size %j, binding only the window it reads', async (shape, begin, size) => {
    const x = uniform(sizeOf(shape));
    const tx = nt.tensor(Float32Array.from(x), shape);
    const { values, dispatches } = await run(() => nt.slice(tx, { begin, size }));
    expect(dispatches).toBeGreaterThanOrEqual(Math.ceil(sizeOf(size) / LIMIT));
    expectAllClose(values, gatherCoords(x, shape, size, (c) => c.map((v, d) => v + begin[d])), { rtol: 0, atol: 0 });
    tx.dispose();
  });

  it.each([
    [[300, 5], 0, [17]],
    [[7, 50, 3], 1, [4, 3]],
    [[2000], 0, [301]],
    [[64, 3], 0, [400]],
  ])('gathers from %j along axis %i with indices of shape %j (with out-of-range ones)', async (shape, axis, indexShape) => {
    const x = uniform(sizeOf(shape));
    const indices = integers(sizeOf(indexShape), shape[axis] + 2).map((v) => v - 1);
    const tx = nt.tensor(Float32Array.from(x), shape);
    const ti = nt.tensor(indices, indexShape, 'int32');
    const { values, dispatches } = await run(() => nt.gather(tx, ti, { axis }));
    expect(dispatches).toBeGreaterThan(1);
    const outShape = [...shape.slice(0, axis), ...indexShape, ...shape.slice(axis + 1)];
    const expected = Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = coordsOf(i, outShape);
      const id = indices[indexOf(c.slice(axis, axis + indexShape.length), indexShape)];
      return id < 0 || id >= shape[axis] ? 0 : x[indexOf([...c.slice(0, axis), id, ...c.slice(axis + indexShape.length)], shape)];
    });
    expectAllClose(values, expected, { rtol: 0, atol: 0 });
    nt.dispose([tx, ti]);
  });

  it('scatters the gradient of gather into a table larger than one binding', async () => {
    const [rows, cols, picks] = [301, 3, 40];
    const x = uniform(rows * cols);
    const w = uniform(picks * cols);
    const indices = integers(picks, rows);
    const tx = nt.tensor(Float32Array.from(x), [rows, cols]);
    const ti = nt.tensor(indices, [picks], 'int32');
    const tw = nt.tensor(Float32Array.from(w), [picks, cols]);
    const { values, dispatches } = await run(() => nt.grad((t: nt.Tensor) => nt.sum(nt.mul(nt.gather(t, ti), tw)))(tx));
    expect(dispatches).toBeGreaterThan(3);
    const expected = new Float64Array(rows * cols);
    indices.forEach((id, j) => {
      for (let k = 0; k < cols; k++) expected[id * cols + k] += w[j * cols + k];
    });
    expectAllClose(values, expected, { rtol });
    nt.dispose([tx, ti, tw]);
  });

  it.each([
    [[37, 13], [[3, 4], [0, 2]]],
    [[300], [[100, 13]]],
  ] as [number[], [number, number][]][])('pads %j by %j', async (shape, paddings) => {
    const x = uniform(sizeOf(shape));
    const tx = nt.tensor(Float32Array.from(x), shape);
    const { values, dispatches } = await run(() => nt.pad(tx, paddings, 0.5));
    expect(dispatches).toBeGreaterThan(1);
    const outShape = shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
    const expected = Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = coordsOf(i, outShape).map((v, d) => v - paddings[d][0]);
      return c.every((v, d) => v >= 0 && v < shape[d]) ? x[indexOf(c, shape)] : 0.5;
    });
    expectAllClose(values, expected, { rtol: 0, atol: 0 });
    tx.dispose();
  });

  /** float64 reduction of x viewed as [outer, reduced, inner] over the middle dim. */
  function reduceRef(x: ArrayLike<number>, [outer, reduced, inner]: number[], f: (acc: number, v: number) => number, init: (first: number) => number): Float64Array {
    return Float64Array.from({ length: outer * inner }, (_, i) => {
      const base = Math.floor(i / inner) * reduced * inner + (i % inner);
      let acc = init(x[base]);
      for (let r = 0; r < reduced; r++) acc = f(acc, x[base + r * inner]);
      return acc;
    });
  }
  const KINDS = {
    sum: { op: nt.sum, f: (a: number, v: number) => a + v, init: () => 0 },
    max: { op: nt.max, f: Math.max, init: (v: number) => v },
    min: { op: nt.min, f: Math.min, init: (v: number) => v },
  };

  it.each([
    ['sum', [301, 7], 0],
    ['max', [301, 7], 0],
    ['min', [3, 401, 2], 1],
    ['sum', [5003], 0],
    ['sum', [20011], 0],
    ['sum', [31, 97], 1],
    ['max', [60, 1000], 1],
    // Long reductions whose length a chunk near 256 divides (two passes, no pad): 8448 = 33·256, 9000 = 36·250.
    ['sum', [8448, 3], 0],
    ['max', [3, 9000], 1],
  ] as [keyof typeof KINDS, number[], number][])('%s of %j over axis %i', async (kind, shape, axis) => {
    const x = uniform(sizeOf(shape));
    const tx = nt.tensor(Float32Array.from(x), shape);
    const { values, dispatches } = await run(() => KINDS[kind].op(tx, { axis }));
    expect(dispatches).toBeGreaterThan(1);
    const view = [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
    expectAllClose(values, reduceRef(x, view, KINDS[kind].f, KINDS[kind].init), { rtol, atol: 1e-5 * Math.sqrt(shape[axis]) });
    tx.dispose();
  });

  it('sums int32 values over a dim longer than one binding', async () => {
    const x = integers(601 * 3, 100);
    const tx = nt.tensor(x, [601, 3], 'int32');
    const { values } = await run(() => nt.sum(tx, { axis: 0 }));
    expect(Array.from(values)).toEqual(Array.from(reduceRef(x, [1, 601, 3], (a, v) => a + v, () => 0)));
    tx.dispose();
  });

  it('finds argMax along a short axis of a long tensor', async () => {
    const shape = [97, 13];
    const x = uniform(sizeOf(shape));
    const tx = nt.tensor(Float32Array.from(x), shape);
    const { values, dispatches } = await run(() => nt.argMax(tx, { axis: 1 }));
    expect(dispatches).toBeGreaterThan(1);
    const expected = Array.from({ length: 97 }, (_, i) => {
      const row = Array.from(x.subarray(i * 13, i * 13 + 13));
      return row.indexOf(Math.max(...row));
    });
    expect(Array.from(values)).toEqual(expected);
    tx.dispose();
  });

  it.each(
    (['register', 'workgroup'] as const).flatMap((tiling) => [
      [tiling, 300, 7, 5, false, false],
      [tiling, 61, 3, 11, true, false],
      [tiling, 97, 3, 11, false, true],
    ] as const),
  )('%s matMul of [%i, %i] by [%i columns] (transposeA %s, bias %s) runs by ranges of rows', async (tiling, M, K, N, transposeA, withBias) => {
    const restore = preferTiling(tiling);
    const a = uniform(M * K);
    const b = uniform(K * N);
    const bias = uniform(N);
    const ta = nt.tensor(Float32Array.from(a), transposeA ? [K, M] : [M, K]);
    const tb = nt.tensor(Float32Array.from(b), [K, N]);
    const tbias = nt.tensor(Float32Array.from(bias), [N]);
    const { values, dispatches } = await run(() =>
      withBias ? nt.fusedMatMul(ta, tb, { transposeA, bias: tbias, activation: 'tanh' }) : nt.matMul(ta, tb, { transposeA }),
    ).finally(() => restore());
    expect(dispatches).toBeGreaterThan(1);
    const expected = Float64Array.from({ length: M * N }, (_, i) => {
      const [m, n] = [Math.floor(i / N), i % N];
      let acc = 0;
      for (let k = 0; k < K; k++) acc += (transposeA ? a[k * M + m] : a[m * K + k]) * b[k * N + n];
      return withBias ? Math.tanh(acc + bias[n]) : acc;
    });
    expectAllClose(values, expected, { rtol, atol: 1e-5 });
    nt.dispose([ta, tb, tbias]);
  });

  /** `f`'s values on the CPU backend (then back to the split backend). */
  async function onCpu(f: () => nt.Tensor): Promise<Float32Array | Int32Array> {
    await nt.setBackend('cpu');
    const y = f();
    const values = (await y.data()) as Float32Array | Int32Array;
    y.dispose();
    engine.setBackend(backend);
    return values;
  }

  it.each([1031, 4099])('draws randomUniform and dropout over %i elements split, with the unsplit stream', async (n) => {
    const seed = 12345;
    const u = await run(() => nt.randomUniform([n], { minval: -2, maxval: 3, seed }));
    expect(u.dispatches).toBeGreaterThanOrEqual(Math.ceil(n / LIMIT));
    // The hash is of the global index: the same values as the CPU's whole run, bit for bit.
    expect(Array.from(u.values)).toEqual(Array.from(await onCpu(() => nt.randomUniform([n], { minval: -2, maxval: 3, seed }))));
    const x = uniform(n, 0.5, 1.5);
    const tx = nt.tensor(Float32Array.from(x));
    const d = await run(() => nt.dropout(tx, { rate: 0.3, seed }));
    expect(d.dispatches).toBeGreaterThanOrEqual(Math.ceil(n / LIMIT));
    const cpuTx = async () => onCpu(() => nt.dropout(nt.tensor(Float32Array.from(x)), { rate: 0.3, seed }));
    expect(Array.from(d.values)).toEqual(Array.from(await cpuTx()));
    tx.dispose();
  });

  /** float64 softmax (or logSoftmax) of x viewed as [outer, R, inner] along the middle dim. */
  function softmaxRef(x: ArrayLike<number>, [outer, R, inner]: number[], log: boolean): Float64Array {
    const out = new Float64Array(outer * R * inner);
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < inner; k++) {
        const at = (r: number) => (o * R + r) * inner + k;
        let m = -Infinity;
        for (let r = 0; r < R; r++) m = Math.max(m, x[at(r)]);
        let s = 0;
        for (let r = 0; r < R; r++) s += Math.exp(x[at(r)] - m);
        for (let r = 0; r < R; r++) out[at(r)] = log ? x[at(r)] - m - Math.log(s) : Math.exp(x[at(r)] - m) / s;
      }
    return out;
  }

  it.each([
    ['softmax', [301, 7], -1],
    ['logSoftmax', [97, 13], -1],
    ['softmax', [5, 7, 11], 1],
    ['logSoftmax', [3, 9, 13], 1],
    // Rows longer than one binding: passes over ranges of each row's values.
    ['softmax', [2, 1031], -1],
    ['logSoftmax', [3, 601], -1],
    ['softmax', [2, 301, 3], 1],
    ['logSoftmax', [1, 97, 5], 1],
    ['softmax', [2, 5, 300], 1],
  ] as ['softmax' | 'logSoftmax', number[], number][])('%s of %j along axis %i runs split (by rows, or passes over long rows), and its gradient too', async (op, shape, axis) => {
    const x = uniform(sizeOf(shape), -3, 3);
    const w = uniform(sizeOf(shape));
    const tx = nt.tensor(Float32Array.from(x), shape);
    const tw = nt.tensor(Float32Array.from(w), shape);
    const { values, dispatches } = await run(() => nt[op](tx, { axis }));
    expect(dispatches).toBeGreaterThan(1);
    const a = axis < 0 ? shape.length + axis : axis;
    const view = [sizeOf(shape.slice(0, a)), shape[a], sizeOf(shape.slice(a + 1))];
    const expected = softmaxRef(x, view, op === 'logSoftmax');
    expectAllClose(values, expected, { rtol, atol: 1e-6 });
    // d/dx Σ w·f(x): softmax: y·(w − Σ w·y); logSoftmax: w − softmax·Σw (per row).
    const grad = await run(() => nt.grad((t: nt.Tensor) => nt.sum(nt.mul(nt[op](t, { axis }), tw)))(tx));
    const soft = softmaxRef(x, view, false);
    const [outer, R, inner] = view;
    const dx = new Float64Array(x.length);
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < inner; k++) {
        const at = (r: number) => (o * R + r) * inner + k;
        let t = 0;
        for (let r = 0; r < R; r++) t += op === 'softmax' ? w[at(r)] * soft[at(r)] : w[at(r)];
        for (let r = 0; r < R; r++) dx[at(r)] = op === 'softmax' ? soft[at(r)] * (w[at(r)] - t) : w[at(r)] - soft[at(r)] * t;
      }
    expectAllClose(grad.values, dx, { rtol, atol: 1e-5 });
    nt.dispose([tx, tw]);
  });

  it.each([false, true])('softmaxCrossEntropy over 97 rows of 13 classes (sparse %s) and its gradient run by ranges of rows', async (sparse) => {
    const [rows, classes] = [97, 13];
    const x = uniform(rows * classes, -3, 3);
    const raw = uniform(rows * classes, 0.05, 1);
    const sparseLabels = integers(rows, classes);
    const dense = Float64Array.from(raw, (v, i) => {
      const r = Math.floor(i / classes);
      let t = 0;
      for (let j = 0; j < classes; j++) t += raw[r * classes + j];
      return v / t;
    });
    const tx = nt.tensor(Float32Array.from(x), [rows, classes]);
    const tl = sparse ? nt.tensor(sparseLabels, [rows], 'int32') : nt.tensor(Float32Array.from(dense), [rows, classes]);
    const label = (r: number, j: number) => (sparse ? +(sparseLabels[r] === j) : Math.fround(dense[r * classes + j]));
    const logSoft = softmaxRef(x, [rows, classes, 1], true);
    let loss = 0;
    for (let r = 0; r < rows; r++) for (let j = 0; j < classes; j++) loss -= label(r, j) * logSoft[r * classes + j];
    const { values, dispatches } = await run(() => nt.softmaxCrossEntropy(tx, tl, { sparse }));
    expect(dispatches).toBeGreaterThan(2);
    expectAllClose(values, [loss / rows], { rtol });
    // d mean loss / dx = (softmax·Σlabels − labels)/rows
    const grad = await run(() => nt.grad((t: nt.Tensor) => nt.softmaxCrossEntropy(t, tl, { sparse }))(tx));
    const dx = Float64Array.from(x, (_, i) => {
      const [r, j] = [Math.floor(i / classes), i % classes];
      let total = 0;
      for (let k = 0; k < classes; k++) total += label(r, k);
      return (Math.exp(logSoft[i]) * total - label(r, j)) / rows;
    });
    expectAllClose(grad.values, dx, { rtol, atol: 1e-6 });
    nt.dispose([tx, tl]);
  });

  /** float64 pooling of x [N,H,W,C] (max or mean of in-bounds taps), TF's padding rule. */
  function poolRef(x: ArrayLike<number>, [N, H, W, C]: number[], [ph, pw]: number[], [sh, sw]: number[], same: boolean, max: boolean) {
    const axis = (size: number, k: number, s: number) => {
      if (!same) return { out: Math.floor((size - k) / s) + 1, pad: 0 };
      const out = Math.ceil(size / s);
      return { out, pad: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
    };
    const ay = axis(H, ph, sh);
    const ax = axis(W, pw, sw);
    const shape = [N, ay.out, ax.out, C];
    const values = Float64Array.from({ length: sizeOf(shape) }, (_, i) => {
      const [b, oy, ox, c] = coordsOf(i, shape);
      let acc = max ? -Infinity : 0;
      let count = 0;
      for (let ky = 0; ky < ph; ky++)
        for (let kx = 0; kx < pw; kx++) {
          const [iy, ix] = [oy * sh - ay.pad + ky, ox * sw - ax.pad + kx];
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
          const v = x[indexOf([b, iy, ix, c], [N, H, W, C])];
          acc = max ? Math.max(acc, v) : acc + v;
          count++;
        }
      return max ? acc : acc / count;
    });
    return { shape, values };
  }

  it.each([
    ['maxPool2d', [2, 9, 11, 3], [2, 2], [2, 2], 'valid'],
    ['avgPool2d', [2, 9, 11, 3], [3, 3], [2, 2], 'same'],
    ['maxPool2d', [3, 13, 7, 5], [3, 2], [1, 2], 'valid'],
    ['avgPool2d', [3, 13, 7, 5], [3, 3], [1, 1], 'same'],
    // C a multiple of 4: maxPool2d's vec4 kernel, and with windows that do not overlap its
    // per-window gradient (uncovered last row and column, SAME, gaps between windows).
    ['maxPool2d', [2, 9, 11, 4], [2, 2], [2, 2], 'valid'],
    ['maxPool2d', [3, 7, 9, 8], [2, 2], [2, 2], 'same'],
    ['maxPool2d', [2, 13, 11, 4], [2, 3], [3, 4], 'valid'],
    ['maxPool2d', [2, 7, 7, 8], [3, 3], [3, 3], 'same'],
    // Overlapping windows: the vec4 forward, the per-element gradient.
    ['maxPool2d', [2, 9, 7, 4], [3, 3], [2, 2], 'same'],
  ] as ['maxPool2d' | 'avgPool2d', number[], [number, number], [number, number], 'same' | 'valid'][])(
    '%s of %j (pool %j, strides %j, %s) and its gradient run by ranges of image rows',
    async (op, shape, poolSize, strides, padding) => {
      const x = uniform(sizeOf(shape));
      const tx = nt.tensor(Float32Array.from(x), shape);
      const max = op === 'maxPool2d';
      const ref = poolRef(x, shape, poolSize, strides, padding === 'same', max);
      const { values, dispatches } = await run(() => nt[op](tx, { poolSize, strides, padding }));
      expect(dispatches).toBeGreaterThan(1);
      expectAllClose(values, ref.values, { rtol, atol: 1e-6 });
      // The gradient of Σ w·pool(x), against central differences of the float64 reference.
      const w = uniform(ref.values.length);
      const tw = nt.tensor(Float32Array.from(w), ref.shape);
      const grad = await run(() => nt.grad((t: nt.Tensor) => nt.sum(nt.mul(nt[op](t, { poolSize, strides, padding }), tw)))(tx));
      expect(grad.dispatches).toBeGreaterThan(2);
      const f = (xs: ArrayLike<number>) => poolRef(xs, shape, poolSize, strides, padding === 'same', max).values.reduce((a, v, i) => a + v * w[i], 0);
      expectAllClose(grad.values, numericGradient(f, x), { rtol: 1e-3, atol: 1e-4 });
      nt.dispose([tx, tw]);
    },
  );

  /**
   * float64 conv2d of x [N,H,W,C] with filter [kh,kw,C,O] (TF's padding rule) and, for weights w
   * on the output, the gradients of Σ w·y w.r.t. x and the filter (the same loop, transposed).
   */
  function convRef(x: ArrayLike<number>, xs: number[], f: ArrayLike<number>, fs: number[], s: number, d: number, same: boolean, w?: ArrayLike<number>) {
    const [N, H, W, C] = xs;
    const [kh, kw, , O] = fs;
    const axis = (size: number, k: number) => {
      const span = (k - 1) * d + 1;
      if (!same) return { out: Math.floor((size - span) / s) + 1, pad: 0 };
      const out = Math.ceil(size / s);
      return { out, pad: Math.floor(Math.max((out - 1) * s + span - size, 0) / 2) };
    };
    const ay = axis(H, kh);
    const ax = axis(W, kw);
    const shape = [N, ay.out, ax.out, O];
    const y = new Float64Array(sizeOf(shape));
    const dx = new Float64Array(x.length);
    const df = new Float64Array(f.length);
    for (let i = 0; i < y.length; i++) {
      const [b, oy, ox, o] = coordsOf(i, shape);
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++) {
          const [iy, ix] = [oy * s - ay.pad + ky * d, ox * s - ax.pad + kx * d];
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
          for (let c = 0; c < C; c++) {
            const xi = ((b * H + iy) * W + ix) * C + c;
            const fi = ((ky * kw + kx) * C + c) * O + o;
            y[i] += x[xi] * f[fi];
            if (w) {
              dx[xi] += w[i] * f[fi];
              df[fi] += w[i] * x[xi];
            }
          }
        }
    }
    return { shape, y, dx, df };
  }

  it.each(
    (['register', 'workgroup'] as const).flatMap((tiling) => [
      [tiling, [2, 9, 11, 3], [3, 3, 3, 4], 1, 1, true],
      [tiling, [3, 8, 10, 3], [3, 3, 3, 5], 2, 1, true],
      [tiling, [1, 9, 11, 2], [3, 3, 2, 3], 1, 2, true],
      [tiling, [3, 7, 5, 5], [2, 3, 5, 7], 1, 1, false],
      // inC a multiple of the register tile's 8 rows: the filter gradient's one-tap-per-tile variant
      // (inC 16: its 16-row tile).
      [tiling, [2, 7, 6, 8], [3, 3, 8, 2], 1, 1, true],
      [tiling, [2, 6, 5, 8], [2, 2, 8, 4], 2, 1, false],
      [tiling, [1, 7, 5, 16], [1, 2, 16, 3], 1, 2, true],
    ] as const),
  )('%s conv2d of %j by %j (stride %i, dilation %i, same %s), fused and its gradients run by ranges of image rows', async (tiling, xs, fs, stride, dilation, same) => {
    const restore = preferTiling(tiling);
    try {
      const x = uniform(sizeOf(xs));
      const f = uniform(sizeOf(fs));
      const bias = uniform(fs[3]);
      const tx = nt.tensor(Float32Array.from(x), [...xs]);
      const tf = nt.tensor(Float32Array.from(f), [...fs]);
      const tb = nt.tensor(Float32Array.from(bias), [fs[3]]);
      const options = { strides: stride, dilations: dilation, padding: same ? ('same' as const) : ('valid' as const) };
      const probe = convRef(x, [...xs], f, [...fs], stride, dilation, same);
      const w = uniform(probe.y.length);
      const ref = convRef(x, [...xs], f, [...fs], stride, dilation, same, w);
      const tol = { rtol: 1e-3, atol: 1e-4 };
      const plain = await run(() => nt.conv2d(tx, tf, options));
      expect(plain.dispatches).toBeGreaterThan(1);
      expectAllClose(plain.values, ref.y, tol);
      const fused = await run(() => nt.fusedConv2d(tx, tf, { ...options, bias: tb, activation: 'tanh' }));
      expect(fused.dispatches).toBeGreaterThan(1);
      expectAllClose(fused.values, ref.y.map((v, i) => Math.tanh(v + bias[i % fs[3]])), tol);
      const tw = nt.tensor(Float32Array.from(w), ref.shape);
      const loss = (a: nt.Tensor, b: nt.Tensor) => nt.sum(nt.mul(nt.conv2d(a, b, options), tw));
      const dx = await run(() => nt.grad((t: nt.Tensor) => loss(t, tf))(tx));
      expect(dx.dispatches).toBeGreaterThan(2);
      expectAllClose(dx.values, ref.dx, tol);
      const df = await run(() => nt.grad((t: nt.Tensor) => loss(tx, t))(tf));
      expect(df.dispatches).toBeGreaterThan(2);
      expectAllClose(df.values, ref.df, tol);
      nt.dispose([tx, tf, tb, tw]);
    } finally {
      restore();
    }
  });

  it.each(
    (['register', 'workgroup'] as const).flatMap((tiling) => [
      [tiling, [1, 12, 12, 1], [5, 5, 1, 8], 1, 1, false],
      [tiling, [2, 13, 9, 2], [7, 3, 2, 5], 1, 1, true],
      [tiling, [1, 15, 7, 1], [4, 2, 1, 12], 2, 1, true],
      [tiling, [1, 17, 8, 3], [3, 3, 3, 9], 1, 3, false],
    ] as const),
  )('%s conv2d input gradient of %j by a tall filter %j (stride %i, dilation %i, same %s) runs by ranges of taps and image rows', async (tiling, xs, fs, stride, dilation, same) => {
    const restore = preferTiling(tiling);
    try {
      const x = uniform(sizeOf(xs));
      const f = uniform(sizeOf(fs));
      const tx = nt.tensor(Float32Array.from(x), [...xs]);
      const tf = nt.tensor(Float32Array.from(f), [...fs]);
      const options = { strides: stride, dilations: dilation, padding: same ? ('same' as const) : ('valid' as const) };
      const probe = convRef(x, [...xs], f, [...fs], stride, dilation, same);
      const w = uniform(probe.y.length);
      const ref = convRef(x, [...xs], f, [...fs], stride, dilation, same, w);
      const tw = nt.tensor(Float32Array.from(w), ref.shape);
      const dx = await run(() => nt.grad((t: nt.Tensor) => nt.sum(nt.mul(nt.conv2d(t, tf, options), tw)))(tx));
      expect(dx.dispatches).toBeGreaterThan(2);
      expectAllClose(dx.values, ref.dx, { rtol: 1e-3, atol: 1e-4 });
      nt.dispose([tx, tf, tw]);
    } finally {
      restore();
    }
  });

  it.each(
    (['register', 'workgroup'] as const).flatMap((tiling) => [
      [tiling, [5, 7, 13], [5, 13, 5], false],
      [tiling, [3, 9, 11], [11, 6], true],
      [tiling, [2, 3, 7, 5], [3, 5, 9], false],
    ] as const),
  )('%s batched matMul of %j by %j (bias %s) runs by ranges of batches', async (tiling, aShape, bShape, withBias) => {
    const restore = preferTiling(tiling);
    const a = uniform(sizeOf(aShape));
    const b = uniform(sizeOf(bShape));
    const [M, K] = aShape.slice(-2);
    const N = bShape[bShape.length - 1];
    const bias = uniform(N);
    const ta = nt.tensor(Float32Array.from(a), [...aShape]);
    const tb = nt.tensor(Float32Array.from(b), [...bShape]);
    const tbias = nt.tensor(Float32Array.from(bias), [N]);
    const { values, dispatches } = await run(() =>
      withBias ? nt.fusedMatMul(ta, tb, { bias: tbias, activation: 'relu' }) : nt.matMul(ta, tb),
    ).finally(() => restore());
    expect(dispatches).toBeGreaterThan(1);
    // Batch dims broadcast right-aligned; a missing or size-1 dim repeats.
    const batch = aShape.slice(0, -2).length >= bShape.slice(0, -2).length ? aShape.slice(0, -2) : bShape.slice(0, -2);
    const aBatch = aShape.slice(0, -2);
    const bBatch = bShape.slice(0, -2);
    const flat = (c: number[], shape: number[]) => (shape.length ? indexOf(c.slice(c.length - shape.length).map((v, i) => (shape[i] === 1 ? 0 : v)), shape) : 0);
    const outShape = [...batch, M, N];
    const expected = Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = coordsOf(i, outShape);
      const [m, n] = c.slice(-2);
      const za = flat(c.slice(0, -2), aBatch);
      const zb = flat(c.slice(0, -2), bBatch);
      let acc = 0;
      for (let k = 0; k < K; k++) acc += a[za * M * K + m * K + k] * b[zb * K * N + k * N + n];
      return withBias ? Math.max(0, acc + bias[n]) : acc;
    });
    expectAllClose(values, expected, { rtol, atol: 1e-5 });
    nt.dispose([ta, tb, tbias]);
  });

  it.each(
    (['register', 'workgroup'] as const).flatMap((tiling) => [
      [tiling, [21, 53], [53, 19], false, false, false],
      [tiling, [13, 71], [71, 9], false, false, true],
      [tiling, [65, 33], [17, 33], false, true, true],
      [tiling, [37, 29], [37, 23], true, false, false],
      [tiling, [37, 29], [23, 37], true, true, true],
      [tiling, [2, 37, 29], [29, 23], false, false, true],
    ] as const),
  )('%s matMul of %j by %j (transposeA %s, transposeB %s, bias %s) with B over the limit runs by ranges of rows, columns and k', async (tiling, aShape, bShape, tA, tB, withBias) => {
    const restore = preferTiling(tiling);
    const a = uniform(sizeOf(aShape));
    const b = uniform(sizeOf(bShape));
    const [ar, ac] = aShape.slice(-2);
    const [br, bc] = bShape;
    const [M, K] = tA ? [ac, ar] : [ar, ac];
    const N = tB ? br : bc;
    const batches = sizeOf(aShape.slice(0, -2));
    const bias = uniform(N);
    const ta = nt.tensor(Float32Array.from(a), [...aShape]);
    const tb = nt.tensor(Float32Array.from(b), [...bShape]);
    const tbias = nt.tensor(Float32Array.from(bias), [N]);
    const options = { transposeA: tA, transposeB: tB };
    const { values, dispatches } = await run(() =>
      withBias ? nt.fusedMatMul(ta, tb, { ...options, bias: tbias, activation: 'sigmoid' }) : nt.matMul(ta, tb, options),
    ).finally(() => restore());
    // B alone exceeds a binding: k must be cut too, so out is written in several passes.
    expect(dispatches).toBeGreaterThan(Math.ceil((K * N) / LIMIT));
    const expected = Float64Array.from({ length: batches * M * N }, (_, i) => {
      const [z, m, n] = [Math.floor(i / (M * N)), Math.floor(i / N) % M, i % N];
      let acc = 0;
      for (let k = 0; k < K; k++) acc += a[z * M * K + (tA ? k * M + m : m * K + k)] * b[tB ? n * K + k : k * N + n];
      return withBias ? 1 / (1 + Math.exp(-(acc + bias[n]))) : acc;
    });
    expectAllClose(values, expected, { rtol: 1e-3, atol: 1e-5 });
    nt.dispose([ta, tb, tbias]);
  });

  it('rejects a kernel that cannot split with a BackendError naming it, the sizes and the limit', async () => {
    // A conv splits by image rows, but its filter must fit one binding.
    const x = nt.ones([1, 5, 5, 8]);
    const w = nt.ones([3, 3, 8, 8]);
    expect(() => nt.conv2d(x, w)).toThrow(nt.BackendError);
    expect(() => nt.conv2d(x, w)).toThrow(/conv2d.*576 elements \(2304 bytes\).*1024 bytes.*still bind too much/);
    // argMax keeps a running index, so it cannot continue across windows of a long axis.
    const long = nt.ones([1000, 3]);
    expect(() => nt.argMax(long, { axis: 0 })).toThrow(/argMax: cannot split/);
    nt.dispose([x, w, long]);
  });
});

describe.runIf(gpu)('webgpu with its own limits', () => {
  beforeAll(() => nt.setBackend('webgpu'));
  afterAll(() => nt.setBackend('cpu'));

  it('maps, sums and slices a tensor of more than 2^22 elements (beyond 65535 workgroups of 64)', async () => {
    const n = 2 ** 22 + 4099;
    const x = uniform(n);
    const tx = nt.tensor(Float32Array.from(x));
    const [y, s, cut] = nt.tidy(() => {
      const y = nt.mul(nt.add(tx, 1), 0.5);
      return [y, nt.sum(y), nt.slice(y, { begin: [1000], size: [n - 2001] })];
    });
    const expected = x.map((v) => Math.fround(Math.fround(v + 1) * 0.5));
    expectAllClose(await y.data(), expected, { rtol: 0, atol: 0 });
    expectAllClose(await cut.data(), expected.subarray(1000, n - 1001), { rtol: 0, atol: 0 });
    const total = expected.reduce((a, v) => a + v, 0);
    expect(Math.abs((await s.data())[0] - total) / total).toBeLessThan(1e-4);
    nt.dispose([tx, y, s, cut]);
  });

  it('rejects a tensor larger than maxBufferSize with a BackendError naming its size', () => {
    expect(() => nt.zeros([2 ** 29, 4])).toThrow(/allocate: a float32 tensor of 2147483648 elements \(8589934592 bytes\) exceeds this device's maxBufferSize/);
  });
});
