// conv2d (NHWC, TF.js conventions), fusedConv2d (bias + activation in conv2d's kernel epilogue) and
// the gradient ops conv2dBackpropInput and conv2dBackpropFilter. Each is one OpDef whose kernel
// pairs a CPU loop (conv-cpu.ts) with an implicit-GEMM WGSL kernel: unrolled register tiles
// (conv-wgsl.ts) or workgroup-memory tiles (conv-workgroup-wgsl.ts), as the backend prefers.
import { linearWorkgroups, type KernelPreferences, type KernelCall, type SplitLimits, type Uniform } from '../backend/kernel.js';
import { ranges, splitItems, type Span } from '../backend/split.js';
import { BackendError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { filterGemmCpu, gatherGemmCpu } from './conv-cpu.js';
import { convAttrs, convGeometry, partUniforms, type Conv2dOptions, type ConvAttrs, type ConvGeometry, type ConvPart } from './conv-geometry.js';
import { backpropInputByColumns, prefersColumns } from './conv-columns.js';
import { filterWasm, gatherWasm } from './conv-wasm.js';
import { FILTER_PARAMS, GATHER_PARAMS, filterGemmWgsl, gatherGemmWgsl, tileKey, type ConvTile } from './conv-wgsl.js';
import { convWorkgroupDispatch, convWorkgroupWgsl, type ConvGemmKind } from './conv-workgroup-wgsl.js';
import { workgroupGemmGrid } from './gemm-workgroup.js';
import { activationBackprop, checkFusedActivation, cpuEpilogue, epilogueWgsl, type FusedActivation } from './epilogue.js';
import type { OpDef } from './op.js';
import { sum } from './reduce.js';
import { reshape, transpose } from './transform.js';
import { checkImage, inputRowsOf, outputRowsOf, rowSpan, wholeRows, type WindowAxis } from './windows.js';

export type { Conv2dOptions } from './conv-geometry.js';

/** Options of `fusedConv2d`. */
export interface FusedConv2dOptions extends Conv2dOptions {
  /** float32 [outC], added to every output pixel's channels. Default none. */
  bias?: Tensor;
  /** Applied after the bias: 'linear' (default), 'relu', 'sigmoid' or 'tanh'. */
  activation?: FusedActivation;
}

function checkFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new DTypeError(`${op}: expected float32 tensors, got ${t.dtype} ${fmtShape(t.shape)}`);
}

function checkDy(op: string, dy: Tensor, g: ConvGeometry): void {
  const expected = [g.batch, g.outH, g.outW, g.outC];
  if (dy.rank !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${op}: dy ${fmtShape(dy.shape)} does not match the conv2d output ${fmtShape(expected)}`);
  }
}

// ---- Kernel calls ----

/** Register tile: 8 rows × 2 vec4 columns, as matMul (fastest measured on SwiftShader). */
const TILE = { rows: 8, cols4: 2 };
/**
 * The filter gradient splits its reduction (over N·outH·outW) until about this many register-tile
 * invocations or workgroups run (a small filter has few tiles)…
 */
const FILTER_TARGET = { register: 2048, workgroup: 256 };
/** …but keeps at least this many output pixels per chunk, so the partials stay small. */
const FILTER_MIN_CHUNK = { register: 64, workgroup: 256 };

/**
 * The register tile for `columns` output columns. `inside` (forward and filter gradient only):
 * every tap of every output pixel lies inside x, as with 'valid' padding, so loads skip bounds tests.
 */
const tileFor = (columns: number, inside = false): ConvTile => ({ ...TILE, bVec: columns % 4 === 0, inside });

/** Every tap of every output pixel lies inside the input: no padding is reached. */
const tapsInside = (g: ConvGeometry): boolean =>
  g.pt === 0 && g.pl === 0 && (g.outH - 1) * g.sh + (g.kh - 1) * g.dh < g.inH && (g.outW - 1) * g.sw + (g.kw - 1) * g.dw < g.inW;
const colTilesOf = (columns: number): number => Math.ceil(Math.ceil(columns / 4) / TILE.cols4);

/** fusedConv2d's epilogue: the activation and whether a bias is read (null for the plain kernels). */
interface Epilogue {
  activation: FusedActivation;
  hasBias: boolean;
}

/** The GPU half of a KernelCall, from either variant; `variant` goes in the pipeline key. */
interface GpuKernel {
  variant: string;
  wgsl: () => string;
  uniforms: Uniform[];
  workgroups: [number, number, number];
}

/** The workgroup-memory variant of any of the three convs. */
function workgroupKernel(kind: ConvGemmKind, g: ConvGeometry, epi: Epilogue | null, chunk?: number, splits?: number, part?: ConvPart): GpuKernel {
  return {
    variant: 'workgroup',
    wgsl: () => convWorkgroupWgsl(kind, epi && epilogueWgsl(epi.activation, epi.hasBias)),
    ...convWorkgroupDispatch(kind, g, chunk, splits, part),
  };
}

/** The unsplit defaults of the split fields. */
const WHOLE = { m0: 0, s0: 0, q0: 0, aShift: 0, bShift: 0, outShift: 0 };

function registerGatherKernel(forward: boolean, g: ConvGeometry, epi: Epilogue | null, part: ConvPart = {}): GpuKernel {
  const [whole, N, kc, rowH, rowW, aH, aW] = forward
    ? [g.batch * g.outH * g.outW, g.outC, g.inC, g.outH, g.outW, g.inH, g.inW]
    : [g.batch * g.inH * g.inW, g.inC, g.outC, g.inH, g.inW, g.outH, g.outW];
  const M = part.M ?? whole;
  const tile = tileFor(N, forward && tapsInside(g));
  const colTiles = colTilesOf(N);
  const tiles = Math.ceil(M / tile.rows) * colTiles;
  const values = { ...g, ...WHOLE, ky0: 0, ky1: g.kh, ...partUniforms(part, tile.bVec ? 4 : 1), tiles, colTiles, M, N, kc, rowH, rowW, aH, aW };
  const oneChannel = kc === 1;
  return {
    variant: `register:${tileKey(tile)}${oneChannel ? ':c1' : ''}`,
    wgsl: () => gatherGemmWgsl(forward ? 'forward' : 'backpropInput', tile, epi && epilogueWgsl(epi.activation, epi.hasBias), oneChannel),
    uniforms: GATHER_PARAMS.uniforms(values),
    workgroups: linearWorkgroups(tiles),
  };
}

function gatherCall(forward: boolean, g: ConvGeometry, prefs: KernelPreferences, epi: Epilogue | null = null): KernelCall {
  const kind = forward ? 'forward' : 'backpropInput';
  const register = prefs.tiling === 'register';
  const gpuFor = (part?: ConvPart): GpuKernel => (register ? registerGatherKernel(forward, g, epi, part) : workgroupKernel(kind, g, epi, undefined, undefined, part));
  const { variant, ...gpu } = gpuFor();
  const key = `conv2d:${kind}:${variant}`;
  const call: KernelCall = {
    name: epi ? 'fusedConv2d' : forward ? 'conv2d' : 'conv2dBackpropInput',
    key: epi ? `${key}:${epi.activation}:bias${+epi.hasBias}` : key,
    ...gpu,
    cpu: ([a, b, bias], [out]) => {
      const store = epi ? cpuEpilogue(epi.activation, epi.hasBias ? (bias as Float32Array) : null) : null;
      gatherGemmCpu(forward, g, a as Float32Array, b as Float32Array, out as Float32Array, store);
    },
    wasm: gatherWasm(forward, g, epi),
  };
  // Beyond one binding: ranges of output rows (image, row) — images are independent — with a
  // (x, or dy for the input gradient) bound over the rows their windows read; the filter (and
  // bias) bound whole, so a filter over the limit is refused. Where one row's band of dy rows is
  // too tall, the input gradient also runs by ranges of the filter's rows (taps), each range
  // reading fewer dy rows and adding its taps' terms to dx.
  const [rowH, rowW, N] = forward ? [g.outH, g.outW, g.outC] : [g.inH, g.inW, g.inC];
  const byRows = (limits: SplitLimits, [ky0, ky1]: Span): KernelCall[] => {
    // Taps [ky0, ky1) act as a filter of ky1 − ky0 rows whose first row is ky0·dh further on.
    const axis: WindowAxis = { k: ky1 - ky0, d: g.dh, s: g.sh, pad: g.pt - ky0 * g.dh, inSize: g.inH, outSize: g.outH };
    const rowsOf = forward
      ? (span: Span) => rowSpan(span, g.outH, g.inH, g.inW * g.inC, (y0, y1) => inputRowsOf(axis, y0, y1))
      : (span: Span) => rowSpan(span, g.inH, g.outH, g.outW * g.outC, (y0, y1) => outputRowsOf(axis, y0, y1));
    // Rows none of whose taps fall in a: nothing is read, any window in bounds will do.
    const aTouch = (span: Span): Span => {
      const [lo, hi] = rowsOf(span);
      return hi > lo ? [lo, hi] : [0, 1];
    };
    const whole = () => null;
    const touches = [aTouch, whole, ...(epi?.hasBias ? [whole] : []), (span: Span) => wholeRows(span, rowW * N)];
    const taps = ky1 - ky0 < g.kh ? { ky0, ky1, q0: ky0 * g.kw * g.outC, q1: ky1 * g.kw * g.outC } : {};
    return splitItems(call.name, g.batch * rowH, limits, touches, 'image row').map(({ span: [r0, r1], windows }) => {
      const m0 = r0 * rowW;
      const out = windows[windows.length - 1]!;
      const { variant: _v, ...part } = gpuFor({ M: (r1 - r0) * rowW, m0, aShift: windows[0]!.offset, outShift: m0 * N - out.offset, ...taps });
      return { ...call, ...part, windows };
    });
  };
  const split = (limits: SplitLimits): KernelCall[] => {
    for (let parts = 1; ; parts++) {
      try {
        return ranges(g.kh, parts).flatMap((taps) => byRows(limits, taps));
      } catch (e) {
        if (forward || parts >= g.kh || !(e instanceof BackendError)) throw e;
      }
    }
  };
  return { ...call, split };
}

/**
 * The filter gradient's register tile: 16 rows × 2 vec4 columns where 16 consecutive rows are
 * channels of one tap (inC a multiple of 16), so each output pixel's x address serves 16 loads.
 * SwiftShader, layer 2 of the tutorial CNN (x [64,13,13,32], 64 filters): 68 ms with 8 rows,
 * 49 with 16, 52 with 16 × 4 vec4s, 57 with 32 rows. Otherwise the 8-row tile (taps shared when inC allows).
 */
const filterTile = (g: ConvGeometry): ConvTile => ({ ...(g.inC % 16 === 0 ? WIDE_FILTER_TILE : TILE), bVec: g.outC % 4 === 0, inside: tapsInside(g) });
const WIDE_FILTER_TILE = { rows: 16, cols4: 2 };

/** Register tiles of the filter gradient (before splitting the reduction). */
const filterTiles = (g: ConvGeometry): number => Math.ceil((g.kh * g.kw * g.inC) / filterTile(g).rows) * colTilesOf(g.outC);

/** How many chunks the filter gradient's reduction over N·outH·outW is split into, for the tiling a backend prefers. */
function filterSplits(g: ConvGeometry, { tiling: variant }: KernelPreferences): number {
  const P = g.batch * g.outH * g.outW;
  const tiles = variant === 'register' ? filterTiles(g) : workgroupGemmGrid(g.kh * g.kw * g.inC, g.outC, 1).count;
  return Math.max(1, Math.min(Math.ceil(FILTER_TARGET[variant] / tiles), Math.ceil(P / FILTER_MIN_CHUNK[variant])));
}

function registerFilterKernel(g: ConvGeometry, chunk: number, splits: number, part: ConvPart = {}): GpuKernel {
  const tile = filterTile(g);
  const P = g.batch * g.outH * g.outW;
  const tiles = filterTiles(g);
  const total = tiles * (part.chunks ?? splits);
  const values = { ...g, ...WHOLE, q1: P, ...partUniforms(part, tile.bVec ? 4 : 1), total, tiles, colTiles: colTilesOf(g.outC), chunk, P, rows: g.kh * g.kw * g.inC, N: g.outC, H: g.inH, W: g.inW };
  const sharedTap = g.inC % tile.rows === 0;
  return {
    variant: `register:${tileKey(tile)}${sharedTap ? ':tap' : ''}`,
    wgsl: () => filterGemmWgsl(tile, sharedTap),
    uniforms: FILTER_PARAMS.uniforms(values),
    workgroups: linearWorkgroups(total),
  };
}

function filterCall(g: ConvGeometry, splits: number, prefs: KernelPreferences): KernelCall {
  const P = g.batch * g.outH * g.outW;
  const chunk = Math.ceil(P / splits);
  const register = prefs.tiling === 'register';
  const gpuFor = (part?: ConvPart): GpuKernel => (register ? registerFilterKernel(g, chunk, splits, part) : workgroupKernel('backpropFilter', g, null, chunk, splits, part));
  const { variant, ...gpu } = gpuFor();
  const call: KernelCall = {
    name: 'conv2dBackpropFilter',
    key: `conv2d:backpropFilter:${variant}`,
    ...gpu,
    cpu: ([x, dy], [out]) => filterGemmCpu(g, chunk, splits, x as Float32Array, dy as Float32Array, out as Float32Array),
    wasm: filterWasm(g, chunk, splits),
  };
  // Beyond one binding: ranges of output pixels, x bound over the rows they read and dy over
  // theirs. A dispatch reduces its pixels into the partials of the chunks they fall in, adding to
  // a chunk an earlier dispatch began: exact up to summation order. (Pixels, not rows: a range
  // small enough falls in one chunk, whose partial fits a window where two might not.)
  const axis: WindowAxis = { k: g.kh, d: g.dh, s: g.sh, pad: g.pt, inSize: g.inH, outSize: g.outH };
  const F = g.kh * g.kw * g.inC * g.outC;
  const chunksOf = ([q0, q1]: Span): Span => [Math.floor(q0 / chunk), Math.ceil(q1 / chunk)];
  const gridRows = ([q0, q1]: Span): Span => [Math.floor(q0 / g.outW), Math.floor((q1 - 1) / g.outW) + 1];
  const touches = [
    (span: Span) => rowSpan(gridRows(span), g.outH, g.inH, g.inW * g.inC, (y0, y1) => inputRowsOf(axis, y0, y1)),
    (span: Span) => wholeRows(span, g.outC),
    (span: Span) => wholeRows(chunksOf(span), F),
  ];
  const split = (limits: SplitLimits): KernelCall[] =>
    splitItems(call.name, P, limits, touches, 'output pixel').map(({ span: [q0, q1], windows }) => {
      const [s0, s1] = chunksOf([q0, q1]);
      const [x, dy, out] = windows.map((w) => w!.offset);
      const { variant: _v, ...part } = gpuFor({ s0, chunks: s1 - s0, q0, q1, aShift: x, bShift: dy, outShift: -out });
      return { ...call, ...part, windows };
    });
  return { ...call, split };
}

// ---- Ops ----

/** conv2d: x [N,H,W,inC] ⋆ filter [kh,kw,inC,outC] → [N,outH,outW,outC] (cross-correlation, as TF). */
export const conv2dOp: OpDef<ConvAttrs> = {
  name: 'conv2d',
  outputs([x, filter], attrs) {
    const g = convGeometry('conv2d', x.shape, filter.shape, attrs);
    checkFloat('conv2d', x, filter);
    return [{ shape: [g.batch, g.outH, g.outW, g.outC], dtype: 'float32' }];
  },
  kernel: ([x, filter], _o, attrs, prefs) => gatherCall(true, convGeometry('conv2d', x.shape, filter.shape, attrs), prefs),
  grad: ([dy], [x, filter], _o, attrs, needs) => convGrads(dy, x, filter, attrs, needs),
};

/** The gradient of y = conv2d(x, W) given dy, shared by conv2d and fusedConv2d (which passes dz). */
function convGrads(dy: Tensor, x: Tensor, filter: Tensor, attrs: ConvAttrs, needs: readonly boolean[]): (Tensor | null)[] {
  // dL/dx = conv2dBackpropInput(dy, W) (the transposed convolution); dL/dW = Σ_pixels x-patchᵀ · dy
  return [
    needs[0] ? conv2dBackpropInput(dy, filter, x.shape, attrs) : null,
    needs[1] ? conv2dBackpropFilter(x, dy, filter.shape, attrs) : null,
  ];
}

interface FusedConvAttrs extends ConvAttrs {
  readonly activation: FusedActivation;
}

/** fusedConv2d as a primitive op: inputs [x, filter] or [x, filter, bias] (x rank 4); call it through `fusedConv2d`. */
export const fusedConv2dOp: OpDef<FusedConvAttrs> = {
  name: 'fusedConv2d',
  outputs([x, filter, bias], attrs) {
    const g = convGeometry('fusedConv2d', x.shape, filter.shape, attrs);
    checkFloat('fusedConv2d', x, filter);
    if (bias) checkConvBias(bias, g.outC);
    return [{ shape: [g.batch, g.outH, g.outW, g.outC], dtype: 'float32' }];
  },
  kernel: ([x, filter, bias], _o, attrs, prefs) =>
    gatherCall(true, convGeometry('fusedConv2d', x.shape, filter.shape, attrs), prefs, { activation: attrs.activation, hasBias: !!bias }),
  grad: ([dy], [x, filter, bias], [y], attrs, needs) => {
    // y = act(z), z = conv2d(x, W) + bias: dz = dy ⊙ act'(z) (from y); dx, dW as conv2d's with dz;
    // d bias = Σ dz over N, H, W (bias broadcasts along all dims but the channels).
    const dz = activationBackprop(dy, y, attrs.activation, 'fusedConv2d');
    const [dx, dw] = needs[0] || needs[1] ? convGrads(dz, x, filter, attrs, needs) : [null, null];
    return bias ? [dx, dw, needs[2] ? sum(dz, { axis: [0, 1, 2] }) : null] : [dx, dw];
  },
};

/** The bias must be float32 [outC]. */
function checkConvBias(bias: Tensor, outC: number): void {
  if (bias.dtype !== 'float32') throw new DTypeError(`fusedConv2d: expected a float32 bias, got ${bias.dtype} ${fmtShape(bias.shape)}`);
  if (bias.rank !== 1 || bias.shape[0] !== outC) {
    throw new ShapeError(`fusedConv2d: bias ${fmtShape(bias.shape)} does not match the filter's ${outC} output channels; expected shape [${outC}]`);
  }
}

interface BackpropInputAttrs extends ConvAttrs {
  readonly xShape: readonly number[];
}

/** Geometry of the forward conv, given the filter transposed to [kh,kw,outC,inC]. */
const transposedGeometry = (op: string, xShape: readonly number[], fT: Tensor, attrs: ConvAttrs): ConvGeometry =>
  convGeometry(op, xShape, [fT.shape[0], fT.shape[1], fT.shape[3], fT.shape[2]], attrs);

/** conv2dBackpropInput: dx [N,H,W,inC] from dy [N,outH,outW,outC] and the filter transposed to [kh,kw,outC,inC]. */
export const conv2dBackpropInputOp: OpDef<BackpropInputAttrs> = {
  name: 'conv2dBackpropInput',
  outputs([dy, fT], attrs) {
    checkFloat('conv2dBackpropInput', dy, fT);
    checkDy('conv2dBackpropInput', dy, transposedGeometry('conv2dBackpropInput', attrs.xShape, fT, attrs));
    return [{ shape: attrs.xShape.slice(), dtype: 'float32' }];
  },
  kernel: ([, fT], _o, attrs, prefs) => gatherCall(false, transposedGeometry('conv2dBackpropInput', attrs.xShape, fT, attrs), prefs),
  // y = conv2dᵀ(dy, W) is linear in each input: dL/d dy = conv2d(g, W); dL/dWᵀ = conv2dBackpropFilter(g, dy)ᵀ
  grad: ([g], [dy, fT], _o, { strides, padding, dilations }, needs) => {
    const options = { strides, padding, dilations };
    const filter = transpose(fT, { perm: [0, 1, 3, 2] });
    return [
      needs[0] ? conv2d(g, filter, options) : null,
      needs[1] ? transpose(conv2dBackpropFilter(g, dy, filter.shape, options), { perm: [0, 1, 3, 2] }) : null,
    ];
  },
};

interface BackpropFilterAttrs extends ConvAttrs {
  readonly filterShape: readonly number[];
  /** Chunks of the reduction; the op outputs one partial filter gradient per chunk. */
  readonly splits: number;
}

/** conv2dBackpropFilter partials: [splits, kh, kw, inC, outC], summed by `conv2dBackpropFilter`. */
export const conv2dBackpropFilterOp: OpDef<BackpropFilterAttrs> = {
  name: 'conv2dBackpropFilter',
  outputs([x, dy], attrs) {
    checkFloat('conv2dBackpropFilter', x, dy);
    checkDy('conv2dBackpropFilter', dy, convGeometry('conv2dBackpropFilter', x.shape, attrs.filterShape, attrs));
    return [{ shape: [attrs.splits, ...attrs.filterShape], dtype: 'float32' }];
  },
  kernel: ([x], _o, attrs, prefs) => filterCall(convGeometry('conv2dBackpropFilter', x.shape, attrs.filterShape, attrs), attrs.splits, prefs),
  grad: null,
};

// ---- Public functions ----

/**
 * 2-D convolution (cross-correlation, as in TF) of x [N,H,W,inC] (or [H,W,inC]) with filter
 * [kh,kw,inC,outC]. Differentiable w.r.t. x and filter.
 */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  checkImage('conv2d', x);
  filter.use('conv2d');
  const attrs = convAttrs('conv2d', options);
  if (x.rank === 3) {
    // Checked here too, so that errors name the caller's [H,W,C] rather than the batch of one.
    convGeometry('conv2d', [1, ...x.shape], filter.shape, attrs, x.shape);
    const y = engine.runOp(conv2dOp, [reshape(x, [1, ...x.shape]), filter], attrs)[0];
    return reshape(y, y.shape.slice(1));
  }
  return engine.runOp(conv2dOp, [x, filter], attrs)[0];
}

/**
 * activation(conv2d(x, filter) + bias) in one kernel: the bias ([outC], added to every output
 * pixel) and the activation are applied as each output is stored. Same shapes and options as
 * conv2d; activation is 'linear' (default), 'relu', 'sigmoid' or 'tanh'. Differentiable w.r.t.
 * x, filter and bias.
 */
export function fusedConv2d(x: Tensor, filter: Tensor, { bias, activation = 'linear', ...options }: FusedConv2dOptions = {}): Tensor {
  const act = checkFusedActivation('fusedConv2d', activation);
  checkImage('fusedConv2d', x);
  filter.use('fusedConv2d');
  bias?.use('fusedConv2d');
  // Nothing to fuse: the plain conv2d (its pipeline and gradient).
  if (!bias && act === 'linear') return conv2d(x, filter, options);
  const attrs = { ...convAttrs('fusedConv2d', options), activation: act };
  if (x.rank === 3) convGeometry('fusedConv2d', [1, ...x.shape], filter.shape, attrs, x.shape);
  const x4 = x.rank === 3 ? reshape(x, [1, ...x.shape]) : x;
  const y = engine.runOp(fusedConv2dOp, bias ? [x4, filter, bias] : [x4, filter], attrs)[0];
  return x.rank === 3 ? reshape(y, y.shape.slice(1)) : y;
}

/**
 * Gradient of conv2d w.r.t. its input: dx of shape `xShape` (rank 4) from dy and the filter.
 * Not differentiable itself (used by conv2d's gradient).
 */
export function conv2dBackpropInput(dy: Tensor, filter: Tensor, xShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const attrs = convAttrs('conv2dBackpropInput', options);
  const g = convGeometry('conv2dBackpropInput', xShape, filter.shape, attrs);
  checkDy('conv2dBackpropInput', dy, g);
  if (prefersColumns(g)) return engine.tidy(() => backpropInputByColumns(dy, filter, g, attrs));
  // The GEMM reads the filter as [kh,kw,outC,inC] so that its vec4s run along the output (inC) columns.
  return engine.tidy(() => engine.runOp(conv2dBackpropInputOp, [dy, transpose(filter, { perm: [0, 1, 3, 2] })], { ...attrs, xShape })[0]);
}

/**
 * Transposed 2-D convolution, as TF's conv2dTranspose: x [N,h,w,inC] and filter [kh,kw,outC,inC]
 * give `outputShape` [N,H,W,outC], the shape whose conv2d with the filter (same strides and
 * padding) is x's. It is conv2d's gradient w.r.t. its input, and differentiable w.r.t. x and filter.
 */
export function conv2dTranspose(x: Tensor, filter: Tensor, outputShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  checkImage('conv2dTranspose', x);
  filter.use('conv2dTranspose');
  const attrs = convAttrs('conv2dTranspose', options);
  if (x.rank !== 4 || outputShape.length !== 4 || filter.rank !== 4 || filter.shape[3] !== x.shape[3] || filter.shape[2] !== outputShape[3]) {
    throw new ShapeError(
      `conv2dTranspose: x ${fmtShape(x.shape)}, filter ${fmtShape(filter.shape)} and outputShape ${fmtShape(outputShape)} do not fit ` +
        `(expected x [N,h,w,inC], filter [kh,kw,outC,inC], outputShape [N,H,W,outC])`,
    );
  }
  // The filter is the one of the conv2d whose input gradient this is: [kh,kw,its inC,its outC].
  const g = convGeometry('conv2dTranspose', outputShape, filter.shape, attrs);
  const expected = [g.batch, g.outH, g.outW, g.outC];
  if (x.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`conv2dTranspose: outputShape ${fmtShape(outputShape)} convolved with filter ${fmtShape(filter.shape)} gives ${fmtShape(expected)}, not x ${fmtShape(x.shape)}`);
  }
  // No tidy: under a gradient tape the transposed filter must outlive the call for the backward pass.
  return engine.runOp(conv2dBackpropInputOp, [x, transpose(filter, { perm: [0, 1, 3, 2] })], { ...attrs, xShape: outputShape })[0];
}

/**
 * Gradient of conv2d w.r.t. its filter: dW of shape `filterShape` from x (rank 4) and dy.
 * Not differentiable itself (used by conv2d's gradient).
 */
export function conv2dBackpropFilter(x: Tensor, dy: Tensor, filterShape: readonly number[], options: Conv2dOptions = {}): Tensor {
  const attrs = convAttrs('conv2dBackpropFilter', options);
  const g = convGeometry('conv2dBackpropFilter', x.shape, filterShape, attrs);
  // The chunking sets the rounding: it follows the backend that runs the op, never another one.
  const splits = filterSplits(g, engine.backend.preferences);
  return engine.tidy(() => {
    const partials = engine.runOp(conv2dBackpropFilterOp, [x, dy], { ...attrs, filterShape, splits })[0];
    return splits === 1 ? reshape(partials, filterShape) : sum(partials, { axis: 0 });
  });
}
