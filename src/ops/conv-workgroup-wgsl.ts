// conv2d and its two backprops on GPUs that prefer workgroup-memory tiles: the GEMM template shared
// with matMul (gemm-workgroup.ts) with one implicit-GEMM index mapping, `gather(pixel, tap)`, read as
// A[m, k] = gather(m, k) by conv2d and conv2dBackpropInput and as A[m, k] = gather(k, m) (the taps on
// the rows, the output pixels reduced) by conv2dBackpropFilter. B is always row-major [K, N].
import type { Uniform } from '../backend/kernel.js';
import { kernelParams, type ParamValues } from '../backend/skeleton.js';
import { epilogueWgsl, type EpilogueWgsl } from './epilogue.js';
import { partUniforms, type ConvGeometry, type ConvPart } from './conv-geometry.js';
import { convStorages } from './conv-wgsl.js';
import { GEMM_GRID_FIELDS, workgroupGemmGrid, workgroupGemmWgsl } from './gemm-workgroup.js';

/** Which conv: the three differ only in how A is gathered and which dims are M, N and K. */
export type ConvGemmKind = 'forward' | 'backpropInput' | 'backpropFilter';

/**
 * The uniforms of all three kernels. K: the whole reduction; chunk: its part per
 * split (z), K itself but for the filter gradient. The gather reads `a` as [·, aH, aW, kc] at the
 * taps (ky, kx, c) of pixels of the [·, rowH, rowW] grid.
 */
const CONV_WORKGROUP_PARAMS = kernelParams({
  ...GEMM_GRID_FIELDS,
  K: 'u32', chunk: 'u32', kc: 'u32', kw: 'u32', rowH: 'u32', rowW: 'u32', aH: 'u32', aW: 'u32', sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', pt: 'u32', pl: 'u32',
  // split over tensors larger than one binding (conv.ts): first output pixel (gathers) or first
  // chunk and pixel range (filter gradient) of the dispatch, and the shifts of a, b and out into
  // their windows; a filter chunk begun by an earlier dispatch is added to, not overwritten, and
  // so is dx by the input gradient's later ranges of taps [q0, q1)
  m0: 'u32', s0: 'u32', q0: 'u32', q1: 'u32', aShift: 'u32', bShift: 'u32', outShift: 'u32',
});

type Values = ParamValues<typeof CONV_WORKGROUP_PARAMS.fields>;

/**
 * The gathered operand: tap (ky, kx, c) of pixel (img, y, x). A forward tap reads a at
 * (y·sh − pt + ky·dh, x·sw − pl + kx·dw); a transposed one (conv2dBackpropInput, a = dy) at
 * ((y + pt − ky·dh)/sh, …) where that divides exactly. Outside a: 0 (padding). A negative
 * coordinate wraps to a huge u32, so one `< size` test checks both ends.
 */
function gatherWgsl(transposed: boolean): string {
  const coords = transposed
    ? `  let ty = u32(i32(y + p.pt) - i32(ky * p.dh));
  let tx = u32(i32(x + p.pl) - i32(kx * p.dw));
  if (ty % p.sh != 0u || tx % p.sw != 0u) { return 0.0; }
  let iy = ty / p.sh;
  let ix = tx / p.sw;`
    : `  let iy = u32(i32(y * p.sh + ky * p.dh) - i32(p.pt));
  let ix = u32(i32(x * p.sw + kx * p.dw) - i32(p.pl));`;
  return `fn gather(pixel: u32, tap: u32) -> f32 {
  let c = tap % p.kc;
  let kx = tap / p.kc % p.kw;
  let ky = tap / p.kc / p.kw;
  let x = pixel % p.rowW;
  let y = pixel / p.rowW % p.rowH;
  let img = pixel / p.rowW / p.rowH;
${coords}
  if (iy >= p.aH || ix >= p.aW) { return 0.0; }
  return a[((img * p.aH + iy) * p.aW + ix) * p.kc + c - p.aShift];
}`;
}

/**
 * The kernel of one kind. Split z reduces k in [z·chunk, min((z+1)·chunk, K)); B's row is that
 * global k. In A, the taps are contiguous (channels innermost in NHWC): along k for the gathers,
 * along m for the filter gradient.
 */
export function convWorkgroupWgsl(kind: ConvGemmKind, epi: EpilogueWgsl | null = null): string {
  const filter = kind === 'backpropFilter';
  const names = { forward: 'x, filter -> y', backpropInput: 'dy, filter transposed -> dx', backpropFilter: 'x, dy -> filter-gradient partials' }[kind];
  // The reduction length is computed from z and p only, never read back from kStart: WGSL's
  // uniformity analysis treats private variables as non-uniform, and the barriers depend on it.
  const mapping = `var<private> kStart: u32; // first k of this split
var<private> accumulating: bool; // this split's chunk was begun by an earlier dispatch
fn gemmBegin(z: u32) -> u32 {
  let zz = z + p.s0;
  let start = min(max(zz * p.chunk, p.q0), p.K);
  kStart = start;
  accumulating = p.q0 > zz * p.chunk;
  return min(min(zz * p.chunk + p.chunk, p.K), p.q1) - start;
}
${gatherWgsl(kind === 'backpropInput')}
fn loadA(m: u32, k: u32) -> f32 { return ${filter ? 'gather(kStart + k, m)' : 'gather(m + p.m0, kStart + k)'}; }
fn loadB(k: u32, n: u32) -> f32 { return b[(kStart + k) * p.N + n - p.bShift]; }`;
  const epilogue = epi ?? epilogueWgsl('linear', false);
  const header = `${CONV_WORKGROUP_PARAMS.declarations(convStorages(false, epilogue.hasBias))}\n// ${names}\n${epilogue.wgsl}\n`;
  return workgroupGemmWgsl(header, {
    aKContiguous: !filter,
    bNContiguous: true,
    wgsl: mapping,
    outBase: '(z + p.s0) * p.M * p.N + p.outShift',
    // The filter gradient's chunks, and conv2dBackpropInput's ranges of taps (q0, q1) split over
    // dispatches, add to what an earlier dispatch stored.
    prior: kind === 'forward' ? undefined : 'select(0.0, out[i], accumulating)',
  });
}

/**
 * Uniforms and workgroups of one kind for geometry `g`. The filter gradient computes `splits`
 * partials of [kh·kw·inC, outC], each reducing `chunk` output pixels.
 */
export function convWorkgroupDispatch(
  kind: ConvGemmKind, g: ConvGeometry, chunk = 0, splits = 1, part: ConvPart = {},
): { uniforms: Uniform[]; workgroups: [number, number, number] } {
  const taps = (kc: number) => g.kh * g.kw * kc;
  const common = { kw: g.kw, sh: g.sh, sw: g.sw, dh: g.dh, dw: g.dw, pt: g.pt, pl: g.pl };
  const dims = {
    forward: { M: g.batch * g.outH * g.outW, N: g.outC, K: taps(g.inC), kc: g.inC, rowH: g.outH, rowW: g.outW, aH: g.inH, aW: g.inW },
    backpropInput: { M: g.batch * g.inH * g.inW, N: g.inC, K: taps(g.outC), kc: g.outC, rowH: g.inH, rowW: g.inW, aH: g.outH, aW: g.outW },
    backpropFilter: { M: taps(g.inC), N: g.outC, K: g.batch * g.outH * g.outW, kc: g.inC, rowH: g.outH, rowW: g.outW, aH: g.inH, aW: g.inW },
  }[kind];
  if (part.M !== undefined) dims.M = part.M;
  const { workgroups, ...grid } = workgroupGemmGrid(dims.M, dims.N, part.chunks ?? splits);
  const values: Values = {
    ...common, ...dims, ...grid, chunk: kind === 'backpropFilter' ? chunk : dims.K,
    m0: 0, s0: 0, q0: 0, q1: dims.K, aShift: 0, bShift: 0, outShift: 0, ...withoutCounts(part),
  };
  return { uniforms: CONV_WORKGROUP_PARAMS.uniforms(values), workgroups };
}

/** A part's uniform values, without the counts that size the grid. */
function withoutCounts({ M: _M, chunks: _chunks, ...values }: ConvPart): Partial<Values> {
  return partUniforms(values, 1);
}
