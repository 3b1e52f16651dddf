// 2-D max and average pooling (NHWC, TF.js conventions) and their gradient ops. One invocation
// per output element on the GPU (shaders/*pool*.wgsl), or per four channels (and per window for
// max pooling's gradient) when C allows; the CPU loops run channels innermost.
// Padded positions are left out of windows: max ignores them, average divides by the real count.
import avgPoolWgsl from '../../shaders/avg_pool2d.wgsl?raw';
import avgPoolBackpropWgsl from '../../shaders/avg_pool2d_backprop.wgsl?raw';
import maxPoolWgsl from '../../shaders/max_pool2d.wgsl?raw';
import maxPoolBackpropWgsl from '../../shaders/max_pool2d_backprop.wgsl?raw';
import maxPoolV4Wgsl from '../../shaders/max_pool2d_v4.wgsl?raw';
import maxPoolBackpropWindowsWgsl from '../../shaders/max_pool2d_backprop_windows.wgsl?raw';
import argMaxWgsl from '../../shaders/pool_argmax.wgsl?raw';
import argMax4Wgsl from '../../shaders/pool_argmax4.wgsl?raw';
import commonWgsl from '../../shaders/pool_common.wgsl?raw';
import { linearWorkgroups, type KernelCall, type SplitLimits, type Uniform } from '../backend/kernel.js';
import { kernelParams, type StorageBinding } from '../backend/skeleton.js';
import { splitItems, type Span } from '../backend/split.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { maxPoolWasm } from './pool-wasm.js';
import type { Tensor } from '../tensor.js';
import type { OpDef } from './op.js';
import { checkImage, inputRowsOf, outputRowsOf, pairOption, paddingOption, rowSpan, wholeRows, windowAxis, type Padding, type WindowAxis } from './windows.js';
import { reshape } from './transform.js';

/** Options of `maxPool2d` and `avgPool2d`. */
export interface Pool2dOptions {
  /** Window height and width: one number or [ph, pw]. */
  poolSize: number | readonly [number, number];
  /** Step between windows (default: the pool size). */
  strides?: number | readonly [number, number];
  /** 'valid' (default) or 'same' (TF's rule; padded positions are not part of any window). */
  padding?: Padding;
}

interface PoolAttrs {
  readonly poolSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding;
}

/** Sizes of one pooling (pt/pl: padding before the first row/column). */
interface PoolGeometry {
  batch: number;
  H: number;
  W: number;
  C: number;
  outH: number;
  outW: number;
  ph: number;
  pw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}

/** The geometry of one pooling; `shownX` is the input's shape as the caller passed it (errors name it). */
function poolGeometry(op: string, xShape: readonly number[], { poolSize, strides, padding }: PoolAttrs, shownX = xShape): PoolGeometry {
  const [batch, H, W, C] = xShape;
  const [ph, pw] = poolSize;
  const [sh, sw] = strides;
  const y = windowAxis(H, ph, sh, 1, padding);
  const x = windowAxis(W, pw, sw, 1, padding);
  if (xShape.some((d) => d === 0) || y.out === 0 || x.out === 0) {
    throw new ShapeError(
      `${op}: output would be empty: input ${fmtShape(shownX)} with poolSize ${fmtShape(poolSize)}, strides ${fmtShape(strides)} and '${padding}' padding gives ${fmtShape([batch, y.out, x.out, C])}`,
    );
  }
  return { batch, H, W, C, outH: y.out, outW: x.out, ph, pw, sh, sw, pt: y.pad, pl: x.pad };
}

const outShape = (g: PoolGeometry): number[] => [g.batch, g.outH, g.outW, g.C];

/** Taps [lo, hi) of a window starting at `start` that fall inside [0, size). */
const inside = (start: number, k: number, size: number): [number, number] => [Math.max(-start, 0), Math.min(size - start, k)];

/**
 * Calls `f(o, lo, hi, y0, x0)` for every window in (b, oy, ox) order, with o its flat output offset
 * (channel 0) and [lo, hi) its in-bounds taps per axis: the loop all four CPU kernels share.
 */
function forEachWindow(g: PoolGeometry, f: (o: number, b: number, ry: [number, number], rx: [number, number], y0: number, x0: number) => void): void {
  let o = 0;
  for (let b = 0; b < g.batch; b++)
    for (let oy = 0; oy < g.outH; oy++) {
      const y0 = oy * g.sh - g.pt;
      const ry = inside(y0, g.ph, g.H);
      for (let ox = 0; ox < g.outW; ox++, o += g.C) {
        const x0 = ox * g.sw - g.pl;
        f(o, b, ry, inside(x0, g.pw, g.W), y0, x0);
      }
    }
}

/**
 * For each channel, the flat index in x of the window's max (`at`): the first in-bounds element
 * starts it and a later one replaces it only when greater or NaN, the rule of pool_argmax.wgsl.
 */
function windowArgMax(g: PoolGeometry, x: Float32Array, b: number, ry: [number, number], rx: [number, number], y0: number, x0: number, best: Float64Array, at: Int32Array): void {
  let first = true;
  for (let ky = ry[0]; ky < ry[1]; ky++)
    for (let kx = rx[0]; kx < rx[1]; kx++) {
      const xi = ((b * g.H + y0 + ky) * g.W + x0 + kx) * g.C;
      for (let c = 0; c < g.C; c++) {
        const v = x[xi + c];
        if (first || v > best[c] || v !== v) {
          best[c] = v;
          at[c] = xi + c;
        }
      }
      first = false;
    }
}

const maxPoolCpu = (g: PoolGeometry, x: Float32Array, out: Float32Array, dy?: Float32Array): void => {
  const best = new Float64Array(g.C);
  const at = new Int32Array(g.C);
  const acc = dy ? new Float64Array(out.length) : null;
  forEachWindow(g, (o, b, ry, rx, y0, x0) => {
    windowArgMax(g, x, b, ry, rx, y0, x0, best, at);
    for (let c = 0; c < g.C; c++) {
      if (acc) acc[at[c]] += dy![o + c];
      else out[o + c] = best[c];
    }
  });
  if (acc) out.set(acc);
};

/** Average pooling (forward: a = x, out = y) or its gradient (a = dy, out = dx) on the CPU. */
const avgPoolCpu = (g: PoolGeometry, backprop: boolean, a: Float32Array, out: Float32Array): void => {
  const acc = new Float64Array(backprop ? out.length : g.C);
  forEachWindow(g, (o, b, ry, rx, y0, x0) => {
    const count = (ry[1] - ry[0]) * (rx[1] - rx[0]);
    if (!backprop) acc.fill(0);
    for (let ky = ry[0]; ky < ry[1]; ky++)
      for (let kx = rx[0]; kx < rx[1]; kx++) {
        const xi = ((b * g.H + y0 + ky) * g.W + x0 + kx) * g.C;
        if (backprop) for (let c = 0; c < g.C; c++) acc[xi + c] += a[o + c] / count;
        else for (let c = 0; c < g.C; c++) acc[c] += a[xi + c];
      }
    if (!backprop) for (let c = 0; c < g.C; c++) out[o + c] = acc[c] / count;
  });
  if (backprop) out.set(acc);
};

/**
 * Which pooling kernel: forward (x → y), max gradient (x, dy → dx) per dx element, max gradient
 * per window (x, dy → dx; windows that do not overlap), or average gradient (dy → dx).
 */
type PoolKind = 'forward' | 'maxBackprop' | 'maxBackpropWindows' | 'avgBackprop';

/**
 * `lanes`: channels per invocation (4 for the vec4 kernels, whose arrays are vec4<f32>). Invocations
 * run over output rows (image, row) — the pooled rows for the forward and the per-window gradient,
 * the input rows for the per-element gradients — `rowItems` of them per row.
 */
function poolCall(name: string, kind: PoolKind, shader: PoolShader, g: PoolGeometry, cpu: KernelCall['cpu'], lanes = 1, wasm?: KernelCall['wasm']): KernelCall {
  const { C, H, W, outH, outW, ph, pw, sh, sw, pt, pl } = g;
  const perWindow = kind === 'forward' || kind === 'maxBackpropWindows';
  const rows: PoolRows = { perImage: perWindow ? outH : H, items: ((perWindow ? outW : W) * C) / lanes };
  // One dispatch covers invocations [first, end); shifts index the bindings' windows (pool_common.wgsl),
  // in array elements (vec4s when lanes is 4; window offsets are multiples of 4).
  const uniformsOf = (first: number, end: number, shifts: readonly number[]) => {
    const [aShift, bShift, oShift] = [0, 1, 2].map((k) => (shifts[k] ?? 0) / lanes);
    return POOL_PARAMS.uniforms({ n: end, C, H, W, outH, outW, ph, pw, sh, sw, pt, pl, first, aShift, bShift, oShift });
  };
  const n = g.batch * rows.perImage * rows.items;
  const call: KernelCall = { name, key: lanes === 1 ? name : `${name}:vec${lanes}`, wgsl: () => poolWgsl(shader, lanes), uniforms: uniformsOf(0, n, []), workgroups: linearWorkgroups(n), cpu, wasm };
  return { ...call, split: (limits) => splitPool(call, kind, g, rows, limits, uniformsOf) };
}

/** The image rows a pooling kernel's invocations run over: rows per image, invocations per row. */
interface PoolRows {
  readonly perImage: number;
  readonly items: number;
}

/**
 * The input rows [lo, hi) that pooled rows [o0, o1) own in the per-window gradient
 * (max_pool2d_backprop_windows.wgsl): from each window's start to the next one's, the first
 * window's from row 0 and the last's to the end, so that the windows' parts tile the input.
 */
function ownedRows(a: WindowAxis, o0: number, o1: number): Span {
  const start = (o: number) => Math.min(Math.max(o * a.s - a.pad, 0), a.inSize);
  return [o0 === 0 ? 0 : start(o0), o1 === a.outSize ? a.inSize : start(o1)];
}

/**
 * Over tensors larger than one binding: ranges of output rows (image, row), each tensor bound
 * from the window of whole rows they touch — the input rows under the windows (forward), or the
 * pooled rows whose windows cover the gradient's rows, and the input rows those windows read
 * (per-element gradients), or the pooled rows' windows and the input rows they own (per-window).
 */
function splitPool(
  call: KernelCall, kind: PoolKind, g: PoolGeometry, rows: PoolRows, limits: SplitLimits,
  uniformsOf: (first: number, end: number, shifts: readonly number[]) => Uniform[],
): KernelCall[] {
  const axis: WindowAxis = { k: g.ph, d: 1, s: g.sh, pad: g.pt, inSize: g.H, outSize: g.outH };
  const xRow = g.W * g.C;
  const yRow = g.outW * g.C;
  const covered = (y0: number, y1: number): Span => outputRowsOf(axis, y0, y1);
  const underCovered = (y0: number, y1: number): Span => {
    const [o0, o1] = covered(y0, y1);
    return o1 > o0 ? inputRowsOf(axis, o0, o1) : [y0, y0];
  };
  const under = (span: Span) => rowSpan(span, g.outH, g.H, xRow, (y0, y1) => inputRowsOf(axis, y0, y1));
  const touches = {
    forward: [under, (span: Span) => wholeRows(span, yRow)],
    maxBackprop: [(span: Span) => rowSpan(span, g.H, g.H, xRow, underCovered), (span: Span) => rowSpan(span, g.H, g.outH, yRow, covered), (span: Span) => wholeRows(span, xRow)],
    maxBackpropWindows: [under, (span: Span) => wholeRows(span, yRow), (span: Span) => rowSpan(span, g.outH, g.H, xRow, (o0, o1) => ownedRows(axis, o0, o1))],
    avgBackprop: [(span: Span) => rowSpan(span, g.H, g.outH, yRow, covered), (span: Span) => wholeRows(span, xRow)],
  }[kind];
  return splitItems(call.name, g.batch * rows.perImage, limits, touches, 'image row').map(({ span, windows }) => {
    const [first, end] = wholeRows(span, rows.items);
    const shifts = windows.map((w) => w!.offset);
    // The output's window is the last binding; its shift goes in oShift.
    const ordered = [shifts[0], windows.length === 3 ? shifts[1] : 0, shifts[shifts.length - 1]];
    return { ...call, uniforms: uniformsOf(first, end, ordered), workgroups: linearWorkgroups(end - first), windows };
  });
}

/** The uniforms of every pooling kernel (their meaning: shaders/pool_common.wgsl). */
const POOL_PARAMS = kernelParams({
  n: 'u32', C: 'u32', H: 'u32', W: 'u32', outH: 'u32', outW: 'u32', ph: 'u32', pw: 'u32', sh: 'u32', sw: 'u32', pt: 'u32', pl: 'u32',
  first: 'u32', aShift: 'u32', bShift: 'u32', oShift: 'u32',
});

/** A pooling kernel: its body, the argmax helpers it reads (if any) and its bindings' names. */
interface PoolShader {
  readonly body: string;
  readonly argMax?: string;
  readonly bindings: readonly string[];
}

/** The whole kernel: the skeleton's opening over the bindings (the last written), the shared geometry, the body. */
function poolWgsl({ body, argMax, bindings }: PoolShader, lanes: number): string {
  const type = lanes === 4 ? 'vec4<f32>' : 'f32';
  const storages: StorageBinding[] = bindings.map((name, k) => ({ name, type, write: k === bindings.length - 1 }));
  return POOL_PARAMS.wgsl({ storages, prelude: commonWgsl + (argMax ?? ''), index: { from: 'first', below: 'n' }, body });
}

const MAX: PoolShader = { body: maxPoolWgsl, argMax: argMaxWgsl, bindings: ['x', 'out'] };
const MAX_BACKPROP: PoolShader = { body: maxPoolBackpropWgsl, argMax: argMaxWgsl, bindings: ['x', 'dy', 'dx'] };
const MAX_V4: PoolShader = { body: maxPoolV4Wgsl, argMax: argMax4Wgsl, bindings: ['x', 'out'] };
const MAX_BACKPROP_WINDOWS: PoolShader = { body: maxPoolBackpropWindowsWgsl, argMax: argMax4Wgsl, bindings: ['x', 'dy', 'dx'] };
const AVG: PoolShader = { body: avgPoolWgsl, bindings: ['x', 'out'] };
const AVG_BACKPROP: PoolShader = { body: avgPoolBackpropWgsl, bindings: ['dy', 'dx'] };

/** maxPool2d: the max of each window of x [N,H,W,C]. */
export const maxPool2dOp: OpDef<PoolAttrs> = {
  name: 'maxPool2d',
  outputs: ([x], attrs) => [{ shape: outShape(poolGeometry('maxPool2d', x.shape, attrs)), dtype: 'float32' }],
  kernel([x], _outputs, attrs) {
    const g = poolGeometry('maxPool2d', x.shape, attrs);
    const cpu: KernelCall['cpu'] = ([xs], [o]) => maxPoolCpu(g, xs as Float32Array, o as Float32Array);
    // Four channels per invocation share the window's index math, when C allows.
    return g.C % 4 === 0 ? poolCall('maxPool2d', 'forward', MAX_V4, g, cpu, 4, maxPoolWasm(g, false)) : poolCall('maxPool2d', 'forward', MAX, g, cpu);
  },
  // dL/dx routes each window's dy to the element that was its max
  grad: ([dy], [x], _o, attrs) => [engine.runOp(maxPool2dBackpropOp, [x, dy], attrs)[0]],
};

/** Gradient of maxPool2d w.r.t. x, from x (to recompute each window's max) and dy. */
export const maxPool2dBackpropOp: OpDef<PoolAttrs> = {
  name: 'maxPool2dBackprop',
  outputs([x, dy], attrs) {
    const expected = outShape(poolGeometry('maxPool2dBackprop', x.shape, attrs));
    checkDy('maxPool2dBackprop', dy, expected);
    return [{ shape: x.shape.slice(), dtype: 'float32' }];
  },
  kernel([x], _outputs, attrs) {
    const g = poolGeometry('maxPool2dBackprop', x.shape, attrs);
    const cpu: KernelCall['cpu'] = ([xs, dy], [dx]) => maxPoolCpu(g, xs as Float32Array, dx as Float32Array, dy as Float32Array);
    // Windows that do not overlap (the usual strides = pool size): one invocation per window and
    // four channels writes the part of dx it owns, instead of every dx element redoing its window's max.
    if (g.sh >= g.ph && g.sw >= g.pw && g.C % 4 === 0) {
      return poolCall('maxPool2dBackprop', 'maxBackpropWindows', MAX_BACKPROP_WINDOWS, g, cpu, 4, maxPoolWasm(g, true));
    }
    return poolCall('maxPool2dBackprop', 'maxBackprop', MAX_BACKPROP, g, cpu, 1, maxPoolWasm(g, true));
  },
  grad: null,
};

/** avgPool2d: the mean of the in-bounds part of each window of x [N,H,W,C]. */
export const avgPool2dOp: OpDef<PoolAttrs> = {
  name: 'avgPool2d',
  outputs: ([x], attrs) => [{ shape: outShape(poolGeometry('avgPool2d', x.shape, attrs)), dtype: 'float32' }],
  kernel([x], _outputs, attrs) {
    const g = poolGeometry('avgPool2d', x.shape, attrs);
    return poolCall('avgPool2d', 'forward', AVG, g, ([xs], [o]) => avgPoolCpu(g, false, xs as Float32Array, o as Float32Array));
  },
  // dL/dx spreads each window's dy evenly over its in-bounds elements
  grad: ([dy], [x], _o, attrs) => [engine.runOp(avgPool2dBackpropOp, [dy], { ...attrs, xShape: x.shape })[0]],
};

interface AvgBackpropAttrs extends PoolAttrs {
  readonly xShape: readonly number[];
}

/** Gradient of avgPool2d w.r.t. x, from dy alone. */
export const avgPool2dBackpropOp: OpDef<AvgBackpropAttrs> = {
  name: 'avgPool2dBackprop',
  outputs([dy], attrs) {
    checkDy('avgPool2dBackprop', dy, outShape(poolGeometry('avgPool2dBackprop', attrs.xShape, attrs)));
    return [{ shape: attrs.xShape.slice(), dtype: 'float32' }];
  },
  kernel(_inputs, _outputs, attrs) {
    const g = poolGeometry('avgPool2dBackprop', attrs.xShape, attrs);
    return poolCall('avgPool2dBackprop', 'avgBackprop', AVG_BACKPROP, g, ([dy], [dx]) =>
      avgPoolCpu(g, true, dy as Float32Array, dx as Float32Array),
    );
  },
  grad: null,
};

function checkDy(op: string, dy: Tensor, expected: number[]): void {
  if (dy.dtype !== 'float32' || dy.rank !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${op}: dy is ${dy.dtype} ${fmtShape(dy.shape)}, expected float32 ${fmtShape(expected)} (the pooled shape)`);
  }
}

function pool(op: string, def: OpDef<PoolAttrs>, x: Tensor, options: Pool2dOptions): Tensor {
  checkImage(op, x);
  if (options?.poolSize === undefined) throw new ArgumentError(`${op}: the poolSize option is required`);
  const poolSize = pairOption(op, 'poolSize', options.poolSize);
  const attrs: PoolAttrs = {
    poolSize,
    strides: options.strides === undefined ? poolSize : pairOption(op, 'strides', options.strides),
    padding: paddingOption(op, options.padding ?? 'valid'),
  };
  if (x.rank === 3) {
    // Checked here too, so that errors name the caller's [H,W,C] rather than the batch of one.
    poolGeometry(op, [1, ...x.shape], attrs, x.shape);
    const y = engine.runOp(def, [reshape(x, [1, ...x.shape])], attrs)[0];
    return reshape(y, y.shape.slice(1));
  }
  return engine.runOp(def, [x], attrs)[0];
}

/** Max pooling of x [N,H,W,C] (or [H,W,C]) over windows of `poolSize`; the gradient goes to the first max of a window. */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return pool('maxPool2d', maxPool2dOp, x, options);
}

/** Average pooling of x [N,H,W,C] (or [H,W,C]) over windows of `poolSize`; with 'same', padded positions are not counted. */
export function avgPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return pool('avgPool2d', avgPool2dOp, x, options);
}
