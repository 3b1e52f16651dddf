// WGSL of matMul's two GPU kernels. The register-tile kernel is generated here because its tile
// must be fully unrolled (named accumulators, no private arrays): SwiftShader runs it several times
// faster that way. The workgroup-memory kernel is the GEMM template shared with conv (gemm-workgroup.ts)
// with matMul's strided loads; both share the header below (Params, bindings, batch offsets), so the
// uniform layout is written once. Both store through `epilogue(v, col)` (src/ops/epilogue.ts):
// identity for matMul, bias + activation for fusedMatMul.
import { workgroupGemmWgsl } from './gemm-workgroup.js';

export { WORKGROUP_TILE } from './gemm-workgroup.js';

/** Uniform fields of both kernels, in order (all u32). Strides and counts are in elements. */
export const MATMUL_PARAMS = [
  'M', 'N', 'K',
  // output tiles along N and M
  'tilesN', 'tilesM',
  // invocations (register) or workgroups (workgroup) that have work: tiles × batch
  'count',
  // strides of A's rows (m) and k, of B's k and columns (n): transposes are index arithmetic
  'aRow', 'aK', 'bK', 'bCol',
  // the batch, collapsed to at most 3 dims [d0, d1, d2] (d0 is implied by count)
  'd1', 'd2',
  // element strides of A's and B's matrices per batch dim (0 where that input is broadcast)
  'as0', 'as1', 'as2', 'bs0', 'bs1', 'bs2',
  // added to A's and out's indices: 0, except in the parts of a product split by rows over
  // tensors larger than one binding, where a and out are bound from a window (may wrap: u32 is modular)
  'aShift', 'outShift',
  // split by batches: the dispatch's first batch, and what moves B's indices into its window
  'z0', 'bShift',
  // split within a matrix (ranges of rows, columns and k): out's row stride (N of the whole
  // product), what moves a column to its bias index, 1 to add to out (the k ranges after the
  // first), and 1 to store the raw sum (the k ranges before the last skip the epilogue)
  'ldo', 'colShift', 'accumulate', 'raw',
] as const;

/** One matMul kernel parameter. */
export type MatMulParam = (typeof MATMUL_PARAMS)[number];

/** Output rows × columns one invocation of the register kernel computes (8 rows × 2 vec4). */
export const REGISTER_TILE = { rows: 8, vec4s: 2, cols: 8 } as const;

/** Invocations per workgroup of the register kernel. */
export const REGISTER_WORKGROUP = 64;

/**
 * Params, the bindings (a, b, the optional bias, out, p), batchOffsets() and the epilogue, which
 * wraps the op's (`opEpilogue`): a k range before the last stores its raw partial sum.
 */
function header(hasBias: boolean, epilogue: string): string {
  const bias = hasBias ? '@group(0) @binding(2) var<storage, read> bias: array<f32>;\n' : '';
  const o = hasBias ? 3 : 2;
  return `struct Params { ${MATMUL_PARAMS.map((f) => `${f}: u32`).join(', ')} }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
${bias}@group(0) @binding(${o}) var<storage, read_write> out: array<f32>;
@group(0) @binding(${o + 1}) var<uniform> p: Params;

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

/** What a kernel stores: the WGSL of `fn epilogue(v: f32, col: u32) -> f32` (matMul's: `opEpilogue`), and whether it reads `bias`. */
export interface EpilogueWgsl {
  readonly hasBias: boolean;
  readonly wgsl: string;
}

/** matMul's index mapping for the GEMM template: batch offsets, then strided loads (transposes are strides). */
const WORKGROUP_LOADS = `var<private> offs: vec2<u32>; // batch z's matrix offsets in a (x) and b (y)
fn gemmBegin(z: u32) -> u32 { offs = batchOffsets(z); return p.K; }
fn loadA(m: u32, k: u32) -> f32 { return a[offs.x + m * p.aRow + k * p.aK]; }
fn loadB(k: u32, n: u32) -> f32 { return b[offs.y + k * p.bK + n * p.bCol]; }`;

/** The workgroup-memory kernel; the transpose flags pick coalesced load orders (they are in the key). */
export function workgroupKernelWgsl(transposeA: boolean, transposeB: boolean, epi: EpilogueWgsl): string {
  return workgroupGemmWgsl(header(epi.hasBias, epi.wgsl), {
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
 * The register-tile kernel: invocation t computes an 8×8 block of out (accumulators acc{row}_{vec4}),
 * k by k, with fma. Rows and columns past the edge are clamped to the last valid one, so loads need
 * no branch inside the k loop; their sums are simply not stored. Transposes are in the strides.
 */
export function registerKernelWgsl(epi: EpilogueWgsl): string {
  const { rows, vec4s, cols } = REGISTER_TILE;
  const L: string[] = [];
  L.push(`@compute @workgroup_size(${REGISTER_WORKGROUP})`);
  L.push('fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {');
  L.push(`  let t = gid.y * nwg.x * ${REGISTER_WORKGROUP}u + gid.x;`);
  L.push('  if (t >= p.count) { return; }');
  // Neighbouring invocations (SIMD lanes on SwiftShader) take neighbouring column tiles: they share A's rows.
  L.push('  let rest = t / p.tilesN;');
  L.push(`  let col0 = (t % p.tilesN) * ${cols}u;`);
  L.push(`  let row0 = (rest % p.tilesM) * ${rows}u;`);
  L.push('  let z = rest / p.tilesM;');
  L.push('  let offs = batchOffsets(z);');
  for (const r of range(rows)) L.push(`  let ra${r} = offs.x + min(row0 + ${r}u, p.M - 1u) * p.aRow;`);
  for (const c of range(cols)) L.push(`  let cb${c} = offs.y + min(col0 + ${c}u, p.N - 1u) * p.bCol;`);
  for (const r of range(rows)) for (const v of range(vec4s)) L.push(`  var acc${r}_${v} = vec4<f32>();`);
  L.push('  for (var k = 0u; k < p.K; k++) {');
  L.push('    let ka = k * p.aK;');
  L.push('    let kb = k * p.bK;');
  for (const v of range(vec4s)) {
    L.push(`    let bv${v} = vec4<f32>(${range(4).map((j) => `b[cb${v * 4 + j} + kb]`).join(', ')});`);
  }
  for (const r of range(rows)) {
    const fmas = range(vec4s).map((v) => `acc${r}_${v} = fma(av, bv${v}, acc${r}_${v});`);
    L.push(`    { let av = vec4<f32>(a[ra${r} + ka]); ${fmas.join(' ')} }`);
  }
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
  L.push('}');
  return header(epi.hasBias, epi.wgsl) + L.join('\n') + '\n';
}
