// WGSL generators for conv2d and its two backprops as implicit GEMMs, register-tile variant (the
// workgroup-memory variant is conv-workgroup-wgsl.ts). Each invocation owns an unrolled register tile
// (rows × vec4 columns in named accumulators): on SwiftShader that is several times faster than
// workgroup-memory tiles.
// Measured on SwiftShader: scalar loads of the gathered operand beat vec4 loads (whose lanes must be
// extracted and splatted), so only the B operand and the output use vec4s, when their width allows.
import { kernelParams, type KernelParams, type ParamFields, type StorageBinding } from '../backend/skeleton.js';
import type { EpilogueWgsl } from './epilogue.js';

/** The register tile of one invocation. */
export interface ConvTile {
  /** Output rows per invocation. */
  readonly rows: number;
  /** vec4 column groups per invocation. */
  readonly cols4: number;
  /** The column count is a multiple of 4, so B and the output are bound as arrays of vec4. */
  readonly bVec: boolean;
  /**
   * Every tap of every output pixel lies inside the input (no padding reached, e.g. 'valid'), so the
   * forward and the filter gradient read x with no bounds test and no select. Default false.
   */
  readonly inside?: boolean;
}

/** Pipeline key part for a tile: flags only, never sizes. */
export const tileKey = (t: ConvTile): string => `r${t.rows}c${t.cols4}${t.bVec ? 'v4' : 's'}${t.inside ? 'in' : ''}`;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const LANES = ['x', 'y', 'z', 'w'];

/** Lines repeated for each (r, c) of a tile. */
const each = (rs: number[], cs: number[], f: (r: number, c: number) => string): string =>
  rs.flatMap((r) => cs.map((c) => f(r, c))).join('\n');

/** Column setup: vec4 group (or scalar column) indices clamped to the last one, so edge tiles read in bounds. */
function columnSetup({ cols4, bVec }: ConvTile): string {
  return range(cols4)
    .map((c) =>
      bVec
        ? `  let g${c} = min(gBase + ${c}u, n4 - 1u);`
        : range(4).map((j) => `  let g${c}_${j} = min((gBase + ${c}u) * 4u + ${j}u, p.N - 1u);`).join('\n'),
    )
    .join('\n');
}

/** A vec4 of row `k` (an expression) of B at column group c. */
const loadB = (bVec: boolean, k: string, c: number, shift = ''): string =>
  bVec
    ? `b[${k} * n4 + g${c}${shift && ` - ${shift}`}]`
    : `vec4<f32>(${range(4).map((j) => `b[${k} * p.N + g${c}_${j}${shift && ` - ${shift}`}]`).join(', ')})`;

/**
 * Writes accumulator `acc` to output row `row` (an expression) at column group gBase + c, skipping
 * columns past N. The one place results leave the tile: with `fused`, each value goes through
 * `epilogue(v, col)` (fusedConv2d's bias and activation; col is the output channel). Indices are
 * moved by p.outShift (out bound from a window, see conv.ts's split); with `accumulate` (a WGSL
 * bool) the value is added to what out holds.
 */
function storeColumns(bVec: boolean, row: string, c: number, acc: string, fused = false, accumulate = ''): string {
  const col = (j: number) => `(gBase + ${c}u) * 4u + ${j}u`;
  const value = (j: number) => (fused ? `epilogue(${acc}.${LANES[j]}, ${col(j)})` : `${acc}.${LANES[j]}`);
  const plus = (i: string, zero: string) => (accumulate ? ` + select(${zero}, out[${i}], ${accumulate})` : '');
  if (bVec) {
    const v = fused ? `vec4<f32>(${range(4).map(value).join(', ')})` : acc;
    const i = `(${row}) * n4 + gBase + ${c}u + p.outShift`;
    return `    if (gBase + ${c}u < n4) { out[${i}] = ${v}${plus(i, 'vec4<f32>()')}; }`;
  }
  return range(4)
    .map((j) => {
      const i = `(${row}) * p.N + ${col(j)} + p.outShift`;
      return `    if (${col(j)} < p.N) { out[${i}] = ${value(j)}${plus(i, '0.0')}; }`;
    })
    .join('\n');
}

/**
 * The bindings of every conv kernel: a, b, the optional bias → out (b and out as vec4 with
 * `bVec`). Shared with the workgroup-memory kernels (conv-workgroup-wgsl.ts).
 */
export function convStorages(bVec: boolean, hasBias: boolean): StorageBinding[] {
  const b = bVec ? 'vec4<f32>' : 'f32';
  const bias: StorageBinding[] = hasBias ? [{ name: 'bias', type: 'f32' }] : [];
  return [{ name: 'a', type: 'f32' }, { name: 'b', type: b }, ...bias, { name: 'out', type: b, write: true }];
}

/** A register kernel on the skeleton: its bindings (`names` says what a, b and out hold), the epilogue if any, and `t` below `bound`. */
function registerKernel<F extends ParamFields>(params: KernelParams<F>, bVec: boolean, names: string, bound: keyof F & string, epi: EpilogueWgsl | null, body: string): string {
  return params.wgsl({
    storages: convStorages(bVec, !!epi?.hasBias),
    prelude: `// ${names}\n${epi ? `${epi.wgsl}\n` : ''}`,
    index: { name: 't', below: bound },
    body: `  let n4 = (p.N + 3u) / 4u;\n${body}`,
  });
}

/**
 * backpropInput: the taps [kyLo, kyHi) × [kxLo, kxHi) that some row of the tile may read — tap ky
 * reads dy row (y − ky·dh)/sh, which exists when 0 ≤ y − ky·dh < aH·sh (y = pixel row + pt ≥ 0).
 * Bounds from the tile's smallest and largest y (and x): a superset of every row's taps, so the
 * per-row tests still decide, but the border taps no row reads are not multiplied by zero.
 */
function tapRanges(R: number[]): string {
  const axis = (v: string, k: string, d: string, size: string, s: string): string[] => {
    const vs = R.map((r) => `u32(${v}${r})`);
    const fold = (f: string) => vs.slice(1).reduce((acc, e) => `${f}(${acc}, ${e})`, vs[0]!);
    const K = v === 'y' ? 'ky' : 'kx';
    return [
      `let ${v}Min = ${fold('min')};`,
      `let ${v}Max = ${fold('max')};`,
      `let ${v}Span = p.${size} * p.${s};`,
      `let ${K}Lo = select(0u, (${v}Min - ${v}Span) / p.${d} + 1u, ${v}Min >= ${v}Span);`,
      `let ${K}Hi = min(p.${k}, ${v}Max / p.${d} + 1u);`,
    ];
  };
  return [...axis('y', 'kh', 'dh', 'aH', 'sh'), ...axis('x', 'kw', 'dw', 'aW', 'sw')].map((l) => `  ${l}`).join('\n');
}

/** The uniforms of `gatherGemmWgsl`. */
export const GATHER_PARAMS = kernelParams({
  tiles: 'u32', colTiles: 'u32', M: 'u32', N: 'u32', kc: 'u32', rowH: 'u32', rowW: 'u32', aH: 'u32', aW: 'u32',
  kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', pt: 'u32', pl: 'u32',
  // split over tensors larger than one binding: the dispatch's first output pixel (its M are
  // pixels m0 …), and what moves a's and out's global indices into their windows (may wrap; in
  // units of the binding's array element, vec4 or f32)
  m0: 'u32', aShift: 'u32', outShift: 'u32',
  // conv2dBackpropInput split by taps: this dispatch's filter rows [ky0, ky1); after the first
  // range it adds to out
  ky0: 'u32', ky1: 'u32',
});

/**
 * conv2d ('forward') or conv2dBackpropInput, as out[M, N] = A[M, K] · B[K, N] with K = kh·kw·kc and
 * A gathered from an NHWC tensor `a` of [·, aH, aW, kc]; row m is pixel (img, y, x) of the
 * [·, rowH, rowW] output grid. forward: a = x, B = filter [kh,kw,inC,outC], and
 * A[m, (ky,kx,c)] = x[img, y·sh − pt + ky·dh, x·sw − pl + kx·dw, c]. backpropInput: a = dy,
 * B = the filter transposed to [kh,kw,outC,inC], and A reads dy at ((y + pt − ky·dh)/sh, …)
 * where that divides exactly (the taps of the transposed convolution). `epi` (forward only): the
 * fused bias/activation applied as each output is stored. Only filter rows [ky0, ky1) are summed;
 * backpropInput adds to out when ky0 > 0 (a later part of a split by taps). `oneChannel` (kc = 1,
 * e.g. a first layer on grey images): no channel loop, whose overhead per tap would match the tap's own work.
 */
export function gatherGemmWgsl(kind: 'forward' | 'backpropInput', tile: ConvTile, epi: EpilogueWgsl | null = null, oneChannel = false): string {
  const { rows, cols4, bVec } = tile;
  const R = range(rows);
  const C = range(cols4);
  const fwd = kind === 'forward';
  const inside = fwd && !!tile.inside;
  // One axis of row r: the source coordinate i<v>r of tap offset kd and whether it exists.
  // A negative coordinate wraps to a huge u32, so one `< size` test checks both ends.
  const axis = (r: number, v: string, s: string, kd: string, size: string): string[] =>
    fwd
      ? [`let i${v}${r} = u32(${v}${r} + ${kd});`, `let ok${v}${r} = i${v}${r} < p.${size};`]
      : [
          `let t${v}${r} = u32(${v}${r} - ${kd});`,
          `let i${v}${r} = t${v}${r} / p.${s};`,
          `let ok${v}${r} = i${v}${r} < p.${size} && t${v}${r} % p.${s} == 0u;`,
        ];
  const indent = (n: number) => (l: string) => ' '.repeat(n) + l;
  // One step of the reduction: row k of B times the tile's A values at base + c.
  const products = (k: string, c: string): string =>
    [
      ...R.map((r) => (inside ? `let a${r} = a[base${r}${c}];` : `let a${r} = select(0.0, a[base${r}${c}], ok${r});`)),
      ...C.map((j) => `let b${j} = ${loadB(bVec, k, j)};`),
      ...R.flatMap((r) => C.map((j) => `acc${r}_${j} = fma(vec4<f32>(a${r}), b${j}, acc${r}_${j});`)),
    ]
      .map(indent(c ? 8 : 6))
      .join('\n');
  const rowSetup = R.flatMap((r) => [
    `let m${r} = min(mBase + ${r}u, p.M - 1u) + p.m0;`,
    `let img${r} = m${r} / (p.rowH * p.rowW) * p.aH;`,
    ...(fwd
      ? [`let y${r} = i32((m${r} / p.rowW) % p.rowH * p.sh) - i32(p.pt);`, `let x${r} = i32(m${r} % p.rowW * p.sw) - i32(p.pl);`]
      : [`let y${r} = i32((m${r} / p.rowW) % p.rowH + p.pt);`, `let x${r} = i32(m${r} % p.rowW + p.pl);`]),
  ]).map(indent(2));
  const yLines = R.flatMap((r) =>
    inside ? [`let row${r} = (img${r} + u32(y${r} + kyd)) * p.aW;`] : [...axis(r, 'y', 'sh', 'kyd', 'aH'), `let row${r} = (img${r} + iy${r}) * p.aW;`],
  ).map(indent(4));
  const xLines = R.flatMap((r) =>
    inside
      ? [`let base${r} = (row${r} + u32(x${r} + kxd)) * p.kc - p.aShift;`]
      : [
          ...axis(r, 'x', 'sw', 'kxd', 'aW'),
          `let ok${r} = oky${r} && okx${r};`,
          `let base${r} = select(0u, (row${r} + ix${r}) * p.kc - p.aShift, ok${r});`,
        ],
  ).map(indent(6));
  return registerKernel(GATHER_PARAMS, bVec, fwd ? 'x, filter -> y' : 'dy, filter transposed -> dx', 'tiles', epi, `  let mBase = (t / p.colTiles) * ${rows}u;
  let gBase = (t % p.colTiles) * ${cols4}u;
${columnSetup(tile)}
${rowSetup.join('\n')}
${each(R, C, (r, c) => `  var acc${r}_${c} = vec4<f32>(0.0);`)}
${fwd ? '' : tapRanges(R)}
  for (var ky = ${fwd ? 'p.ky0' : 'max(kyLo, p.ky0)'}; ky < ${fwd ? 'p.ky1' : 'min(kyHi, p.ky1)'}; ky++) {
    let kyd = i32(ky * p.dh);
${yLines.join('\n')}
    for (var kx = ${fwd ? '0u' : 'kxLo'}; kx < ${fwd ? 'p.kw' : 'kxHi'}; kx++) {
      let kxd = i32(kx * p.dw);
${xLines.join('\n')}
      let k0 = (ky * p.kw + kx) * p.kc;
${oneChannel ? products('k0', '') : `      for (var c = 0u; c < p.kc; c++) {
${products('(k0 + c)', ' + c')}
      }`}
    }
  }
${R.map((r) => `  if (mBase + ${r}u < p.M) {\n${C.map((c) => storeColumns(bVec, `mBase + ${r}u`, c, `acc${r}_${c}`, !!epi, fwd ? '' : 'p.ky0 > 0u')).join('\n')}\n  }`).join('\n')}`);
}

/** The uniforms of `filterGemmWgsl`. */
export const FILTER_PARAMS = kernelParams({
  total: 'u32', tiles: 'u32', colTiles: 'u32', chunk: 'u32', P: 'u32', rows: 'u32', N: 'u32', inC: 'u32', kw: 'u32',
  H: 'u32', W: 'u32', outH: 'u32', outW: 'u32', sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', pt: 'u32', pl: 'u32',
  // split over tensors larger than one binding: chunks s0 … and output pixels [q0, q1) of this
  // dispatch, and the shifts of x (a), dy (b) and out into their windows; a chunk begun by an
  // earlier dispatch is added to, not overwritten
  s0: 'u32', q0: 'u32', q1: 'u32', aShift: 'u32', bShift: 'u32', outShift: 'u32',
});

/**
 * conv2dBackpropFilter: partial[s, (ky,kx,ci), co] = Σ_{q in chunk s} x[q's input pixel at tap (ky,kx), ci] · dy[q, co],
 * a GEMM over rows (ky,kx,ci) and columns co reducing over the output pixels q (dy viewed as [P, outC]).
 * The reduction is split into chunks, summed afterwards, so that a small filter still spreads
 * over many invocations. With `sharedTap` (inC a multiple of the tile's rows) a tile's rows are
 * consecutive channels of one tap: one bounds test and one address per output pixel serve them all.
 */
export function filterGemmWgsl(tile: ConvTile, sharedTap = false): string {
  const { rows, cols4, bVec, inside = false } = tile;
  const R = range(rows);
  const C = range(cols4);
  // Per tile row r: its channel and tap offsets; with sharedTap only row 0's, the others follow it.
  const setupRows = sharedTap ? [0] : R;
  const rowSetup = setupRows.map((r) =>
    [
      `  let rr${r} = min(rBase + ${r}u, p.rows - 1u);`,
      `  let ci${r} = rr${r} % p.inC;`,
      `  let offy${r} = i32(rr${r} / p.inC / p.kw * p.dh) - i32(p.pt);`,
      `  let offx${r} = i32(rr${r} / p.inC % p.kw * p.dw) - i32(p.pl);`,
    ].join('\n'),
  );
  const gather = (r: number): string =>
    [
      `    let iy${r} = u32(yb + offy${r});`,
      `    let ix${r} = u32(xb + offx${r});`,
      ...(inside
        ? [`    let src${r} = ((img + iy${r}) * p.W + ix${r}) * p.inC + ci${r} - p.aShift;`]
        : [`    let ok${r} = iy${r} < p.H && ix${r} < p.W;`, `    let src${r} = select(0u, ((img + iy${r}) * p.W + ix${r}) * p.inC + ci${r} - p.aShift, ok${r});`]),
    ].join('\n');
  const load = (r: number, src: string, ok: string): string => (inside ? `    let a${r} = a[${src}];` : `    let a${r} = select(0.0, a[${src}], ${ok});`);
  const loads = sharedTap ? [gather(0), ...R.map((r) => load(r, `src0 + ${r}u`, 'ok0'))] : R.map((r) => `${gather(r)}\n${load(r, `src${r}`, `ok${r}`)}`);
  return registerKernel(FILTER_PARAMS, bVec, 'x, dy -> filter-gradient partials', 'total', null, `  let s = t / p.tiles + p.s0;
  let accumulate = p.q0 > s * p.chunk;
  let rBase = (t % p.tiles) / p.colTiles * ${rows}u;
  let gBase = (t % p.tiles) % p.colTiles * ${cols4}u;
${columnSetup(tile)}
${rowSetup.join('\n')}
${each(R, C, (r, c) => `  var acc${r}_${c} = vec4<f32>(0.0);`)}
  let qEnd = min(min((s + 1u) * p.chunk, p.P), p.q1);
  var q = max(s * p.chunk, p.q0);
  var ox = q % p.outW;
  var oy = q / p.outW % p.outH;
  var img = q / (p.outW * p.outH) * p.H;
  for (; q < qEnd; q++) {
    let yb = i32(oy * p.sh);
    let xb = i32(ox * p.sw);
${C.map((c) => `    let d${c} = ${loadB(bVec, 'q', c, 'p.bShift')};`).join('\n')}
${loads.join('\n')}
${each(R, C, (r, c) => `    acc${r}_${c} = fma(vec4<f32>(a${r}), d${c}, acc${r}_${c});`)}
    ox++;
    if (ox == p.outW) {
      ox = 0u;
      oy++;
      if (oy == p.outH) { oy = 0u; img += p.H; }
    }
  }
${R.map((r) => `  if (rBase + ${r}u < p.rows) {\n${C.map((c) => storeColumns(bVec, `s * p.rows + rBase + ${r}u`, c, `acc${r}_${c}`, false, 'accumulate')).join('\n')}\n  }`).join('\n')}`);
}
