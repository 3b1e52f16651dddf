// Transforms (reshape, transpose, broadcastTo, slice, pad, concat, gather, oneHot, expandDims,
// squeeze) on every backend against index arithmetic written here; gradients against central
// differences of that arithmetic; and the errors they throw.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { coordsOf, indexOf, numericGradient, sizeOf, weighted } from './helpers/numeric.js';
import { integers, uniform } from './helpers/random.js';

type Ref = (x: Float64Array) => Float64Array;

function transposeRef(shape: number[], perm: number[]): Ref {
  const outShape = perm.map((p) => shape[p]);
  return (x) =>
    Float64Array.from({ length: x.length }, (_, i) => {
      const c = coordsOf(i, outShape);
      const src = new Array<number>(shape.length);
      perm.forEach((p, d) => (src[p] = c[d]));
      return x[indexOf(src, shape)];
    });
}

function broadcastRef(shape: number[], outShape: number[]): Ref {
  const lead = outShape.length - shape.length;
  return (x) =>
    Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = coordsOf(i, outShape).slice(lead).map((v, d) => (shape[d] === 1 ? 0 : v));
      return x[indexOf(c, shape)];
    });
}

function sliceRef(shape: number[], begin: number[], size: number[]): Ref {
  return (x) => Float64Array.from({ length: sizeOf(size) }, (_, i) => x[indexOf(coordsOf(i, size).map((c, d) => c + begin[d]), shape)]);
}

function padRef(shape: number[], paddings: [number, number][], value: number): Ref {
  const outShape = shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  return (x) =>
    Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = coordsOf(i, outShape).map((v, d) => v - paddings[d][0]);
      return c.every((v, d) => v >= 0 && v < shape[d]) ? x[indexOf(c, shape)] : value;
    });
}

/** Concatenation of `parts` (flat values with their shapes) along `axis`. */
function concatRef(parts: { x: ArrayLike<number>; shape: number[] }[], axis: number): Float64Array {
  const outShape = parts[0].shape.slice();
  outShape[axis] = parts.reduce((a, p) => a + p.shape[axis], 0);
  return Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
    const c = coordsOf(i, outShape);
    let k = 0;
    while (c[axis] >= parts[k].shape[axis]) c[axis] -= parts[k++].shape[axis];
    return parts[k].x[indexOf(c, parts[k].shape)];
  });
}

function gatherRef(shape: number[], indices: Int32Array, indexShape: number[], axis: number): Ref {
  const outShape = [...shape.slice(0, axis), ...indexShape, ...shape.slice(axis + 1)];
  return (x) =>
    Float64Array.from({ length: sizeOf(outShape) }, (_, i) => {
      const c = coordsOf(i, outShape);
      const j = indexOf(c.slice(axis, axis + indexShape.length), indexShape);
      const id = indices[j];
      if (id < 0 || id >= shape[axis]) return 0;
      return x[indexOf([...c.slice(0, axis), id, ...c.slice(axis + indexShape.length)], shape)];
    });
}

describe.each(BACKENDS)('transforms on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  /** Checks forward values and the gradient of Σ w·f(x) against `ref`. */
  async function check(shape: number[], f: (t: nt.Tensor) => nt.Tensor, ref: Ref, expectedShape?: number[]): Promise<void> {
    const x = uniform(sizeOf(shape), -2, 2);
    const y = nt.tidy(() => f(nt.tensor(Float32Array.from(x), shape)));
    if (expectedShape) expect(y.shape).toEqual(expectedShape);
    expectAllClose(await y.data(), ref(x), { rtol: 0, atol: 0 }, 'forward');
    const w = uniform(y.size);
    const outShape = [...y.shape];
    y.dispose();
    const g = nt.grad((t) => nt.sum(nt.mul(f(t), nt.tensor(Float32Array.from(w), outShape))))(nt.tensor(Float32Array.from(x), shape));
    expectAllClose(await g.data(), numericGradient((v) => weighted(ref(v), w), x), { rtol: 10 * rtol, atol: 1e-5 }, 'gradient');
    g.dispose();
  }

  describe('reshape', () => {
    it.each([
      [[2, 3, 4], [6, 4]],
      [[2, 3, 4], [-1, 4]],
      [[2, 3, 4], [4, -1, 2]],
      [[7, 13], [91]],
      [[5], [1, 5, 1]],
      [[0, 3], [-1, 3]],
      [[0, 3], [3, 0]],
    ])('%j to %j keeps values in order', async (shape, target) => {
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const resolved = target.map((d) => (d === -1 ? sizeOf(shape) / known : d));
      await check(shape, (t) => nt.reshape(t, target), (x) => x.slice(), resolved);
    });

    it('is a view: no kernel runs', () => {
      nt.tidy(() => {
        const x = nt.ones([6, 4]);
        nt.resetStats();
        nt.reshape(x, [3, 8]);
        expect(nt.stats().dispatches).toBe(0);
      });
    });

    it('rejects sizes that do not match and two -1s', () => {
      nt.tidy(() => {
        const x = nt.zeros([2, 3]);
        expect(() => nt.reshape(x, [4, 2])).toThrow(/reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\]/);
        expect(() => nt.reshape(x, [-1, -1])).toThrow(nt.ShapeError);
        expect(() => nt.reshape(x, [4, -1])).toThrow(nt.ShapeError);
        // -1 next to a 0 dim is ambiguous (any size fits), as in NumPy.
        expect(() => nt.reshape(nt.zeros([0, 3]), [3, -1, 0])).toThrow(nt.ShapeError);
      });
    });
  });

  describe('transpose', () => {
    it.each([
      [[3, 5], undefined],
      [[2, 3, 4], [1, 2, 0]],
      [[2, 3, 4, 5], [3, 1, 0, 2]],
      [[1, 7, 1], [2, 0, 1]],
    ])('%j with perm %j', async (shape, perm) => {
      const p = perm ?? shape.map((_, i) => shape.length - 1 - i);
      await check(shape, (t) => nt.transpose(t, { perm }), transposeRef(shape, p), p.map((d) => shape[d]));
    });

    it('moves int32 values exactly', async () => {
      const x = integers(3 * 4, 1000);
      const y = nt.tidy(() => nt.transpose(nt.tensor(x, [3, 4])));
      expect(y.dtype).toBe('int32');
      expect(Array.from(await y.data())).toEqual(Array.from(transposeRef([3, 4], [1, 0])(Float64Array.from(x))));
      y.dispose();
    });

    it('rejects a perm that is not a permutation', () => {
      nt.tidy(() => {
        expect(() => nt.transpose(nt.zeros([2, 3]), { perm: [0, 0] })).toThrow(/transpose: perm \[0,0\] is not a permutation of the 2 dims of \[2,3\]/);
        expect(() => nt.transpose(nt.zeros([2, 3]), { perm: [1, 0, 2] })).toThrow(nt.ShapeError);
      });
    });
  });

  describe('broadcastTo', () => {
    it.each([
      [[3, 1], [2, 3, 5]],
      [[5], [4, 5]],
      [[], [3]],
      [[1, 4, 1], [3, 4, 7]],
    ])('%j to %j', async (shape, target) => {
      await check(shape, (t) => nt.broadcastTo(t, target), broadcastRef(shape, target), target);
    });

    it('rejects shapes it cannot reach', () => {
      nt.tidy(() => {
        expect(() => nt.broadcastTo(nt.zeros([3]), [4])).toThrow(nt.ShapeError);
        expect(() => nt.broadcastTo(nt.zeros([2, 3]), [3])).toThrow(/broadcastTo: cannot broadcast \[2,3\] to \[3\]/);
      });
    });
  });

  describe('slice', () => {
    it.each([
      [[7, 13], [2, 3], [4, 10]],
      [[2, 3, 4], [1, 0, 2], [1, 3, 2]],
      [[31], [30], [1]],
      [[5, 5], [0, 0], [5, 5]],
    ])('%j from %j size %j', async (shape, begin, size) => {
      await check(shape, (t) => nt.slice(t, { begin, size }), sliceRef(shape, begin, size), size);
    });

    it('takes -1 (or a missing size) as "to the end"', async () => {
      await check([7, 13], (t) => nt.slice(t, { begin: [2, 3], size: [-1, 4] }), sliceRef([7, 13], [2, 3], [5, 4]), [5, 4]);
      await check([4, 6], (t) => nt.slice(t, { begin: [1, 2] }), sliceRef([4, 6], [1, 2], [3, 4]), [3, 4]);
    });

    it('rejects boxes outside the tensor', () => {
      nt.tidy(() => {
        const x = nt.zeros([4, 5]);
        expect(() => nt.slice(x, { begin: [3, 0], size: [2, 5] })).toThrow(/slice: begin \[3,0\] and size \[2,5\] do not fit inside \[4,5\]/);
        expect(() => nt.slice(x, { begin: [0], size: [1] })).toThrow(nt.ShapeError);
      });
    });
  });

  describe('pad', () => {
    it.each([
      [[3, 5], [[1, 2], [0, 3]], 0],
      [[2, 3, 4], [[0, 1], [2, 0], [1, 1]], 1.5],
      [[7], [[0, 0]], -1],
    ] as [number[], [number, number][], number][])('%j by %j with %d', async (shape, paddings, value) => {
      const outShape = shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
      await check(shape, (t) => nt.pad(t, paddings, value), padRef(shape, paddings, value), outShape);
    });

    it('rejects negative or missing paddings', () => {
      nt.tidy(() => {
        expect(() => nt.pad(nt.zeros([2, 2]), [[1, -1], [0, 0]])).toThrow(/pad: paddings .* do not fit \[2,2\]/);
        expect(() => nt.pad(nt.zeros([2, 2]), [[1, 1]])).toThrow(nt.ShapeError);
      });
    });
  });

  describe('concat', () => {
    const cases: { shapes: number[][]; axis: number }[] = [
      { shapes: [[2, 3], [5, 3]], axis: 0 },
      { shapes: [[4, 1], [4, 7], [4, 3]], axis: 1 },
      { shapes: [[2, 3, 4], [2, 3, 1], [2, 3, 2]], axis: -1 },
      { shapes: [[2, 3, 4], [2, 5, 4]], axis: 1 },
      { shapes: [[1, 2], [3, 2], [1, 2]], axis: 0 },
    ];
    it.each(cases)('joins $shapes along axis $axis, with gradients for every input', async ({ shapes, axis }) => {
      const ax = axis < 0 ? axis + shapes[0].length : axis;
      const xs = shapes.map((s) => uniform(sizeOf(s), -2, 2));
      const ref = (vs: Float64Array[]) => concatRef(vs.map((x, k) => ({ x, shape: shapes[k] })), ax);
      const y = nt.tidy(() => nt.concat(xs.map((x, k) => nt.tensor(Float32Array.from(x), shapes[k])), { axis }));
      const outShape = shapes[0].map((d, i) => (i === ax ? shapes.reduce((a, s) => a + s[ax], 0) : d));
      expect(y.shape).toEqual(outShape);
      expectAllClose(await y.data(), ref(xs), { rtol: 0, atol: 0 });
      y.dispose();
      const w = uniform(sizeOf(outShape));
      const gs = nt.grads((...ts) => nt.sum(nt.mul(nt.concat(ts, { axis }), nt.tensor(Float32Array.from(w), outShape))))(
        xs.map((x, k) => nt.tensor(Float32Array.from(x), shapes[k])),
      );
      for (let k = 0; k < xs.length; k++) {
        const expected = numericGradient((v) => weighted(ref(xs.map((x, j) => (j === k ? v : x))), w), xs[k]);
        expectAllClose(await gs[k].data(), expected, { rtol: 10 * rtol, atol: 1e-5 }, `d/dx${k}`);
      }
      nt.dispose(gs);
    });

    it('returns a single input unchanged', () => {
      nt.tidy(() => {
        const x = nt.ones([2, 3]);
        expect(nt.concat([x], { axis: 1 })).toBe(x);
      });
    });

    it('rejects mismatched shapes, dtypes and an empty list', () => {
      nt.tidy(() => {
        expect(() => nt.concat([nt.zeros([2, 3]), nt.zeros([3, 3])], { axis: 1 })).toThrow(
          /concat: cannot join float32 \[2,3\], float32 \[3,3\] along axis 1/,
        );
        expect(() => nt.concat([nt.zeros([2]), nt.zeros([2], 'int32')])).toThrow(nt.ShapeError);
        expect(() => nt.concat([])).toThrow(nt.ArgumentError);
        expect(() => nt.concat([nt.zeros([2])], { axis: 1 })).toThrow(/concat: axis 1 is out of range/);
      });
    });
  });

  describe('gather', () => {
    const cases: { shape: number[]; indexShape: number[]; axis: number }[] = [
      { shape: [7, 5], indexShape: [9], axis: 0 },
      { shape: [4, 9, 3], indexShape: [2, 3], axis: 1 },
      { shape: [3, 11], indexShape: [13], axis: 1 },
      { shape: [6], indexShape: [], axis: 0 },
    ];
    it.each(cases)('gathers $indexShape indices from $shape along axis $axis (repeats scatter-add back)', async ({ shape, indexShape, axis }) => {
      // More indices than rows, so some are repeated and the gradient must add them up.
      const indices = integers(sizeOf(indexShape), shape[axis]);
      const outShape = [...shape.slice(0, axis), ...indexShape, ...shape.slice(axis + 1)];
      await check(
        shape,
        (t) => nt.gather(t, nt.tensor(indices, indexShape), { axis }),
        gatherRef(shape, indices, indexShape, axis),
        outShape,
      );
    });

    it('reads zeros for out-of-range indices (documented: a GPU cannot throw)', async () => {
      const x = uniform(4 * 3);
      const indices = Int32Array.from([1, -1, 4, 3]);
      const y = nt.tidy(() => nt.gather(nt.tensor(Float32Array.from(x), [4, 3]), nt.tensor(indices)));
      expectAllClose(await y.data(), gatherRef([4, 3], indices, [4], 0)(x), { rtol: 0, atol: 0 });
      y.dispose();
    });

    it('rejects float indices and int32 values', () => {
      nt.tidy(() => {
        expect(() => nt.gather(nt.zeros([3]), nt.zeros([2]))).toThrow(/gather: indices must be int32, got float32 \[2\]/);
        expect(() => nt.gather(nt.zeros([3], 'int32'), nt.zeros([2], 'int32'))).toThrow(nt.DTypeError);
        expect(() => nt.gather(nt.zeros([3]), nt.zeros([2], 'int32'), { axis: 1 })).toThrow(/gather: axis 1 is out of range/);
      });
    });
  });

  describe('oneHot', () => {
    it.each([
      [[5], 7],
      [[3, 4], 3],
      [[1], 1],
    ])('indices %j with depth %i (out-of-range rows are zero)', async (indexShape, depth) => {
      // Values in [-1, depth]: both ends are out of range.
      const indices = Int32Array.from(integers(sizeOf(indexShape), depth + 2), (v) => v - 1);
      const y = nt.tidy(() => nt.oneHot(nt.tensor(indices, indexShape), depth));
      expect(y.shape).toEqual([...indexShape, depth]);
      expect(y.dtype).toBe('float32');
      const expected = Array.from({ length: indices.length * depth }, (_, i) => +(indices[Math.floor(i / depth)] === i % depth));
      expect(Array.from(await y.data())).toEqual(expected);
      y.dispose();
    });

    it('rejects float indices and a bad depth', () => {
      nt.tidy(() => {
        expect(() => nt.oneHot(nt.zeros([2]), 3)).toThrow(/oneHot: indices must be int32/);
        expect(() => nt.oneHot(nt.zeros([2], 'int32'), 0)).toThrow(nt.ArgumentError);
      });
    });
  });

  describe('expandDims and squeeze', () => {
    it.each([
      [[3, 4], 0, [1, 3, 4]],
      [[3, 4], 1, [3, 1, 4]],
      [[3, 4], -1, [3, 4, 1]],
      [[], 0, [1]],
    ])('expandDims %j at %i gives %j', async (shape, axis, expected) => {
      await check(shape, (t) => nt.expandDims(t, axis), (x) => x.slice(), expected);
    });

    it.each([
      [[1, 3, 1, 4], undefined, [3, 4]],
      [[1, 3, 1, 4], [2], [1, 3, 4]],
      [[1, 3, 1, 4], [0, -2], [3, 4]],
      [[1, 1], undefined, []],
    ])('squeeze %j over %j gives %j', async (shape, axis, expected) => {
      await check(shape, (t) => nt.squeeze(t, { axis }), (x) => x.slice(), expected);
    });

    it('rejects squeezing a dim that is not 1 and axes out of range', () => {
      nt.tidy(() => {
        expect(() => nt.squeeze(nt.zeros([1, 3]), { axis: [1] })).toThrow(/squeeze: dim 1 of \[1,3\] is 3, expected 1/);
        expect(() => nt.expandDims(nt.zeros([2]), 3)).toThrow(/expandDims: axis 3 is out of range/);
      });
    });
  });
});
