// Reductions over axes: sum, mean, max, min, argMax, logSumExp. One kernel reduces the middle
// dim of x viewed as [outer, R, inner]; axes that are not adjacent are first moved together.
import { kernelParams } from '../backend/skeleton.js';
import { linearWorkgroups, type KernelCall, type SplitLimits, type Uniform } from '../backend/kernel.js';
import { ranges, searchParts, windowOver } from '../backend/split.js';
import type { DType } from '../dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { normalizeAxes, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { E } from './elementwise/expr.js';
import { map } from './elementwise/map.js';
import { reduceWasm } from './reduce-wasm.js';
import type { OpDef } from './op.js';
import { add, mul, sub } from './binary.js';
import { exp, log } from './unary.js';
import { broadcastTo, pad, reshape, transpose } from './transform.js';

/** What a reduction computes. */
type ReduceKind = 'sum' | 'max' | 'min' | 'argMax' | 'argMin';

interface ReduceAttrs {
  readonly kind: ReduceKind;
  readonly outer: number;
  readonly reduced: number;
  readonly inner: number;
}

const ARG = (k: ReduceKind): boolean => k === 'argMax' || k === 'argMin';

/**
 * WGSL init/update per kind; NaN wins max/min as in TF (and as the CPU loop does). `first` is
 * the first element this dispatch reads (see splitReduce).
 */
const WGSL_REDUCE: Record<ReduceKind, { init: string; update: string; result: string }> = {
  sum: { init: 'var acc = 0.0;', update: 'acc += v;', result: 'acc' },
  max: { init: 'var acc = f32(x[first]);', update: 'if (v > acc || is_nan(v)) { acc = v; }', result: 'acc' },
  min: { init: 'var acc = f32(x[first]);', update: 'if (v < acc || is_nan(v)) { acc = v; }', result: 'acc' },
  argMax: { init: 'var acc = f32(x[first]); var best = p.rLo;', update: 'if (v > acc) { acc = v; best = r; }', result: 'best' },
  argMin: { init: 'var acc = f32(x[first]); var best = p.rLo;', update: 'if (v < acc) { acc = v; best = r; }', result: 'best' },
};

/** A later window of the reduced dim continues from what the earlier ones wrote. */
const CONTINUE = 'if (p.rLo > 0u) { acc = f32(out[i - p.outBase]); }';

/** The reduction kernel's uniforms: outputs [first, n) bound from outBase, x viewed as [outer, reduced, inner]. */
const REDUCE_PARAMS = kernelParams({ n: 'u32', first: 'u32', outBase: 'u32', reduced: 'u32', inner: 'u32', rLo: 'u32', rHi: 'u32', xBase: 'u32' });

/** Where one dispatch works: outputs [first, end) bound from outBase; reduced indices [rLo, rHi) of x bound from xBase. */
interface ReducePart {
  first: number;
  end: number;
  outBase: number;
  rLo: number;
  rHi: number;
  xBase: number;
}

function reduceCall(x: Tensor, outDtype: DType, attrs: ReduceAttrs): KernelCall {
  const { kind, outer, reduced, inner } = attrs;
  const n = outer * inner;
  const ty = x.dtype === 'int32' ? 'i32' : 'f32';
  const outTy = outDtype === 'int32' ? 'i32' : 'f32';
  const spec = WGSL_REDUCE[kind];
  const uniformsOf = (q: ReducePart) => REDUCE_PARAMS.uniforms({ n: q.end, first: q.first, outBase: q.outBase, reduced, inner, rLo: q.rLo, rHi: q.rHi, xBase: q.xBase });
  const storages = [{ name: 'x', type: ty }, { name: 'out', type: outTy, write: true }];
  const call: KernelCall = {
    name: kind,
    key: `reduce:${kind}:${x.dtype}>${outDtype}`,
    uniforms: uniformsOf({ first: 0, end: n, outBase: 0, rLo: 0, rHi: reduced, xBase: 0 }),
    workgroups: linearWorkgroups(n),
    wgsl: () =>
      REDUCE_PARAMS.wgsl({
        storages,
        // WGSL lets compilers assume no NaN, so `v != v` may fold to false: test the bits.
        prelude: 'fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }',
        index: { from: 'first', below: 'n' },
        body: `  // x's element (o, r, k) sits at base + r * inner in the bound window.
  // It may wrap below zero when rLo > 0: u32 arithmetic is modular, so base + r * inner still lands right.
  let base = (i / p.inner) * p.reduced * p.inner + i % p.inner - p.xBase;
  let first = base + p.rLo * p.inner;
  ${spec.init}
  ${ARG(kind) ? '' : CONTINUE}
  for (var r = p.rLo; r < p.rHi; r++) {
    let v = f32(x[base + r * p.inner]);
    ${spec.update}
  }
  out[i - p.outBase] = ${outTy}(${spec.result});`,
      }),
    cpu([xs], [out]) {
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) {
          const base = o * reduced * inner + k;
          let acc = kind === 'sum' ? 0 : xs[base];
          let best = 0;
          for (let r = 0; r < reduced; r++) {
            const v = xs[base + r * inner];
            // fround keeps the running sum in f32, rounding as the GPU does.
            if (kind === 'sum') acc = Math.fround(acc + v);
            else if (kind === 'max' ? v > acc || v !== v : kind === 'min' ? v < acc || v !== v : false) acc = v;
            else if (kind === 'argMax' ? v > acc : kind === 'argMin' ? v < acc : false) {
              acc = v;
              best = r;
            }
          }
          out[o * inner + k] = ARG(kind) ? best : acc;
        }
    },
    wasm: outDtype === 'float32' ? reduceWasm(kind, x.dtype, outer, reduced, inner) : undefined,
  };
  return { ...call, split: (limits) => splitReduce(call, attrs, limits, uniformsOf) };
}

/**
 * For an x or output larger than one binding: ranges of outputs, each crossed with windows of
 * the reduced dim when x's rows do not fit (not for argMax/argMin, whose running best index
 * could not be compared with values outside the window). Windows run in order and each
 * continues the previous one's result, so the sum order, and the result, are those of one dispatch.
 */
function splitReduce(call: KernelCall, { kind, outer, reduced, inner }: ReduceAttrs, limits: SplitLimits, uniformsOf: (q: ReducePart) => Uniform[]): KernelCall[] {
  const n = outer * inner;
  const base = (i: number) => Math.floor(i / inner) * reduced * inner + (i % inner);
  const plan = (outParts: number, rParts: number): KernelCall[] | null => {
    const calls: KernelCall[] = [];
    for (const [first, end] of ranges(n, outParts)) {
      const outWindow = windowOver([first, end], limits);
      if (!outWindow) return null;
      // An empty reduced dim (a sum of nothing) reads no x: bind it whole.
      for (const [rLo, rHi] of reduced === 0 ? [[0, 0] as const] : ranges(reduced, rParts)) {
        const xWindow = reduced === 0 ? undefined : windowOver([base(first) + rLo * inner, base(end - 1) + (rHi - 1) * inner + 1], limits);
        if (xWindow === null) return null;
        const uniforms = uniformsOf({ first, end, outBase: outWindow.offset, rLo, rHi, xBase: xWindow?.offset ?? 0 });
        calls.push({ ...call, uniforms, workgroups: linearWorkgroups(end - first), windows: [xWindow, outWindow] });
      }
    }
    return calls;
  };
  return searchParts(kind, limits, (parts) => {
    for (let rParts = 1; rParts <= (ARG(kind) ? 1 : parts); rParts *= 2) {
      const found = plan(parts / rParts, rParts);
      if (found) return found;
    }
    return null;
  });
}

/** The reduction primitive (of the middle dim of [outer, R, inner]). */
export const reduceOp: OpDef<ReduceAttrs> = {
  name: 'reduce',
  outputs([x], attrs) {
    if (attrs.reduced === 0 && attrs.kind !== 'sum') {
      throw new ShapeError(`${attrs.kind}: cannot reduce an empty dim of ${fmtShape(x.shape)} (expected at least one element)`);
    }
    return [{ shape: [attrs.outer, attrs.inner], dtype: ARG(attrs.kind) ? 'int32' : x.dtype }];
  },
  kernel: ([x], [out], attrs) => reduceCall(x, out.dtype, attrs),
  grad: ([dy], [x], [y], { kind, outer, reduced, inner }) => {
    if (ARG(kind)) return [null];
    const dy3 = reshape(dy, [outer, 1, inner]);
    const x3 = reshape(x, [outer, reduced, inner]);
    // d sum = 1 for every element; d max/min = 1 where x equals the result (shared by ties, as TF does)
    const g =
      kind === 'sum'
        ? broadcastTo(dy3, [outer, reduced, inner])
        : map(`${kind}Grad`, E.select(E.eq(E.input(1), E.input(2)), E.input(0), E.const(0)), [dy3, x3, reshape(y, [outer, 1, inner])]);
    return [reshape(g, x.shape)];
  },
};

/** Options of the reductions. */
export interface ReduceOptions {
  /** Axis or axes to reduce (negative counts from the end); all when omitted. */
  axis?: number | number[];
  /** Keep reduced dims as size 1. */
  keepDims?: boolean;
}

function reduce(kind: ReduceKind, x: Tensor, { axis, keepDims = false }: ReduceOptions): Tensor {
  x.use(kind);
  const axes = normalizeAxes(kind, axis, x.shape);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((i) => x.shape[i]);
  if (axes.length === 0) return kind === 'sum' || kind === 'max' || kind === 'min' ? x : map(kind, E.const(0), [x], [], 'int32');
  const adjacent = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  let source = x;
  let first = axes[0];
  let last = axes[axes.length - 1];
  if (!adjacent) {
    source = transpose(x, { perm: [...kept, ...axes] });
    first = kept.length;
    last = x.rank - 1;
  }
  const attrs: ReduceAttrs = {
    kind,
    outer: sizeOf(source.shape.slice(0, first)),
    reduced: sizeOf(source.shape.slice(first, last + 1)),
    inner: sizeOf(source.shape.slice(last + 1)),
  };
  return reshape(reduceMiddle(source, attrs), outShape);
}

/** Below this many outputs, one thread per output leaves a GPU idle… */
const FEW_OUTPUTS = 512;
/** …when each would loop over more than this many elements. */
const LONG_REDUCTION = 1024;
/** Elements each thread of the first pass reduces. */
const CHUNK = 256;

/** The divisor of `reduced` in [CHUNK/2, 2·CHUNK] closest to CHUNK, if any. */
function exactChunk(reduced: number): number | undefined {
  for (let d = 0; d <= CHUNK; d++) {
    for (const c of [CHUNK - d, CHUNK + d]) if (c >= CHUNK / 2 && c <= 2 * CHUNK && reduced % c === 0) return c;
  }
  return undefined;
}

/**
 * Reduces the middle dim of x viewed as [outer, R, inner]. A long reduction into few outputs
 * (a full sum, a bias gradient) runs in two passes — chunks of CHUNK, then the partials — so
 * a GPU gets about R/CHUNK times more threads. Unless a chunk near CHUNK divides R, the tail is padded with the reduction's identity,
 * and both passes are ordinary ops, so the gradient needs no special case.
 */
function reduceMiddle(x: Tensor, attrs: ReduceAttrs): Tensor {
  const { kind, outer, reduced, inner } = attrs;
  if (ARG(kind) || x.dtype === 'int32' || outer * inner >= FEW_OUTPUTS || reduced <= LONG_REDUCTION) {
    return engine.runOp(reduceOp, [x], attrs)[0];
  }
  // A chunk that divides R needs no padding (the pad is a full pass over x).
  const chunk = exactChunk(reduced) ?? CHUNK;
  const chunks = Math.ceil(reduced / chunk);
  const identity = kind === 'sum' ? 0 : kind === 'max' ? -Infinity : Infinity;
  const source = reshape(x, [outer, reduced, inner]);
  const padded = chunks * chunk === reduced ? source : pad(source, [[0, 0], [0, chunks * chunk - reduced], [0, 0]], identity);
  const partial = engine.runOp(reduceOp, [padded], { kind, outer: outer * chunks, reduced: chunk, inner })[0];
  return engine.runOp(reduceOp, [partial], { kind, outer, reduced: chunks, inner })[0];
}

/** Sum over axes. */
export const sum = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce('sum', x, options);
/** Maximum over axes. */
export const max = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce('max', x, options);
/** Minimum over axes. */
export const min = (x: Tensor, options: ReduceOptions = {}): Tensor => reduce('min', x, options);

/** Mean over axes. */
export function mean(x: Tensor, options: ReduceOptions = {}): Tensor {
  if (x.dtype !== 'float32') throw new DTypeError(`mean: expected float32, got ${x.dtype} ${fmtShape(x.shape)}`);
  const count = sizeOf(normalizeAxes('mean', options.axis, x.shape).map((a) => x.shape[a]));
  return mul(sum(x, options), 1 / count);
}

/** Index of the largest value along `axis` (default: the last), as int32; the first one on ties. */
export function argMax(x: Tensor, { axis = -1 }: { axis?: number } = {}): Tensor {
  return reduce('argMax', x, { axis: normalizeAxis('argMax', axis, x.rank, x.shape) });
}

/** Index of the smallest value along `axis` (default: the last), as int32. */
export function argMin(x: Tensor, { axis = -1 }: { axis?: number } = {}): Tensor {
  return reduce('argMin', x, { axis: normalizeAxis('argMin', axis, x.rank, x.shape) });
}

/** log Σ exp(x) over axes, computed stably by shifting by the max. */
export function logSumExp(x: Tensor, { axis, keepDims = false }: ReduceOptions = {}): Tensor {
  x.use('logSumExp');
  if (x.dtype !== 'float32') throw new DTypeError(`logSumExp: expected float32, got ${x.dtype} ${fmtShape(x.shape)}`);
  // Validate here so errors name logSumExp rather than the max inside it.
  normalizeAxes('logSumExp', axis, x.shape);
  return engine.tidy(() => {
    // The max shift is a constant for the gradient (it cancels), so take it outside the tape.
    const m = stopGradient(max(x, { axis, keepDims: true }));
    const lse = add(log(sum(exp(sub(x, m)), { axis, keepDims: true })), m);
    const axes = normalizeAxes('logSumExp', axis, x.shape);
    return keepDims ? lse : reshape(lse, x.shape.filter((_, j) => !axes.includes(j)));
  });
}

/** A copy of `x` through which no gradient flows. */
export function stopGradient(x: Tensor): Tensor {
  return map('stopGradient', E.input(0), [x]);
}
