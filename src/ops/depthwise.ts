// depthwiseConv2d: each channel of x [N,H,W,C] convolved with its own m filters [kh,kw,C,m]
// (m the depth multiplier) → [N,outH,outW,C·m], output channel c·m + q, with conv2d's strides,
// padding and dilations. Three direct kernels (one output element per invocation, WGSL on the
// kernel skeleton and a CPU loop side by side): the forward pass and its two gradients. Beyond one
// binding each splits by image rows (the filter gradient accumulating over the parts).
import { linearWorkgroups, type BindingWindow, type KernelCall, type SplitLimits } from '../backend/kernel.js';
import { ranges, searchParts, windowOver, type Span } from '../backend/split.js';
import { kernelParams } from '../backend/skeleton.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { convAttrs, convGeometry, type Conv2dOptions, type ConvAttrs, type ConvGeometry } from './conv-geometry.js';
import type { OpDef } from './op.js';

/**
 * The sizes every depthwise kernel reads. A dispatch computes elements [first, n) of its output;
 * aShift, bShift and outShift move global indices of input 0, input 1 and the output into their
 * binding windows; the filter gradient reduces rows [r0, r1) of dy and adds to df if accumulate.
 */
const params = kernelParams({
  n: 'u32',
  first: 'u32',
  aShift: 'u32',
  bShift: 'u32',
  outShift: 'u32',
  r0: 'u32',
  r1: 'u32',
  accumulate: 'u32',
  batch: 'u32',
  inH: 'u32',
  inW: 'u32',
  C: 'u32',
  m: 'u32',
  kh: 'u32',
  kw: 'u32',
  outH: 'u32',
  outW: 'u32',
  sh: 'u32',
  sw: 'u32',
  dh: 'u32',
  dw: 'u32',
  pt: 'u32',
  pl: 'u32',
});

/** The depthwise geometry: conv2d's, with m filters per channel. */
interface DepthwiseGeometry extends ConvGeometry {
  m: number;
}

function geometry(op: string, xShape: readonly number[], fShape: readonly number[], attrs: ConvAttrs): DepthwiseGeometry {
  if (fShape.length !== 4 || xShape.length !== 4 || fShape[2] !== xShape[3]) {
    throw new ShapeError(`${op}: x ${fmtShape(xShape)} and filter ${fmtShape(fShape)} do not fit (expected x [N,H,W,C] and filter [kh,kw,C,m])`);
  }
  const [kh, kw, c, m] = fShape;
  // conv2d's rules for the output size and padding, as if the filter were [kh, kw, C, C·m].
  return { ...convGeometry(op, xShape, [kh, kw, c, c * m], attrs), m };
}

/** One dispatch's share: elements [first, n), window shifts, the rows a filter-gradient part reduces. */
interface Part {
  n: number;
  first: number;
  aShift: number;
  bShift: number;
  outShift: number;
  r0: number;
  r1: number;
  accumulate: number;
}

function uniformsOf(g: DepthwiseGeometry, part: Part) {
  const { batch, inH, inW, inC: C, m, kh, kw, outH, outW, sh, sw, dh, dw, pt, pl } = g;
  return params.uniforms({ ...part, batch, inH, inW, C, m, kh, kw, outH, outW, sh, sw, dh, dw, pt, pl });
}

/** WGSL that splits the flat index `i` of a [N,outH,outW,C,m] output into b, oy, ox, c, q. */
const OUTPUT_COORDS = `
  let q = i % p.m;
  var r = i / p.m;
  let c = r % p.C;
  r = r / p.C;
  let ox = r % p.outW;
  r = r / p.outW;
  let oy = r % p.outH;
  let b = r / p.outH;`;

const forwardWgsl = (): string =>
  params.wgsl({
    storages: [{ name: 'x', type: 'f32' }, { name: 'f', type: 'f32' }, { name: 'y', type: 'f32', write: true }],
    index: { from: 'first', below: 'n' },
    body: `${OUTPUT_COORDS}
  var acc = 0.0;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky * p.dh) - i32(p.pt);
    if (iy < 0 || iy >= i32(p.inH)) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ix = i32(ox * p.sw + kx * p.dw) - i32(p.pl);
      if (ix < 0 || ix >= i32(p.inW)) { continue; }
      acc += x[((b * p.inH + u32(iy)) * p.inW + u32(ix)) * p.C + c - p.aShift] * f[((ky * p.kw + kx) * p.C + c) * p.m + q];
    }
  }
  y[i - p.outShift] = acc;`,
  });

const backpropInputWgsl = (): string =>
  params.wgsl({
    storages: [{ name: 'dy', type: 'f32' }, { name: 'f', type: 'f32' }, { name: 'dx', type: 'f32', write: true }],
    index: { from: 'first', below: 'n' },
    body: `
  let c = i % p.C;
  var r = i / p.C;
  let ix = r % p.inW;
  r = r / p.inW;
  let iy = r % p.inH;
  let b = r / p.inH;
  var acc = 0.0;
  for (var ky = 0u; ky < p.kh; ky++) {
    let ty = i32(iy + p.pt) - i32(ky * p.dh);
    if (ty < 0 || u32(ty) % p.sh != 0u || u32(ty) / p.sh >= p.outH) { continue; }
    let oy = u32(ty) / p.sh;
    for (var kx = 0u; kx < p.kw; kx++) {
      let tx = i32(ix + p.pl) - i32(kx * p.dw);
      if (tx < 0 || u32(tx) % p.sw != 0u || u32(tx) / p.sw >= p.outW) { continue; }
      let ox = u32(tx) / p.sw;
      for (var q = 0u; q < p.m; q++) {
        acc += dy[(((b * p.outH + oy) * p.outW + ox) * p.C + c) * p.m + q - p.aShift] * f[((ky * p.kw + kx) * p.C + c) * p.m + q];
      }
    }
  }
  dx[i - p.outShift] = acc;`,
  });

const backpropFilterWgsl = (): string =>
  params.wgsl({
    storages: [{ name: 'x', type: 'f32' }, { name: 'dy', type: 'f32' }, { name: 'df', type: 'f32', write: true }],
    index: { below: 'n' },
    body: `
  let q = i % p.m;
  var r = i / p.m;
  let c = r % p.C;
  r = r / p.C;
  let kx = r % p.kw;
  let ky = r / p.kw;
  var acc = 0.0;
  if (p.accumulate != 0u) { acc = df[i]; }
  for (var row = p.r0; row < p.r1; row++) {
    let b = row / p.outH;
    let oy = row % p.outH;
    let iy = i32(oy * p.sh + ky * p.dh) - i32(p.pt);
    if (iy < 0 || iy >= i32(p.inH)) { continue; }
    for (var ox = 0u; ox < p.outW; ox++) {
      let ix = i32(ox * p.sw + kx * p.dw) - i32(p.pl);
      if (ix < 0 || ix >= i32(p.inW)) { continue; }
      acc += x[((b * p.inH + u32(iy)) * p.inW + u32(ix)) * p.C + c - p.aShift] * dy[(((b * p.outH + oy) * p.outW + ox) * p.C + c) * p.m + q - p.bShift];
    }
  }
  df[i] = acc;`,
  });

/**
 * Visits every (output pixel, tap) pair whose input pixel lies inside the image, with the flat
 * indices of x (channel 0), of the output (channel 0, multiplier 0) and of the filter tap: the one
 * loop nest the three CPU kernels share.
 */
function forEachTap(g: DepthwiseGeometry, visit: (xBase: number, yBase: number, fBase: number) => void): void {
  const { batch, inH, inW, inC: C, m, kh, kw, outH, outW, sh, sw, dh, dw, pt, pl } = g;
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky * dh - pt;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pl;
            if (ix < 0 || ix >= inW) continue;
            visit(((b * inH + iy) * inW + ix) * C, ((b * outH + oy) * outW + ox) * C * m, (ky * kw + kx) * C * m);
          }
        }
}

/** A whole-tensor part: every element, no windows, every row. */
function wholePart(g: DepthwiseGeometry, n: number): Part {
  return { n, first: 0, aShift: 0, bShift: 0, outShift: 0, r0: 0, r1: g.batch * g.outH, accumulate: 0 };
}

/** Rows [r0, r1) of a [batch, rows] grid of image rows of `rowSize` elements: the window of their elements. */
const rowSpan = (r0: number, r1: number, rowSize: number): Span => [r0 * rowSize, r1 * rowSize];

/**
 * The elements of a [batch, height, …] tensor (rows of `rowSize`) that rows [r0, r1) of a
 * [batch, rowsPerImage] grid read, where grid row y of an image reads that image's rows
 * [lo(y), hi(y)) (clamped to the image): one contiguous span from the first to the last.
 */
function readSpan(r0: number, r1: number, rowsPerImage: number, height: number, rowSize: number, lo: (y: number) => number, hi: (y: number) => number): Span {
  const clamp = (v: number) => Math.min(Math.max(v, 0), height);
  const first = Math.floor(r0 / rowsPerImage) * height + clamp(lo(r0 % rowsPerImage));
  const last = Math.floor((r1 - 1) / rowsPerImage) * height + clamp(hi((r1 - 1) % rowsPerImage));
  return [first * rowSize, Math.max(first, last) * rowSize];
}

/**
 * A kernel call that splits by rows of a grid of `rows` rows: `plan` gives each range of rows its
 * part and windows (input 0, input 1, output), or null when one does not fit.
 */
function call(
  name: string,
  wgsl: () => string,
  g: DepthwiseGeometry,
  n: number,
  cpu: KernelCall['cpu'],
  rows: number,
  plan: (r0: number, r1: number, index: number, limits: SplitLimits) => { part: Part; windows: (BindingWindow | undefined)[] } | null,
): KernelCall {
  const whole: KernelCall = { name, key: name, wgsl, uniforms: uniformsOf(g, wholePart(g, n)), workgroups: linearWorkgroups(n), cpu };
  const split = (limits: SplitLimits): KernelCall[] =>
    searchParts(name, limits, (parts) => {
      const planned = ranges(rows, parts).map(([r0, r1], k) => plan(r0, r1, k, limits));
      if (planned.some((p) => p === null)) return null;
      return planned.map((p) => ({ ...whole, uniforms: uniformsOf(g, p!.part), workgroups: linearWorkgroups(p!.part.n - p!.part.first), windows: p!.windows }));
    });
  return { ...whole, split };
}

/** Element counts: a row of x and of y, and all of x, y and the filter. */
function sizes(g: DepthwiseGeometry) {
  const xRow = g.inW * g.inC;
  const yRow = g.outW * g.inC * g.m;
  return { xRow, yRow, x: g.batch * g.inH * xRow, y: g.batch * g.outH * yRow, f: g.kh * g.kw * g.inC * g.m };
}

/** The x elements that output rows [r0, r1) (of the [batch, outH] grid) read: input rows oy·sh − pt … + (kh−1)·dh. */
function inputRowsOf(g: DepthwiseGeometry, r0: number, r1: number): Span {
  const first = (oy: number) => oy * g.sh - g.pt;
  return readSpan(r0, r1, g.outH, g.inH, g.inW * g.inC, first, (oy) => first(oy) + (g.kh - 1) * g.dh + 1);
}

/** The window over `span`, or null when it is too large; a tensor that fits is bound whole (undefined). */
function windowFor(span: Span, size: number, limits: SplitLimits): BindingWindow | undefined | null {
  return size <= limits.maxElements ? undefined : windowOver(span, limits);
}

interface BackpropAttrs extends ConvAttrs {
  /** The shape of the tensor the gradient is for (x's or the filter's). */
  readonly shape: readonly number[];
}

function checkFloat(op: string, ...ts: readonly Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new DTypeError(`${op}: expected float32 tensors, got ${t.dtype} ${fmtShape(t.shape)}`);
}

/** Throws unless dy has the shape of the depthwise output of `g`. */
function checkDy(op: string, dy: Tensor, g: DepthwiseGeometry): void {
  const expected = [g.batch, g.outH, g.outW, g.inC * g.m];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${op}: dy ${fmtShape(dy.shape)} does not match the depthwiseConv2d output ${fmtShape(expected)}`);
  }
}

/** depthwiseConv2d's gradient w.r.t. x: dx[b,iy,ix,c] = Σ_{taps,q} dy[b,oy,ox,c·m+q]·f[ky,kx,c,q]. */
export const depthwiseConv2dBackpropInputOp: OpDef<BackpropAttrs> = {
  name: 'depthwiseConv2dBackpropInput',
  outputs([dy, f], attrs) {
    checkFloat('depthwiseConv2dBackpropInput', dy, f);
    checkDy('depthwiseConv2dBackpropInput', dy, geometry('depthwiseConv2dBackpropInput', attrs.shape, f.shape, attrs));
    return [{ shape: attrs.shape.slice(), dtype: 'float32' }];
  },
  kernel([, f], _o, attrs) {
    const g = geometry('depthwiseConv2dBackpropInput', attrs.shape, f.shape, attrs);
    const s = sizes(g);
    const cpu: KernelCall['cpu'] = ([dy, fv], [dx]) => {
      dx.fill(0);
      forEachTap(g, (xBase, yBase, fBase) => {
        for (let c = 0; c < g.inC; c++)
          for (let q = 0; q < g.m; q++) dx[xBase + c] += dy[yBase + c * g.m + q] * fv[fBase + c * g.m + q];
      });
    };
    // dx row iy reads the dy rows oy with oy·sh + ky·dh − pt = iy for some tap ky.
    const dyRows = (iy: number): [number, number] => [Math.ceil((iy + g.pt - (g.kh - 1) * g.dh) / g.sh), Math.floor((iy + g.pt) / g.sh) + 1];
    return call('depthwiseConv2dBackpropInput', backpropInputWgsl, g, s.x, cpu, g.batch * g.inH, (r0, r1, _k, limits) => {
      const dxWindow = windowFor(rowSpan(r0, r1, s.xRow), s.x, limits);
      const dyWindow = windowFor(readSpan(r0, r1, g.inH, g.outH, s.yRow, (iy) => dyRows(iy)[0], (iy) => dyRows(iy)[1]), s.y, limits);
      if (dxWindow === null || dyWindow === null || s.f > limits.maxElements) return null;
      const part = { n: r1 * s.xRow, first: r0 * s.xRow, aShift: dyWindow?.offset ?? 0, bShift: 0, outShift: dxWindow?.offset ?? 0, r0: 0, r1: 0, accumulate: 0 };
      return { part, windows: [dyWindow, undefined, dxWindow] };
    });
  },
  grad: null,
};

/** depthwiseConv2d's gradient w.r.t. the filter: df[ky,kx,c,q] = Σ_{b,oy,ox} x[b,iy,ix,c]·dy[b,oy,ox,c·m+q]. */
export const depthwiseConv2dBackpropFilterOp: OpDef<BackpropAttrs> = {
  name: 'depthwiseConv2dBackpropFilter',
  outputs([x, dy], attrs) {
    checkFloat('depthwiseConv2dBackpropFilter', x, dy);
    checkDy('depthwiseConv2dBackpropFilter', dy, geometry('depthwiseConv2dBackpropFilter', x.shape, attrs.shape, attrs));
    return [{ shape: attrs.shape.slice(), dtype: 'float32' }];
  },
  kernel([x], _o, attrs) {
    const g = geometry('depthwiseConv2dBackpropFilter', x.shape, attrs.shape, attrs);
    const s = sizes(g);
    const cpu: KernelCall['cpu'] = ([xv, dy], [df]) => {
      df.fill(0);
      forEachTap(g, (xBase, yBase, fBase) => {
        for (let c = 0; c < g.inC; c++)
          for (let q = 0; q < g.m; q++) df[fBase + c * g.m + q] += xv[xBase + c] * dy[yBase + c * g.m + q];
      });
    };
    // Each part reduces a range of dy rows into df, the later ones adding to what the earlier wrote.
    return call('depthwiseConv2dBackpropFilter', backpropFilterWgsl, g, s.f, cpu, g.batch * g.outH, (r0, r1, k, limits) => {
      const dyWindow = windowFor(rowSpan(r0, r1, s.yRow), s.y, limits);
      const xWindow = windowFor(inputRowsOf(g, r0, r1), s.x, limits);
      if (dyWindow === null || xWindow === null || s.f > limits.maxElements) return null;
      const part = { n: s.f, first: 0, aShift: xWindow?.offset ?? 0, bShift: dyWindow?.offset ?? 0, outShift: 0, r0, r1, accumulate: k > 0 ? 1 : 0 };
      return { part, windows: [xWindow, dyWindow, undefined] };
    });
  },
  grad: null,
};

/** depthwiseConv2d: x [N,H,W,C] and filter [kh,kw,C,m] → [N,outH,outW,C·m]. */
export const depthwiseConv2dOp: OpDef<ConvAttrs> = {
  name: 'depthwiseConv2d',
  outputs([x, f], attrs) {
    checkFloat('depthwiseConv2d', x, f);
    const g = geometry('depthwiseConv2d', x.shape, f.shape, attrs);
    return [{ shape: [g.batch, g.outH, g.outW, g.inC * g.m], dtype: 'float32' }];
  },
  kernel([x, f], _o, attrs) {
    const g = geometry('depthwiseConv2d', x.shape, f.shape, attrs);
    const s = sizes(g);
    const cpu: KernelCall['cpu'] = ([xv, fv], [y]) => {
      y.fill(0);
      forEachTap(g, (xBase, yBase, fBase) => {
        for (let c = 0; c < g.inC; c++)
          for (let q = 0; q < g.m; q++) y[yBase + c * g.m + q] += xv[xBase + c] * fv[fBase + c * g.m + q];
      });
    };
    return call('depthwiseConv2d', forwardWgsl, g, s.y, cpu, g.batch * g.outH, (r0, r1, _k, limits) => {
      const yWindow = windowFor(rowSpan(r0, r1, s.yRow), s.y, limits);
      const xWindow = windowFor(inputRowsOf(g, r0, r1), s.x, limits);
      if (yWindow === null || xWindow === null || s.f > limits.maxElements) return null;
      const part = { n: r1 * s.yRow, first: r0 * s.yRow, aShift: xWindow?.offset ?? 0, bShift: 0, outShift: yWindow?.offset ?? 0, r0: 0, r1: 0, accumulate: 0 };
      return { part, windows: [xWindow, undefined, yWindow] };
    });
  },
  // y is bilinear in x and f: dL/dx and dL/df are the two backprop kernels of dy.
  grad: ([dy], [x, f], _o, attrs, needs) => [
    needs[0] ? engine.runOp(depthwiseConv2dBackpropInputOp, [dy, f], { ...attrs, shape: x.shape })[0] : null,
    needs[1] ? engine.runOp(depthwiseConv2dBackpropFilterOp, [x, dy], { ...attrs, shape: f.shape })[0] : null,
  ],
};

/**
 * Depthwise 2-D convolution of x [N,H,W,C] with filter [kh,kw,C,m]: channel c convolved with its
 * own m filters gives output channels c·m … c·m + m − 1. Options as conv2d's (strides, padding,
 * dilations). Differentiable w.r.t. x and filter.
 */
export function depthwiseConv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  x.use('depthwiseConv2d');
  filter.use('depthwiseConv2d');
  return engine.runOp(depthwiseConv2dOp, [x, filter], convAttrs('depthwiseConv2d', options))[0];
}
