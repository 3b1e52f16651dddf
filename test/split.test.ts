// Tensors larger than one GPU binding (maxStorageBufferBindingSize): kernels run as several
// dispatches over windows of their buffers. A backend with a 1 KiB binding limit (256 floats)
// exercises every split on small odd sizes against float64 references written here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { BACKENDS, RTOL } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { coordsOf, indexOf, sizeOf } from './helpers/numeric.js';
import { integers, uniform } from './helpers/random.js';

const gpu = BACKENDS.includes('webgpu');
const LIMIT_BYTES = 1024;
const LIMIT = LIMIT_BYTES / 4;
const rtol = RTOL.webgpu;

/** Runs `f`, reads its result, and returns the values with the dispatches it took. */
async function run(f: () => nt.Tensor): Promise<{ values: Float32Array | Int32Array; dispatches: number }> {
  nt.resetStats();
  const y = f();
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
    expect(dispatches).toBeGreaterThanOrEqual(3 * Math.ceil(n / LIMIT));
    expectAllClose(values, a.map((v, i) => (v + Math.exp(v)) / b[i]), { rtol });
    nt.dispose([ta, tb]);
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
});
