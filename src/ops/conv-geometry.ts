// The sizes of one conv2d, shared by its op (conv.ts), its CPU loops (conv-cpu.ts) and its GPU
// kernels (conv-wgsl.ts, conv-workgroup-wgsl.ts): options, normalised attributes, the geometry
// checked from the shapes, and a split part's share of the work.
import { ShapeError, fmtShape } from '../errors.js';
import { pairOption, paddingOption, windowAxis, type Padding } from './windows.js';

/** Options of `conv2d` and its backprops. */
export interface Conv2dOptions {
  /** Step between windows: one number or [sh, sw] (default 1). */
  strides?: number | readonly [number, number];
  /** 'valid' (default) or 'same' (output ceil(H/s), TF's padding: the extra goes bottom/right). */
  padding?: Padding;
  /** Spacing of the filter taps: one number or [dh, dw] (default 1). */
  dilations?: number | readonly [number, number];
}

/** Normalised conv attributes. */
export interface ConvAttrs {
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padding: Padding;
}

/** Every size a conv kernel needs (pt/pl: padding before the first row/column). */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  kh: number;
  kw: number;
  outC: number;
  outH: number;
  outW: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
}

/**
 * One dispatch's share of a conv split over tensors larger than one binding (absent fields: the
 * whole conv). Gathers: M output pixels from pixel m0. Filter gradient: `chunks` chunks from s0,
 * reducing output pixels [q0, q1). Shifts move a's, b's and out's global indices into their windows.
 */
export interface ConvPart {
  M?: number;
  m0?: number;
  chunks?: number;
  s0?: number;
  q0?: number;
  q1?: number;
  aShift?: number;
  bShift?: number;
  outShift?: number;
  /** conv2dBackpropInput split by taps: filter rows [ky0, ky1) (the register kernel's uniforms; the workgroup kernel's are q0, q1). */
  ky0?: number;
  ky1?: number;
}

/** Normalises conv options. */
export function convAttrs(op: string, { strides = 1, padding = 'valid', dilations = 1 }: Conv2dOptions): ConvAttrs {
  return { strides: pairOption(op, 'strides', strides), dilations: pairOption(op, 'dilations', dilations), padding: paddingOption(op, padding) };
}

/**
 * Validates a rank-4 input and filter against each other and returns the geometry. `shownX` is
 * the input's shape as the caller passed it (rank 3 for one image), which errors name.
 */
export function convGeometry(op: string, xShape: readonly number[], fShape: readonly number[], attrs: ConvAttrs, shownX = xShape): ConvGeometry {
  if (xShape.length !== 4) throw new ShapeError(`${op}: expected x of rank 4 [N,H,W,C] or rank 3 [H,W,C], got ${fmtShape(shownX)}`);
  if (fShape.length !== 4) throw new ShapeError(`${op}: expected filter of rank 4 [kh,kw,inC,outC], got ${fmtShape(fShape)}`);
  const [batch, inH, inW, inC] = xShape;
  const [kh, kw, fc, outC] = fShape;
  if (fc !== inC) {
    throw new ShapeError(`${op}: input ${fmtShape(shownX)} has ${inC} channels but filter ${fmtShape(fShape)} expects inC=${fc}`);
  }
  if ([...xShape, ...fShape].some((d) => d === 0)) {
    throw new ShapeError(`${op}: input ${fmtShape(shownX)} and filter ${fmtShape(fShape)} must not have zero-size dims`);
  }
  const [sh, sw] = attrs.strides;
  const [dh, dw] = attrs.dilations;
  const y = windowAxis(inH, kh, sh, dh, attrs.padding);
  const x = windowAxis(inW, kw, sw, dw, attrs.padding);
  if (y.out === 0 || x.out === 0) {
    throw new ShapeError(
      `${op}: output would be empty: input ${fmtShape(shownX)} with filter ${fmtShape(fShape)} (dilations ${fmtShape(attrs.dilations)}) and '${attrs.padding}' padding gives ${fmtShape([batch, y.out, x.out, outC])}`,
    );
  }
  return { batch, inH, inW, inC, kh, kw, outC, outH: y.out, outW: x.out, sh, sw, dh, dw, pt: y.pad, pl: x.pad };
}

/**
 * A part's shifts as u32 uniforms: b's and out's in units of their array element (vec4 when
 * `unit` is 4; the shifts are then multiples of 4), wrapped modulo 2³² (WGSL's u32 arithmetic).
 */
export function partUniforms(part: ConvPart, unit: number): ConvPart {
  const shifts: ConvPart = {};
  // Absent shifts stay absent, so the defaults they are spread over keep their zeros.
  if (part.aShift !== undefined) shifts.aShift = part.aShift >>> 0;
  if (part.bShift !== undefined) shifts.bShift = (part.bShift / unit) >>> 0;
  if (part.outShift !== undefined) shifts.outShift = (part.outShift / unit) >>> 0;
  return { ...part, ...shifts };
}

