// softmax and logSoftmax along one axis, and their gradients. Each is one "row" kernel: x is
// viewed as [outer, R, inner] and one invocation owns a row of R values (max, then Σexp, then
// the outputs), so the forward pass is one dispatch and the max shift never enters the tape.
// Rows longer than one GPU binding run in passes over windows of each row (softmax-long.ts).
import { kernelParams } from '../backend/skeleton.js';
import { linearWorkgroups, type KernelCall, type SplitLimits } from '../backend/kernel.js';
import { splitItems, type ItemPart, type Span } from '../backend/split.js';
import { BackendError, DTypeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { WGSL_PRELUDE } from './elementwise/expr.js';
import type { OpDef } from './op.js';
import { ROW_STORAGES, longRowParts, type RowMode } from './softmax-long.js';

interface AxisAttrs {
  /** Non-negative axis. */
  readonly axis: number;
}

/** One row pass per mode: WGSL body and the same arithmetic in JS (f32 accumulators); nt_* keep NaN as JS does. */
const WGSL_BODY: Record<RowMode, string> = {
  softmax: `var m = a[base];
  for (var r = 1u; r < p.reduced; r++) { m = nt_max(m, a[base + r * p.inner]); }
  var s = 0.0;
  for (var r = 0u; r < p.reduced; r++) { s += nt_exp(a[base + r * p.inner] - m); }
  for (var r = 0u; r < p.reduced; r++) { let k = base + r * p.inner; out[k] = nt_exp(a[k] - m) / s; }`,
  logSoftmax: `var m = a[base];
  for (var r = 1u; r < p.reduced; r++) { m = nt_max(m, a[base + r * p.inner]); }
  var s = 0.0;
  for (var r = 0u; r < p.reduced; r++) { s += nt_exp(a[base + r * p.inner] - m); }
  let ls = nt_log(s);
  for (var r = 0u; r < p.reduced; r++) { let k = base + r * p.inner; out[k] = (a[k] - m) - ls; }`,
  // d softmax: dx = y·(dy − Σ dy·y)
  softmaxGrad: `var t = 0.0;
  for (var r = 0u; r < p.reduced; r++) { let k = base + r * p.inner; t += a[k] * b[k]; }
  for (var r = 0u; r < p.reduced; r++) { let k = base + r * p.inner; out[k] = b[k] * (a[k] - t); }`,
  // d logSoftmax: dx = dy − softmax·Σdy, with softmax = exp(y)
  logSoftmaxGrad: `var t = 0.0;
  for (var r = 0u; r < p.reduced; r++) { t += a[base + r * p.inner]; }
  for (var r = 0u; r < p.reduced; r++) { let k = base + r * p.inner; out[k] = a[k] - nt_exp(b[k]) * t; }`,
};

function cpuRow(mode: RowMode, a: ArrayLike<number>, b: ArrayLike<number>, out: Float32Array | Int32Array, base: number, reduced: number, inner: number): void {
  const f = Math.fround;
  if (mode === 'softmax' || mode === 'logSoftmax') {
    let m = a[base];
    for (let r = 1; r < reduced; r++) m = Math.max(m, a[base + r * inner]);
    let s = 0;
    for (let r = 0; r < reduced; r++) s = f(s + f(Math.exp(f(a[base + r * inner] - m))));
    const ls = f(Math.log(s));
    for (let r = 0; r < reduced; r++) {
      const k = base + r * inner;
      const shifted = f(a[k] - m);
      out[k] = mode === 'softmax' ? f(Math.exp(shifted)) / s : shifted - ls;
    }
    return;
  }
  let t = 0;
  for (let r = 0; r < reduced; r++) {
    const k = base + r * inner;
    t = f(t + (mode === 'softmaxGrad' ? f(a[k] * b[k]) : a[k]));
  }
  for (let r = 0; r < reduced; r++) {
    const k = base + r * inner;
    out[k] = mode === 'softmaxGrad' ? b[k] * f(a[k] - t) : a[k] - f(f(Math.exp(b[k])) * t);
  }
}

/** The row kernel's uniforms: rows [first, n) of x viewed as [outer, reduced, inner], every binding bound from `shift`. */
const ROW_PARAMS = kernelParams({ n: 'u32', reduced: 'u32', inner: 'u32', first: 'u32', shift: 'u32' });

function rowCall(mode: RowMode, shape: readonly number[], axis: number, inputs: number): KernelCall {
  const outer = sizeOf(shape.slice(0, axis));
  const reduced = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const n = outer * inner;
  // One dispatch covers rows [first, end); every binding is bound from element `shift` (see split).
  const uniformsOf = (first: number, end: number, shift: number) => ROW_PARAMS.uniforms({ n: end, reduced, inner, first, shift });
  const call: KernelCall = {
    name: mode,
    key: `rows:${mode}`,
    uniforms: uniformsOf(0, n, 0),
    workgroups: linearWorkgroups(n),
    wgsl: () =>
      ROW_PARAMS.wgsl({
        storages: [...ROW_STORAGES.slice(0, inputs), ROW_STORAGES[2]],
        prelude: WGSL_PRELUDE,
        index: { from: 'first', below: 'n' },
        body: `  let base = (i / p.inner) * p.reduced * p.inner + i % p.inner - p.shift;\n  ${WGSL_BODY[mode]}`,
      }),
    cpu([a, b], [out]) {
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) cpuRow(mode, a, b ?? a, out, o * reduced * inner + k, reduced, inner);
    },
  };
  // Beyond one binding: ranges of rows, every tensor bound over the elements they span (the
  // same window for all); rows that alone exceed a binding run in passes over ranges of their
  // values (softmax-long.ts).
  const base = (i: number) => Math.floor(i / inner) * reduced * inner + (i % inner);
  const touch = ([lo, hi]: Span): Span => [base(lo), base(hi - 1) + (reduced - 1) * inner + 1];
  const byRows = (limits: SplitLimits): ItemPart[] | null => {
    try {
      return splitItems(mode, n, limits, Array<typeof touch>(inputs + 1).fill(touch), `row of ${reduced} values`);
    } catch (e) {
      if (e instanceof BackendError) return null;
      throw e;
    }
  };
  const split: KernelCall['split'] = (limits) =>
    byRows(limits)?.map(({ span: [first, end], windows }) => ({
      ...call,
      uniforms: uniformsOf(first, end, windows[0]!.offset),
      workgroups: linearWorkgroups(end - first),
      windows,
    })) ?? longRowParts(call, mode, [outer, reduced, inner], inputs, limits);
  return { ...call, split };
}

/** An op over rows along `axis` whose output has the shape of its first input. */
function rowOp(name: string, mode: RowMode, grad: OpDef<AxisAttrs>['grad']): OpDef<AxisAttrs> {
  return {
    name,
    outputs(inputs) {
      for (const t of inputs) {
        if (t.dtype !== 'float32') throw new DTypeError(`${name}: expected float32 logits, got ${t.dtype} ${fmtShape(t.shape)}`);
      }
      return [{ shape: inputs[0].shape.slice(), dtype: 'float32' }];
    },
    kernel: (inputs, [out], { axis }) => rowCall(mode, out.shape, axis, inputs.length),
    grad,
  };
}

/** Gradient of softmax from (dy, y). */
export const softmaxBackpropOp = rowOp('softmaxBackprop', 'softmaxGrad', null);
/** Gradient of logSoftmax from (dy, y). */
export const logSoftmaxBackpropOp = rowOp('logSoftmaxBackprop', 'logSoftmaxGrad', null);

/** softmax along `axis`: exp(x − max) / Σ exp(x − max). */
export const softmaxOp: OpDef<AxisAttrs> = rowOp('softmax', 'softmax', ([dy], _x, [y], attrs) => [
  // d softmax: dx = y·(dy − Σ dy·y)
  engine.runOp(softmaxBackpropOp, [dy, y], attrs)[0],
]);

/** logSoftmax along `axis`: x − max − log Σ exp(x − max). */
export const logSoftmaxOp: OpDef<AxisAttrs> = rowOp('logSoftmax', 'logSoftmax', ([dy], _x, [y], attrs) => [
  // d logSoftmax: dx = dy − exp(y)·Σdy
  engine.runOp(logSoftmaxBackpropOp, [dy, y], attrs)[0],
]);

function rows(def: OpDef<AxisAttrs>, logits: Tensor, axis: number): Tensor {
  logits.use(def.name);
  return engine.runOp(def, [logits], { axis: normalizeAxis(def.name, axis, logits.rank, logits.shape) })[0];
}

/** Softmax along `axis` (default: the last), computed stably by shifting by the row's max. */
export function softmax(logits: Tensor, { axis = -1 }: { axis?: number } = {}): Tensor {
  return rows(softmaxOp, logits, axis);
}

/** log(softmax(x)) along `axis` (default: the last), without the underflow of taking log of softmax. */
export function logSoftmax(logits: Tensor, { axis = -1 }: { axis?: number } = {}): Tensor {
  return rows(logSoftmaxOp, logits, axis);
}
