// depthwiseConv2d: each channel of x [N,H,W,C] convolved with its own m filters [kh,kw,C,m]
// (m the depth multiplier) → [N,outH,outW,C·m], output channel c·m + q, with conv2d's strides,
// padding and dilations. Three direct kernels (one output element per invocation, WGSL on the
// kernel skeleton and a CPU loop side by side): the forward pass and its two gradients.
import { linearWorkgroups, type KernelCall } from '../backend/kernel.js';
import { kernelParams } from '../backend/skeleton.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { convAttrs, convGeometry, type Conv2dOptions, type ConvAttrs, type ConvGeometry } from './conv.js';
import type { OpDef } from './op.js';

/** The sizes every depthwise kernel reads (n: the invocations of the dispatch). */
const params = kernelParams({
  n: 'u32',
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

function uniformsOf(g: DepthwiseGeometry, n: number) {
  const { batch, inH, inW, inC: C, m, kh, kw, outH, outW, sh, sw, dh, dw, pt, pl } = g;
  return params.uniforms({ n, batch, inH, inW, C, m, kh, kw, outH, outW, sh, sw, dh, dw, pt, pl });
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
    index: { below: 'n' },
    body: `${OUTPUT_COORDS}
  var acc = 0.0;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = i32(oy * p.sh + ky * p.dh) - i32(p.pt);
    if (iy < 0 || iy >= i32(p.inH)) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ix = i32(ox * p.sw + kx * p.dw) - i32(p.pl);
      if (ix < 0 || ix >= i32(p.inW)) { continue; }
      acc += x[((b * p.inH + u32(iy)) * p.inW + u32(ix)) * p.C + c] * f[((ky * p.kw + kx) * p.C + c) * p.m + q];
    }
  }
  y[i] = acc;`,
  });

const backpropInputWgsl = (): string =>
  params.wgsl({
    storages: [{ name: 'dy', type: 'f32' }, { name: 'f', type: 'f32' }, { name: 'dx', type: 'f32', write: true }],
    index: { below: 'n' },
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
        acc += dy[(((b * p.outH + oy) * p.outW + ox) * p.C + c) * p.m + q] * f[((ky * p.kw + kx) * p.C + c) * p.m + q];
      }
    }
  }
  dx[i] = acc;`,
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
  for (var b = 0u; b < p.batch; b++) {
    for (var oy = 0u; oy < p.outH; oy++) {
      let iy = i32(oy * p.sh + ky * p.dh) - i32(p.pt);
      if (iy < 0 || iy >= i32(p.inH)) { continue; }
      for (var ox = 0u; ox < p.outW; ox++) {
        let ix = i32(ox * p.sw + kx * p.dw) - i32(p.pl);
        if (ix < 0 || ix >= i32(p.inW)) { continue; }
        acc += x[((b * p.inH + u32(iy)) * p.inW + u32(ix)) * p.C + c] * dy[(((b * p.outH + oy) * p.outW + ox) * p.C + c) * p.m + q];
      }
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

function call(name: string, wgsl: () => string, g: DepthwiseGeometry, n: number, cpu: KernelCall['cpu']): KernelCall {
  return { name, key: name, wgsl, uniforms: uniformsOf(g, n), workgroups: linearWorkgroups(n), cpu };
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
    return call('depthwiseConv2dBackpropInput', backpropInputWgsl, g, sizeOf(attrs.shape), ([dy, fv], [dx]) => {
      dx.fill(0);
      forEachTap(g, (xBase, yBase, fBase) => {
        for (let c = 0; c < g.inC; c++)
          for (let q = 0; q < g.m; q++) dx[xBase + c] += dy[yBase + c * g.m + q] * fv[fBase + c * g.m + q];
      });
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
    return call('depthwiseConv2dBackpropFilter', backpropFilterWgsl, g, sizeOf(attrs.shape), ([xv, dy], [df]) => {
      df.fill(0);
      forEachTap(g, (xBase, yBase, fBase) => {
        for (let c = 0; c < g.inC; c++)
          for (let q = 0; q < g.m; q++) df[fBase + c * g.m + q] += xv[xBase + c] * dy[yBase + c * g.m + q];
      });
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
    return call('depthwiseConv2d', forwardWgsl, g, g.batch * g.outH * g.outW * g.inC * g.m, ([xv, fv], [y]) => {
      y.fill(0);
      forEachTap(g, (xBase, yBase, fBase) => {
        for (let c = 0; c < g.inC; c++)
          for (let q = 0; q < g.m; q++) y[yBase + c * g.m + q] += xv[xBase + c] * fv[fBase + c * g.m + q];
      });
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
