// conv2dBackpropInput as a GEMM and a gather, for where the direct kernel wastes its work. The
// direct kernel (conv-wgsl.ts) visits every tap of every input pixel and skips, with a multiply by
// zero, the taps that fall outside dy: where dy is small next to the filter, most of them do (the
// tutorial CNN's third conv, 5 × 5 inputs from 3 × 3 outputs: 64 % of the taps). Here
// dy [P, outC] · filterᵀ [outC, kh·kw·inC] first gives each output pixel's patch gradient, a row of
// columns, with no taps to skip; col2im then sums, for each input element, the columns of the
// output pixels whose taps read it. Its adjoint, im2col (each output pixel's patch of an image as
// a row), is here too: each is the other's gradient. The columns cost memory (P · kh·kw·inC), so
// the backend bounds their size (KernelPreferences.maxColumnElements), which also keeps col2im and
// im2col within one binding (they do not split); only register-tiled WebGPU uses them.
import { linearWorkgroups, type KernelCall } from '../backend/kernel.js';
import { kernelParams } from '../backend/skeleton.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { convGeometry, type ConvAttrs, type ConvGeometry } from './conv-geometry.js';
import { matMul } from './matmul.js';
import type { OpDef } from './op.js';
import { reshape, transpose } from './transform.js';

/**
 * From this share of taps outside dy, the GEMM beats the direct kernel. SwiftShader, batch 64:
 * 5 × 5 × 64 from 3 × 3 (64 % wasted) 24 → 14 ms; stride 2, 14 × 14 × 32 from 7 × 7 × 64 (75 %)
 * 90 → 39 ms; but 13 × 13 × 32 from 11 × 11 × 64 (28 %) 67 → 72 ms.
 */
const MIN_WASTE_SHARE = 0.5;

/** The conv whose patches are gathered or summed. */
export interface ColumnsAttrs extends ConvAttrs {
  /** The input whose gradient this is: [N, H, W, inC]. */
  readonly xShape: readonly number[];
  /** The filter's taps [kh, kw]. */
  readonly taps: readonly [number, number];
}

/** The conv's geometry with one output channel (col2im never reads outC). */
const geometryOf = (op: string, { xShape, taps, ...attrs }: ColumnsAttrs): ConvGeometry => convGeometry(op, xShape, [taps[0], taps[1], xShape[3], 1], attrs);

/** Share of an input-gradient's taps that land outside dy, the direct kernel's waste. */
export function wastedTapShare(g: ConvGeometry): number {
  const inside = (size: number, k: number, s: number, d: number, pad: number, outSize: number): number => {
    let hits = 0;
    for (let i = 0; i < size; i++) {
      for (let t = 0; t < k; t++) {
        const y = i + pad - t * d;
        if (y >= 0 && y % s === 0 && y / s < outSize) hits++;
      }
    }
    return hits / (size * k);
  };
  return 1 - inside(g.inH, g.kh, g.sh, g.dh, g.pt, g.outH) * inside(g.inW, g.kw, g.sw, g.dw, g.pl, g.outW);
}

/** Whether conv2dBackpropInput should go through columns on the current backend. */
export function prefersColumns(g: ConvGeometry): boolean {
  const limit = engine.backend.preferences.maxColumnElements ?? 0;
  const columns = g.batch * g.outH * g.outW * g.kh * g.kw * g.inC;
  return columns <= limit && g.batch * g.inH * g.inW * g.inC <= limit && wastedTapShare(g) >= MIN_WASTE_SHARE;
}

/** dx of conv2d from dy and the filter [kh,kw,inC,outC], through patch columns. */
export function backpropInputByColumns(dy: Tensor, filter: Tensor, g: ConvGeometry, attrs: ConvAttrs): Tensor {
  const K = g.kh * g.kw * g.inC;
  // The filter as [outC, kh·kw·inC], so the GEMM reads both operands along their rows.
  const filterT = transpose(reshape(filter, [K, g.outC]));
  const columns = matMul(reshape(dy, [g.batch * g.outH * g.outW, g.outC]), filterT);
  return engine.runOp(col2imOp, [columns], { ...attrs, xShape: [g.batch, g.inH, g.inW, g.inC], taps: [g.kh, g.kw] })[0];
}

const PARAMS = kernelParams({ n: 'u32', H: 'u32', W: 'u32', C4: 'u32', outH: 'u32', outW: 'u32', kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', pt: 'u32', pl: 'u32' });

/**
 * col2im: dx[b, y, x, c] = Σ over taps (ky, kx) whose output pixel (oy, ox) reads input (y, x) of
 * columns[(b·outH + oy)·outW + ox, (ky·kw + kx)·inC + c], in tap order (the CPU loop's).
 */
function col2imBody(unitStrides: boolean): string {
  // With unit strides every tap lands on an output pixel: no division, no remainder to test.
  const axis = (t: string, s: string, size: string) =>
    unitStrides ? [`u32(${t}) >= p.${size}`, `u32(${t})`] : [`u32(${t}) % p.${s} != 0u || u32(${t}) / p.${s} >= p.${size}`, `u32(${t}) / p.${s}`];
  const [yOut, oy] = axis('ty', 'sh', 'outH');
  const [xOut, ox] = axis('tx', 'sw', 'outW');
  return `  let c = i % p.C4;
  let x = i / p.C4 % p.W;
  let y = i / p.C4 / p.W % p.H;
  let b = i / p.C4 / p.W / p.H;
  var acc = T(0.0);
  for (var ky = 0u; ky < p.kh; ky++) {
    let ty = i32(y + p.pt) - i32(ky * p.dh);
    if (ty < 0 || ${yOut}) { continue; }
    let row = (b * p.outH + ${oy}) * p.outW;
    for (var kx = 0u; kx < p.kw; kx++) {
      let tx = i32(x + p.pl) - i32(kx * p.dw);
      if (tx < 0 || ${xOut}) { continue; }
      acc += source[((row + ${ox}) * p.kh * p.kw + ky * p.kw + kx) * p.C4 + c];
    }
  }
  result[i] = acc;`;
}

/** im2col: columns[(b·outH + oy)·outW + ox, (ky·kw + kx)·inC + c] = x[b, oy·sh − pt + ky·dh, ox·sw − pl + kx·dw, c], 0 outside x. */
const IM2COL_BODY = `  let c = i % p.C4;
  let tap = i / p.C4 % (p.kh * p.kw);
  let pixel = i / p.C4 / (p.kh * p.kw);
  let ox = pixel % p.outW;
  let oy = pixel / p.outW % p.outH;
  let b = pixel / p.outW / p.outH;
  let y = u32(i32(oy * p.sh + tap / p.kw * p.dh) - i32(p.pt));
  let x = u32(i32(ox * p.sw + tap % p.kw * p.dw) - i32(p.pl));
  // A coordinate before the image wraps to a huge u32: one test checks both ends.
  let inside = y < p.H && x < p.W;
  result[i] = select(T(0.0), source[select(0u, ((b * p.H + y) * p.W + x) * p.C4 + c, inside)], inside);`;

/** The kernel of either direction; with inC a multiple of 4, each invocation takes four channels as vec4s (C4 counts them). */
function columnsCall(name: 'col2im' | 'im2col', g: ConvGeometry, cpu: KernelCall['cpu']): KernelCall {
  const lanes = g.inC % 4 === 0 ? 4 : 1;
  const type = lanes === 4 ? 'vec4<f32>' : 'f32';
  const outputs = name === 'col2im' ? g.batch * g.inH * g.inW * g.inC : g.batch * g.outH * g.outW * g.kh * g.kw * g.inC;
  const n = outputs / lanes;
  const unitStrides = name === 'col2im' && g.sh === 1 && g.sw === 1;
  return {
    name,
    key: `${name}:${lanes}${unitStrides ? ':s1' : ''}`,
    wgsl: () =>
      PARAMS.wgsl({
        storages: [{ name: 'source', type }, { name: 'result', type, write: true }],
        prelude: `alias T = ${type};`,
        index: { below: 'n' },
        body: name === 'col2im' ? col2imBody(unitStrides) : IM2COL_BODY,
      }),
    uniforms: PARAMS.uniforms({ n, H: g.inH, W: g.inW, C4: g.inC / lanes, outH: g.outH, outW: g.outW, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, dh: g.dh, dw: g.dw, pt: g.pt, pl: g.pl }),
    workgroups: linearWorkgroups(n),
    cpu,
  };
}

/** The source coordinate of tap t for output coordinate o along an axis, or −1 outside. */
const tapSource = (o: number, t: number, s: number, d: number, pad: number, size: number): number => {
  const v = o * s + t * d - pad;
  return v >= 0 && v < size ? v : -1;
};

function col2imCpu(g: ConvGeometry, columns: Float32Array, dx: Float32Array): void {
  const { batch, inH, inW, inC, kh, kw, outH, outW, sh, sw, dh, dw, pt, pl } = g;
  const acc = new Float32Array(inC);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < inH; y++) {
      for (let x = 0; x < inW; x++, o += inC) {
        acc.fill(0);
        for (let ky = 0; ky < kh; ky++) {
          const ty = y + pt - ky * dh;
          if (ty < 0 || ty % sh !== 0 || ty / sh >= outH) continue;
          for (let kx = 0; kx < kw; kx++) {
            const tx = x + pl - kx * dw;
            if (tx < 0 || tx % sw !== 0 || tx / sw >= outW) continue;
            const from = (((b * outH + ty / sh) * outW + tx / sw) * kh * kw + ky * kw + kx) * inC;
            // Float32 sums in the shader's order, so both backends round alike.
            for (let c = 0; c < inC; c++) acc[c] += columns[from + c];
          }
        }
        dx.set(acc, o);
      }
    }
  }
}

function im2colCpu(g: ConvGeometry, x: Float32Array, columns: Float32Array): void {
  const { batch, inH, inW, inC, kh, kw, outH, outW, sh, sw, dh, dw, pt, pl } = g;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const y = tapSource(oy, ky, sh, dh, pt, inH);
          for (let kx = 0; kx < kw; kx++, o += inC) {
            const xx = tapSource(ox, kx, sw, dw, pl, inW);
            if (y < 0 || xx < 0) columns.fill(0, o, o + inC);
            else columns.set(x.subarray(((b * inH + y) * inW + xx) * inC, ((b * inH + y) * inW + xx + 1) * inC), o);
          }
        }
      }
    }
  }
}

/** The columns' shape: output pixels × kh·kw·inC. */
const columnsShape = (g: ConvGeometry): number[] => [g.batch * g.outH * g.outW, g.kh * g.kw * g.inC];

function checkFloat(op: string, t: Tensor): void {
  if (t.dtype !== 'float32') throw new DTypeError(`${op}: expected float32, got ${t.dtype} ${fmtShape(t.shape)}`);
}

/** col2im as an op: columns [N·outH·outW, kh·kw·inC] → dx [N, H, W, inC]. */
export const col2imOp: OpDef<ColumnsAttrs> = {
  name: 'col2im',
  outputs([columns], attrs) {
    const expected = columnsShape(geometryOf('col2im', attrs));
    checkFloat('col2im', columns);
    if (columns.rank !== 2 || columns.shape[0] !== expected[0] || columns.shape[1] !== expected[1]) {
      throw new ShapeError(`col2im: columns ${fmtShape(columns.shape)} do not match the conv's ${fmtShape(expected)} (output pixels × kh·kw·inC)`);
    }
    return [{ shape: attrs.xShape.slice(), dtype: 'float32' }];
  },
  kernel(_inputs, _outputs, attrs) {
    const g = geometryOf('col2im', attrs);
    return columnsCall('col2im', g, ([columns], [dx]) => col2imCpu(g, columns as Float32Array, dx as Float32Array));
  },
  // Linear: the adjoint of summing patches back is gathering them.
  grad: ([g], _inputs, _outputs, attrs) => [engine.runOp(im2colOp, [g], attrs)[0]],
};

/** im2col as an op: x [N, H, W, inC] → columns [N·outH·outW, kh·kw·inC]. */
export const im2colOp: OpDef<ColumnsAttrs> = {
  name: 'im2col',
  outputs([x], attrs) {
    checkFloat('im2col', x);
    if (x.rank !== 4 || x.shape.some((d, i) => d !== attrs.xShape[i])) {
      throw new ShapeError(`im2col: x ${fmtShape(x.shape)} does not match the conv's input ${fmtShape(attrs.xShape)}`);
    }
    return [{ shape: columnsShape(geometryOf('im2col', attrs)), dtype: 'float32' }];
  },
  kernel(_inputs, _outputs, attrs) {
    const g = geometryOf('im2col', attrs);
    return columnsCall('im2col', g, ([x], [columns]) => im2colCpu(g, x as Float32Array, columns as Float32Array));
  },
  grad: ([g], _inputs, _outputs, attrs) => [engine.runOp(col2imOp, [g], attrs)[0]],
};
