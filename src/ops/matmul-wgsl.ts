// WGSL of matMul's two GPU kernels. The register-tile kernel is generated here because its tile
// must be fully unrolled (named accumulators, no private arrays): SwiftShader runs it several times
// faster that way. The workgroup-memory kernel is the GEMM template shared with conv (gemm-workgroup.ts)
// with matMul's strided loads; both open on the kernel skeleton with MATMUL_PARAMS (Params,
// bindings) and share the helpers below (batch offsets, epilogue), so the uniform layout is written once. Both store through `epilogue(v, col)` (src/ops/epilogue.ts):
// identity for matMul, bias + activation for fusedMatMul.
import { kernelParams, type ParamValues, type StorageBinding } from '../backend/skeleton.js';
import type { EpilogueWgsl } from './epilogue.js';
import { GEMM_GRID_FIELDS, workgroupGemmWgsl } from './gemm-workgroup.js';

export { WORKGROUP_TILE } from './gemm-workgroup.js';

/** The uniforms of both kernels (all u32). Strides and counts are in elements. */
export const MATMUL_PARAMS = kernelParams({
  // M, N, the output tiles along N and M, and the invocations (register) or workgroups (workgroup)
  // that have work: tiles × batch
  ...GEMM_GRID_FIELDS,
  K: 'u32',
  // strides of A's rows (m) and k, of B's k and columns (n): transposes are index arithmetic
  aRow: 'u32', aK: 'u32', bK: 'u32', bCol: 'u32',
  // the batch, collapsed to at most 3 dims [d0, d1, d2] (d0 is implied by count)
  d1: 'u32', d2: 'u32',
  // element strides of A's and B's matrices per batch dim (0 where that input is broadcast)
  as0: 'u32', as1: 'u32', as2: 'u32', bs0: 'u32', bs1: 'u32', bs2: 'u32',
  // added to A's and out's indices: 0, except in the parts of a product split by rows over
  // tensors larger than one binding, where a and out are bound from a window (may wrap: u32 is modular)
  aShift: 'u32', outShift: 'u32',
  // split by batches: the dispatch's first batch, and what moves B's indices into its window
  z0: 'u32', bShift: 'u32',
  // split within a matrix (ranges of rows, columns and k): out's row stride (N of the whole
  // product), what moves a column to its bias index, 1 to add to out (the k ranges after the
  // first), and 1 to store the raw sum (the k ranges before the last skip the epilogue)
  ldo: 'u32', colShift: 'u32', accumulate: 'u32', raw: 'u32',
});

/** The values of one matMul kernel's uniforms. */
export type MatMulValues = ParamValues<typeof MATMUL_PARAMS.fields>;

/**
 * The register kernel's shape where B's columns may not be read as vec4s: 8 rows × 2 vec4 columns
 * per invocation, scalar loads, k unrolled ×4 (one loop test per 4 steps). Products with few
 * tiles, and the parts of split products, use it.
 */
export const REGISTER_SHAPE: RegisterShape = { rows: 8, vec4s: 2, bVec4: false, kUnroll: 4 };

/**
 * The shape for large products: 16 × 16 outputs per invocation, twice the loads' reuse. On
 * SwiftShader every load an invocation makes is four branchy scalar loads, one per SIMD lane, so
 * reuse is what counts: at 1024³, 1.17–1.21× the 8 × 8 tile (bench/matmul-probe.mjs, timed with
 * the Node wait asleep). 12 × 16 to 20 × 20 tiles measured the same; larger ones were slower.
 */
export const LARGE_REGISTER_SHAPE: RegisterShape = { rows: 16, vec4s: 4, bVec4: false, kUnroll: 4 };

/** Output rows × columns one invocation of the register kernel computes (the default shape). */
export const REGISTER_TILE = { rows: REGISTER_SHAPE.rows, vec4s: REGISTER_SHAPE.vec4s, cols: REGISTER_SHAPE.vec4s * 4 } as const;

/** Invocations per workgroup of the register kernel. */
export const REGISTER_WORKGROUP = 64;

/** The bindings: a, b (as `bType`, f32 or vec4), the optional bias, out. */
function storages(hasBias: boolean, bType = 'f32'): StorageBinding[] {
  const bias: StorageBinding[] = hasBias ? [{ name: 'bias', type: 'f32' }] : [];
  return [{ name: 'a', type: 'f32' }, { name: 'b', type: bType }, ...bias, { name: 'out', type: 'f32', write: true }];
}

/**
 * What both kernels declare after the bindings: batchOffsets() and the epilogue, which wraps the
 * op's (`opEpilogue`): a k range before the last stores its raw partial sum.
 */
function helpers(epilogue: string): string {
  return `
// Element offsets of batch z's matrix in a (x) and in b (y); broadcast dims have stride 0.
fn batchOffsets(zLocal: u32) -> vec2<u32> {
  let z = zLocal + p.z0;
  let i2 = z % p.d2;
  let i1 = (z / p.d2) % p.d1;
  let i0 = z / (p.d2 * p.d1);
  return vec2<u32>(i0 * p.as0 + i1 * p.as1 + i2 * p.as2 + p.aShift, i0 * p.bs0 + i1 * p.bs1 + i2 * p.bs2 + p.bShift);
}
${epilogue}
fn accumulated(i: u32) -> f32 {
  if (p.accumulate != 0u) { return out[i]; }
  return 0.0;
}
fn epilogue(v: f32, col: u32) -> f32 {
  if (p.raw != 0u) { return v; }
  return opEpilogue(v, col + p.colShift);
}
`;
}

/** matMul's index mapping for the GEMM template: batch offsets, then strided loads (transposes are strides). */
const WORKGROUP_LOADS = `var<private> offs: vec2<u32>; // batch z's matrix offsets in a (x) and b (y)
fn gemmBegin(z: u32) -> u32 { offs = batchOffsets(z); return p.K; }
fn loadA(m: u32, k: u32) -> f32 { return a[offs.x + m * p.aRow + k * p.aK]; }
fn loadB(k: u32, n: u32) -> f32 { return b[offs.y + k * p.bK + n * p.bCol]; }`;

/** The workgroup-memory kernel; the transpose flags pick coalesced load orders (they are in the key). */
export function workgroupKernelWgsl(transposeA: boolean, transposeB: boolean, epi: EpilogueWgsl): string {
  return workgroupGemmWgsl(MATMUL_PARAMS.declarations(storages(epi.hasBias)) + helpers(epi.wgsl), {
    aKContiguous: !transposeA,
    bNContiguous: !transposeB,
    wgsl: WORKGROUP_LOADS,
    // Split (matmul.ts), out is bound from a window: outShift moves the rows into it; a part
    // of a product split by k adds to what the parts before stored.
    outBase: 'z * p.M * p.ldo + p.outShift',
    outRow: 'p.ldo',
    prior: 'accumulated(i)',
  });
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * The shape of the register kernel's work. `rows` × `vec4s`·4 outputs per invocation; `bVec4`
 * binds B as vec4s (B's columns contiguous, N and every B offset a multiple of 4: one load per 4
 * columns instead of 4); `kUnroll` k steps per loop iteration (a remainder loop takes K mod kUnroll).
 */
export interface RegisterShape {
  readonly rows: number;
  readonly vec4s: number;
  readonly bVec4: boolean;
  readonly kUnroll: number;
}

/** Pipeline key part of a register shape: flags and tile sizes, never the problem's sizes. */
export const registerShapeKey = (s: RegisterShape): string => `r${s.rows}x${s.vec4s}${s.bVec4 ? 'v' : 's'}u${s.kUnroll}`;

/**
 * The register-tile kernel: invocation t computes a rows × (vec4s·4) block of out (accumulators
 * acc{row}_{vec4}), k by k, with fma. Rows and columns past the edge are clamped to the last valid
 * one, so loads need no branch inside the k loop; their sums are simply not stored. Transposes are
 * in the strides.
 */
export function registerKernelWgsl(epi: EpilogueWgsl, shape: RegisterShape = REGISTER_SHAPE): string {
  const { rows, vec4s, bVec4, kUnroll } = shape;
  const cols = vec4s * 4;
  const L: string[] = [];
  // Neighbouring invocations (SIMD lanes on SwiftShader) take neighbouring column tiles: they share A's rows.
  L.push('  let rest = t / p.tilesN;');
  L.push(`  let col0 = (t % p.tilesN) * ${cols}u;`);
  L.push(`  let row0 = (rest % p.tilesM) * ${rows}u;`);
  L.push('  let z = rest / p.tilesM;');
  L.push('  let offs = batchOffsets(z);');
  for (const r of range(rows)) L.push(`  let ra${r} = offs.x + min(row0 + ${r}u, p.M - 1u) * p.aRow;`);
  if (bVec4) {
    // In vec4 units: B's offset and row stride are multiples of 4 (the caller checks).
    L.push('  let bk4 = p.bK / 4u;');
    for (const v of range(vec4s)) L.push(`  let cb${v} = offs.y / 4u + min(col0 / 4u + ${v}u, p.N / 4u - 1u);`);
  } else {
    for (const c of range(cols)) L.push(`  let cb${c} = offs.y + min(col0 + ${c}u, p.N - 1u) * p.bCol;`);
  }
  for (const r of range(rows)) for (const v of range(vec4s)) L.push(`  var acc${r}_${v} = vec4<f32>();`);
  // One k step: B's row k (vec4s vec4s), then each row's A value times it.
  const step = (k: string): string[] => {
    const lines = [`let ka = ${k} * p.aK;`];
    for (const v of range(vec4s)) {
      lines.push(
        bVec4
          ? `let bv${v} = b[cb${v} + ${k} * bk4];`
          : `let bv${v} = vec4<f32>(${range(4).map((j) => `b[cb${v * 4 + j} + ${k} * p.bK]`).join(', ')});`,
      );
    }
    for (const r of range(rows)) {
      const fmas = range(vec4s).map((v) => `acc${r}_${v} = fma(av, bv${v}, acc${r}_${v});`);
      lines.push(`{ let av = vec4<f32>(a[ra${r} + ka]); ${fmas.join(' ')} }`);
    }
    return lines;
  };
  const block = (k: string, indent: string): string[] => ['{', ...step(k).map((l) => `  ${l}`), '}'].map((l) => indent + l);
  if (kUnroll > 1) {
    L.push(`  let kMain = p.K - p.K % ${kUnroll}u;`);
    L.push(`  for (var k = 0u; k < kMain; k += ${kUnroll}u) {`);
    for (const u of range(kUnroll)) L.push(...block(u ? `(k + ${u}u)` : 'k', '    '));
    L.push('  }');
    L.push('  for (var k = kMain; k < p.K; k++) {');
  } else {
    L.push('  for (var k = 0u; k < p.K; k++) {');
  }
  L.push(...block('k', '    '));
  L.push('  }');
  L.push('  let o = z * p.M * p.ldo + col0 + p.outShift;');
  for (const r of range(rows)) {
    L.push(`  if (row0 + ${r}u < p.M) {`);
    L.push(`    let orow = o + (row0 + ${r}u) * p.ldo;`);
    for (const c of range(cols)) {
      const i = `orow + ${c}u`;
      L.push(`    if (col0 + ${c}u < p.N) { out[${i}] = epilogue(acc${r}_${c >> 2}[${c & 3}] + accumulated(${i}), col0 + ${c}u); }`);
    }
    L.push('  }');
  }
  return MATMUL_PARAMS.wgsl({
    storages: storages(epi.hasBias, bVec4 ? 'vec4<f32>' : 'f32'),
    prelude: helpers(epi.wgsl),
    index: { name: 't', below: 'count' },
    workgroupSize: REGISTER_WORKGROUP,
    body: L.join('\n'),
  });
}
