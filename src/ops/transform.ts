// Ops that move values without arithmetic: reshape (a view), transpose, broadcastTo and slice
// (strided reads through the elementwise kernel), pad, concat, gather and oneHot.
import gatherWgsl from '../../shaders/gather.wgsl?raw';
import gatherBackpropWgsl from '../../shaders/gather_backprop.wgsl?raw';
import { kernelParams, perDimFields, perDimValues } from '../backend/skeleton.js';
import { linearWorkgroups, type BindingWindow, type KernelCall, type SplitLimits, type Uniform } from '../backend/kernel.js';
import { fittingRanges, ranges, searchParts, stridedSpan, windowOver, type Span } from '../backend/split.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { broadcastShapes, broadcastStrides, normalizeAxis, shapesEqual, sizeOf, stridesOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { E } from './elementwise/expr.js';
import { elementwiseCall } from './elementwise/kernel.js';
import { map } from './elementwise/map.js';
import type { OpDef } from './op.js';
import { add, unbroadcast } from './binary.js';
import { tensor } from './create.js';

/** Same values, new shape (one dim may be -1). Shares storage: no copy, no kernel. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  x.use('reshape');
  const target = resolveShape(x, shape);
  if (target.length === x.rank && target.every((d, i) => d === x.shape[i])) return x;
  const out = engine.view(x, target);
  // d reshape = reshape back
  engine.record('reshape', [x], [out], ([dy]) => [reshape(dy, x.shape)]);
  return out;
}

function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const bad = unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1);
  if (!bad && unknown === 1 && known > 0 && x.size % known === 0) return shape.map((d) => (d === -1 ? x.size / known : d));
  if (!bad && unknown === 0 && known === x.size) return shape.slice();
  throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
}

/** Inserts a dim of size 1 at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  const ax = normalizeAxis('expandDims', axis, x.rank + 1, x.shape);
  return reshape(x, [...x.shape.slice(0, ax), 1, ...x.shape.slice(ax)]);
}

/** Removes dims of size 1 (all of them, or those in `axis`). */
export function squeeze(x: Tensor, { axis }: { axis?: number[] } = {}): Tensor {
  const axes = axis?.map((a) => normalizeAxis('squeeze', a, x.rank, x.shape));
  for (const a of axes ?? []) {
    if (x.shape[a] !== 1) throw new ShapeError(`squeeze: dim ${a} of ${fmtShape(x.shape)} is ${x.shape[a]}, expected 1`);
  }
  return reshape(x, x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)));
}

interface TransposeAttrs {
  readonly perm: readonly number[];
}

/** transpose: out dim i is input dim perm[i]. */
export const transposeOp: OpDef<TransposeAttrs> = {
  name: 'transpose',
  outputs([x], { perm }) {
    const valid = perm.length === x.rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    if (!valid) throw new ShapeError(`transpose: perm ${fmtShape(perm)} is not a permutation of the ${x.rank} dims of ${fmtShape(x.shape)}`);
    return [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }];
  },
  kernel([x], [out], { perm }) {
    const inStrides = stridesOf(x.shape);
    return elementwiseCall('transpose', E.input(0), [{ dtype: x.dtype, strides: perm.map((p) => inStrides[p]), offset: 0 }], out.shape, out.dtype);
  },
  // d transpose(perm) = transpose(inverse perm)
  grad: ([dy], _i, _o, { perm }) => [transpose(dy, { perm: inversePerm(perm) })],
};

function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Permutes dims; reverses them when `perm` is omitted. */
export function transpose(x: Tensor, { perm }: { perm?: readonly number[] } = {}): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (p.every((d, i) => d === i)) return x;
  return engine.runOp(transposeOp, [x], { perm: p })[0];
}

interface BroadcastAttrs {
  readonly shape: readonly number[];
}

/** broadcastTo: repeats size-1 (and missing leading) dims up to `shape`. */
export const broadcastToOp: OpDef<BroadcastAttrs> = {
  name: 'broadcastTo',
  outputs([x], { shape }) {
    const target = broadcastShapes('broadcastTo', x.shape, shape);
    if (!shapesEqual(target, shape)) throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    return [{ shape: target, dtype: x.dtype }];
  },
  kernel: ([x], [out]) =>
    elementwiseCall('broadcastTo', E.input(0), [{ dtype: x.dtype, strides: broadcastStrides(x.shape, out.shape), offset: 0 }], out.shape, out.dtype),
  // d broadcastTo = sum over the broadcast dims
  grad: ([dy], [x]) => [unbroadcast(dy, x.shape)],
};

/** Broadcasts `x` to `shape` (NumPy rules). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  return engine.runOp(broadcastToOp, [x], { shape })[0];
}

interface SliceAttrs {
  readonly begin: readonly number[];
  readonly size: readonly number[];
}

/** slice: the box [begin, begin + size) of `x`. */
export const sliceOp: OpDef<SliceAttrs> = {
  name: 'slice',
  outputs([x], { begin, size }) {
    const ok =
      begin.length === x.rank &&
      size.length === x.rank &&
      begin.every((b, i) => Number.isInteger(b) && b >= 0 && Number.isInteger(size[i]) && size[i] >= 0 && b + size[i] <= x.shape[i]);
    if (!ok) {
      throw new ShapeError(`slice: begin ${fmtShape(begin)} and size ${fmtShape(size)} do not fit inside ${fmtShape(x.shape)}`);
    }
    return [{ shape: size.slice(), dtype: x.dtype }];
  },
  kernel([x], [out], { begin }) {
    const strides = stridesOf(x.shape);
    const offset = begin.reduce((acc, b, i) => acc + b * strides[i], 0);
    return elementwiseCall('slice', E.input(0), [{ dtype: x.dtype, strides, offset }], out.shape, out.dtype);
  },
  // d slice = pad the gradient with zeros back to the input's shape
  grad: ([dy], [x], _o, { begin, size }) => [pad(dy, begin.map((b, i) => [b, x.shape[i] - b - size[i]] as [number, number]))],
};

/** The box starting at `begin` of `size` (-1: to the end of that dim). */
export function slice(x: Tensor, { begin, size }: { begin: readonly number[]; size?: readonly number[] }): Tensor {
  x.use('slice');
  const sz = (size ?? x.shape.map(() => -1)).map((s, i) => (s === -1 ? x.shape[i] - (begin[i] ?? 0) : s));
  return engine.runOp(sliceOp, [x], { begin, size: sz })[0];
}

interface PadAttrs {
  /** [before, after] per dim. */
  readonly paddings: readonly (readonly [number, number])[];
  readonly value: number;
}

/** pad: surrounds `x` with `value`. */
export const padOp: OpDef<PadAttrs> = {
  name: 'pad',
  outputs([x], { paddings }) {
    if (paddings.length !== x.rank || paddings.some(([b, a]) => !(Number.isInteger(b) && b >= 0 && Number.isInteger(a) && a >= 0))) {
      throw new ShapeError(`pad: paddings ${JSON.stringify(paddings)} do not fit ${fmtShape(x.shape)} (expected ${x.rank} pairs of non-negative integers)`);
    }
    return [{ shape: x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]), dtype: x.dtype }];
  },
  kernel: ([x], [out], { paddings, value }) => padCall(x.shape, x.dtype, out.shape, paddings, value),
  // d pad = slice out the original box
  grad: ([dy], [x], _o, { paddings }) => [slice(dy, { begin: paddings.map(([b]) => b), size: x.shape })],
};

/** Pads each dim with [before, after] elements of `value` (default 0). */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  return engine.runOp(padOp, [x], { paddings, value })[0];
}

function padCall(
  inShape: readonly number[],
  dtype: Tensor['dtype'],
  outShape: readonly number[],
  paddings: readonly (readonly [number, number])[],
  value: number,
): KernelCall {
  const rank = outShape.length;
  const n = sizeOf(outShape);
  const ty = dtype === 'int32' ? 'i32' : 'f32';
  const inStrides = stridesOf(inShape);
  // One dispatch covers outputs [first, end), bound from outBase, and x from xBase (see split below).
  // Per dim d: the output's size d, x's size x, x's stride xs and the padding before it b.
  const params = kernelParams({
    n: 'u32', first: 'u32', outBase: 'u32', xBase: 'u32',
    ...perDimFields('d', rank), ...perDimFields('x', rank), ...perDimFields('xs', rank), ...perDimFields('b', rank),
    value: 'f32',
  });
  const dims = {
    ...perDimValues('d', outShape), ...perDimValues('x', inShape), ...perDimValues('xs', inStrides), ...perDimValues('b', paddings.map(([before]) => before)),
  };
  const uniformsOf = (first: number, end: number, outBase: number, xBase: number): Uniform[] =>
    params.uniforms({ n: end, first, outBase, xBase, ...dims, value });
  const wgsl = () => {
    // Unsigned wrap-around makes c - b huge when c < b, so one comparison checks both ends.
    const lines = ['  var rem = i;', '  var src = 0u;', '  var inside = true;'];
    for (let d = rank - 1; d >= 0; d--) {
      lines.push(`  { let c = rem % p.d${d}; rem = rem / p.d${d}; let s = c - p.b${d};`);
      lines.push(`    inside = inside && s < p.x${d}; src += s * p.xs${d}; }`);
    }
    lines.push(`  if (inside) { out[i - p.outBase] = x[src - p.xBase]; } else { out[i - p.outBase] = ${ty}(p.value); }`);
    const storages = [{ name: 'x', type: ty }, { name: 'out', type: ty, write: true }];
    return params.wgsl({ storages, index: { from: 'first', below: 'n' }, body: lines.join('\n') });
  };
  const call: KernelCall = {
    name: 'pad',
    key: `pad:${dtype}:r${rank}`,
    uniforms: uniformsOf(0, n, 0, 0),
    workgroups: linearWorkgroups(n),
    wgsl,
    // Fills with the value, then copies x's rows (runs along the last dim, contiguous on both
    // sides) into place: O(n) fill and O(size of x) copy, no per-element index arithmetic.
    cpu([x], [out]) {
      out.fill(value);
      const inSize = sizeOf(inShape);
      if (inSize === 0) return;
      const outStrides = stridesOf(outShape);
      const row = inShape[rank - 1] ?? 1;
      const coord = new Int32Array(Math.max(rank - 1, 0));
      for (let src = 0; src < inSize; src += row) {
        let dst = rank ? paddings[rank - 1][0] : 0;
        for (let d = 0; d < rank - 1; d++) dst += (coord[d] + paddings[d][0]) * outStrides[d];
        out.set(x.subarray(src, src + row), dst);
        for (let d = rank - 2; d >= 0 && ++coord[d] === inShape[d]; d--) coord[d] = 0;
      }
    },
  };
  // Beyond one binding: ranges of outputs, each binding the span of x its inside elements read
  // (x's index bounds for the unpadded coordinates, clipped to x).
  const inSize = sizeOf(inShape);
  const origin = -paddings.reduce((acc, [b], d) => acc + b * inStrides[d], 0);
  const split = (limits: SplitLimits): KernelCall[] =>
    searchParts('pad', limits, (parts) => {
      const calls: KernelCall[] = [];
      for (const [first, end] of ranges(n, parts)) {
        const outWindow = windowOver([first, end], limits);
        const [lo, hi] = stridedSpan(outShape, inStrides, origin, first, end);
        const span: Span = Math.max(lo, 0) < Math.min(hi, inSize) ? [Math.max(lo, 0), Math.min(hi, inSize)] : [0, 1];
        const xWindow = windowOver(span, limits);
        if (!outWindow || !xWindow) return null;
        const uniforms = uniformsOf(first, end, outWindow.offset, xWindow.offset);
        calls.push({ ...call, uniforms, workgroups: linearWorkgroups(end - first), windows: [xWindow, outWindow] });
      }
      return calls;
    });
  return { ...call, split };
}

/** Joins tensors along `axis` (built from pads and adds, so its gradient is slices). */
export function concat(tensors: readonly Tensor[], { axis = 0 }: { axis?: number } = {}): Tensor {
  if (tensors.length === 0) throw new ArgumentError('concat: expected at least one tensor');
  const first = tensors[0];
  first.use('concat');
  const ax = normalizeAxis('concat', axis, first.rank, first.shape);
  for (const t of tensors) {
    t.use('concat');
    const ok = t.rank === first.rank && t.dtype === first.dtype && t.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok) {
      throw new ShapeError(
        `concat: cannot join ${tensors.map((u) => `${u.dtype} ${fmtShape(u.shape)}`).join(', ')} along axis ${axis} (expected equal dtypes and equal dims except axis ${ax})`,
      );
    }
  }
  if (tensors.length === 1) return first;
  const total = tensors.reduce((acc, t) => acc + t.shape[ax], 0);
  // A sum of padded parts: its intermediates are disposed here, not left to the caller's tidy.
  return engine.tidy(() => {
    let before = 0;
    let result: Tensor | null = null;
    for (const t of tensors) {
      const paddings = t.shape.map((_, i) => (i === ax ? [before, total - before - t.shape[ax]] : [0, 0]) as [number, number]);
      const padded = pad(t, paddings);
      result = result ? add(result, padded) : padded;
      before += t.shape[ax];
    }
    return result!;
  });
}

interface GatherAttrs {
  readonly axis: number;
}

function gatherDims(x: readonly number[], axis: number): { outer: number; axisDim: number; inner: number } {
  return { outer: sizeOf(x.slice(0, axis)), axisDim: x[axis], inner: sizeOf(x.slice(axis + 1)) };
}

/** The uniforms of gather's kernel and its bindings (their meaning: shaders/gather.wgsl). */
const GATHER_PARAMS = kernelParams({
  n: 'u32', first: 'u32', outBase: 'u32', axisDim: 'u32', nIdx: 'u32', inner: 'u32', rowLo: 'u32', rowHi: 'u32', xBase: 'u32', idxBase: 'u32',
});
const GATHER_STORAGES = [{ name: 'x', type: 'f32' }, { name: 'indices', type: 'i32' }, { name: 'out', type: 'f32', write: true }];

/** The uniforms of gather's gradient kernel and its bindings (shaders/gather_backprop.wgsl). */
const GATHER_BACKPROP_PARAMS = kernelParams({
  n: 'u32', first: 'u32', dxBase: 'u32', axisDim: 'u32', nIdx: 'u32', inner: 'u32', dyBase: 'u32', idxBase: 'u32', jLo: 'u32', jHi: 'u32',
});
const GATHER_BACKPROP_STORAGES = [{ name: 'dy', type: 'f32' }, { name: 'indices', type: 'i32' }, { name: 'dx', type: 'f32', write: true }];

/** gather: picks slices of `x` along `axis` by int32 `indices`. */
export const gatherOp: OpDef<GatherAttrs> = {
  name: 'gather',
  outputs([x, indices], { axis }) {
    if (indices.dtype !== 'int32') {
      throw new DTypeError(`gather: indices must be int32, got ${indices.dtype} ${fmtShape(indices.shape)}`);
    }
    if (x.dtype !== 'float32') throw new DTypeError(`gather: expected float32 values, got ${x.dtype} ${fmtShape(x.shape)}`);
    return [{ shape: [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype }];
  },
  kernel([x, indices], [out], { axis }) {
    const { outer, axisDim, inner } = gatherDims(x.shape, axis);
    const nIdx = indices.size;
    const n = sizeOf(out.shape);
    const rows = outer * axisDim;
    const uniformsOf = (first: number, end: number, outBase: number, rowLo: number, rowHi: number, xBase: number, idxBase: number): Uniform[] =>
      GATHER_PARAMS.uniforms({ n: end, first, outBase, axisDim, nIdx, inner, rowLo, rowHi, xBase, idxBase });
    const call: KernelCall = {
      name: 'gather',
      key: 'gather',
      wgsl: () => GATHER_PARAMS.wgsl({ storages: GATHER_STORAGES, index: { from: 'first', below: 'n' }, body: gatherWgsl }),
      uniforms: uniformsOf(0, n, 0, 0, rows, 0, 0),
      workgroups: linearWorkgroups(n),
      cpu([xs, idx], [o]) {
        for (let a = 0; a < outer; a++)
          for (let j = 0; j < nIdx; j++) {
            const id = idx[j];
            const base = ((a * nIdx + j) * inner) | 0;
            if (id < 0 || id >= axisDim) o.fill(0, base, base + inner);
            else o.set(xs.subarray((a * axisDim + id) * inner, (a * axisDim + id + 1) * inner), base);
          }
      },
    };
    // Beyond one binding: every range of outputs (with the span of indices it reads) meets every
    // window of table rows; since the indices are only known on the GPU, each part writes the
    // outputs whose row it holds.
    const split = (limits: SplitLimits): KernelCall[] => {
      const outs = searchParts('gather', limits, (parts) => {
        const found: { span: Span; outWindow: BindingWindow; idxWindow: BindingWindow }[] = [];
        for (const span of ranges(n, parts)) {
          const outWindow = windowOver(span, limits);
          const idxWindow = windowOver(stridedSpan([outer, nIdx, inner], [0, 1, 0], 0, span[0], span[1]), limits);
          if (!outWindow || !idxWindow) return null;
          found.push({ span, outWindow, idxWindow });
        }
        return found;
      });
      const tables = fittingRanges('gather', rows, limits, inner);
      return outs.flatMap(({ span: [first, end], outWindow, idxWindow }) =>
        tables.map(({ span: [rowLo, rowHi], window: xWindow }) => ({
          ...call,
          uniforms: uniformsOf(first, end, outWindow.offset, rowLo, rowHi, xWindow.offset, idxWindow.offset),
          workgroups: linearWorkgroups(end - first),
          windows: [xWindow, idxWindow, outWindow],
        })),
      );
    };
    return { ...call, split };
  },
  // d gather = scatter-add of dy into the rows it was read from
  grad: ([dy], [x, indices], _o, { axis }) => [engine.runOp(gatherBackpropOp, [dy, indices], { axis, xShape: x.shape })[0], null],
};

interface GatherBackpropAttrs extends GatherAttrs {
  readonly xShape: readonly number[];
}

/** Gradient of gather with respect to x. */
export const gatherBackpropOp: OpDef<GatherBackpropAttrs> = {
  name: 'gatherBackprop',
  outputs: (_inputs, { xShape }) => [{ shape: xShape.slice(), dtype: 'float32' }],
  kernel([, indices], [out], { axis, xShape }) {
    const { outer, axisDim, inner } = gatherDims(xShape, axis);
    const nIdx = indices.size;
    const n = sizeOf(out.shape);
    const uniformsOf = (first: number, end: number, dxBase: number, dyBase = 0, idxBase = 0, jLo = 0, jHi = nIdx): Uniform[] =>
      GATHER_BACKPROP_PARAMS.uniforms({ n: end, first, dxBase, axisDim, nIdx, inner, dyBase, idxBase, jLo, jHi });
    const call: KernelCall = {
      name: 'gatherBackprop',
      key: 'gatherBackprop',
      wgsl: () => GATHER_BACKPROP_PARAMS.wgsl({ storages: GATHER_BACKPROP_STORAGES, index: { from: 'first', below: 'n' }, body: gatherBackpropWgsl }),
      uniforms: uniformsOf(0, n, 0),
      workgroups: linearWorkgroups(n),
      cpu([dy, idx], [dx]) {
        dx.fill(0);
        for (let a = 0; a < outer; a++)
          for (let j = 0; j < nIdx; j++) {
            const id = idx[j];
            if (id < 0 || id >= axisDim) continue;
            for (let k = 0; k < inner; k++) dx[(a * axisDim + id) * inner + k] += dy[(a * nIdx + j) * inner + k];
          }
      },
    };
    // Beyond one binding: ranges of dx crossed with ranges of index positions, each binding the
    // rows of dy and the indices it sums (parts over later positions add to the earlier ones').
    const plan = (limits: SplitLimits, dxParts: number, jParts: number): KernelCall[] | null => {
      const calls: KernelCall[] = [];
      for (const [first, end] of ranges(n, dxParts)) {
        const [o0, o1] = [Math.floor(first / (inner * axisDim)), Math.floor((end - 1) / (inner * axisDim))];
        const dxWindow = windowOver([first, end], limits);
        for (const [jLo, jHi] of ranges(nIdx, jParts)) {
          const dyWindow = windowOver([(o0 * nIdx + jLo) * inner, (o1 * nIdx + jHi) * inner], limits);
          const idxWindow = windowOver([jLo, jHi], limits);
          if (!dxWindow || !dyWindow || !idxWindow) return null;
          const uniforms = uniformsOf(first, end, dxWindow.offset, dyWindow.offset, idxWindow.offset, jLo, jHi);
          calls.push({ ...call, uniforms, workgroups: linearWorkgroups(end - first), windows: [dyWindow, idxWindow, dxWindow] });
        }
      }
      return calls;
    };
    const split = (limits: SplitLimits): KernelCall[] =>
      searchParts('gatherBackprop', limits, (parts) => {
        for (let jParts = 1; jParts <= parts; jParts *= 2) {
          const calls = plan(limits, parts / jParts, jParts);
          if (calls) return calls;
        }
        return null;
      });
    return { ...call, split };
  },
  grad: null,
};

/** Gathers slices of `x` along `axis` at int32 `indices` (out-of-range indices read 0). */
export function gather(x: Tensor, indices: Tensor, { axis = 0 }: { axis?: number } = {}): Tensor {
  x.use('gather');
  const ax = normalizeAxis('gather', axis, x.rank, x.shape);
  return engine.runOp(gatherOp, [x, indices], { axis: ax })[0];
}

/** One-hot float32 encoding of int32 `indices`: a new last dim of `depth`; out-of-range rows are all zero. */
export function oneHot(indices: Tensor, depth: number): Tensor {
  indices.use('oneHot');
  if (indices.dtype !== 'int32') {
    throw new DTypeError(`oneHot: indices must be int32, got ${indices.dtype} ${fmtShape(indices.shape)}`);
  }
  if (!Number.isInteger(depth) || depth < 1) throw new ArgumentError(`oneHot: depth must be a positive integer, got ${depth}`);
  const classes = tensor(Int32Array.from({ length: depth }, (_, i) => i), [depth]);
  const column = reshape(indices, [...indices.shape, 1]);
  return map('oneHot', E.eq(E.input(0), E.input(1)), [column, classes], [], 'float32');
}
