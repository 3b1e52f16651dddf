// A GEMM with workgroup-memory tiles, the kernel real GPUs run fast: out[z] = A[z]·B[z] for each
// batch (or split) z, where a 16×16 workgroup computes a 64×64 block of out[z], staging a 64×16 slab
// of A and a 16×64 slab of B per step behind barriers. matMul and the three convs (implicit GEMMs)
// share it; their generators (matmul-wgsl.ts, conv-workgroup-wgsl.ts) prepend:
//   the skeleton's declarations (src/backend/skeleton.ts): Params with GEMM_GRID_FIELDS — M, N,
//     tilesN, tilesM and count (workgroups with work: tiles × batches) — and its bindings, `p`;
//   the binding `out: array<f32>` and `fn epilogue(v: f32, col: u32) -> f32`;
//   const A_K_CONTIGUOUS / B_N_CONTIGUOUS: whether A's k / B's n is the dim contiguous in memory,
//     which picks the load order in which neighbouring invocations read neighbouring addresses;
//   fn gemmBegin(z: u32) -> u32: called once with the workgroup's z; it may set private state
//     that the loads read, and returns the length of z's reduction (computed from z and p only: it
//     bounds the loop around the barriers, so it must be uniform, and private variables are not);
//   fn loadA(m: u32, k: u32) -> f32 and fn loadB(k: u32, n: u32) -> f32: A[z][m, k] and B[z][k, n],
//     called only with m < M, n < N and k below the reduction length (the edges load zeros here).
// gemm-workgroup.ts adds fn outBase(z: u32) -> u32, where z's matrix starts in out (z·M·N unless
// the op shifts it), fn outRowStride() -> u32 (N unless out is a window of wider rows), and
// fn prior(i: u32) -> f32, what a store adds to (0, or out[i] where an op accumulates over
// dispatches). out[outBase(z) + m·outRowStride() + n] = epilogue(Σ_k A[m, k]·B[k, n] + prior, n).

const TILE = 64u; // output rows and columns per workgroup
const TK = 16u;   // k per staged slab
var<workgroup> As: array<f32, 1024>; // [TK][TILE]: As[kk * TILE + m]
var<workgroup> Bs: array<f32, 1024>; // [TK][TILE]: Bs[kk * TILE + n]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = wid.y * nwg.x + wid.x;
  // g is the same for the whole workgroup, so the barriers below stay in uniform control flow.
  if (g >= p.count) { return; }
  let rest = g / p.tilesN;
  let col0 = (g % p.tilesN) * TILE;
  let row0 = (rest % p.tilesM) * TILE;
  let z = rest / p.tilesM;
  let K = gemmBegin(z);
  // This invocation owns rows lid.y + 16i and columns lid.x + 16j (i, j < 4): neighbouring
  // invocations read neighbouring words of Bs and write neighbouring words of out.
  var c00 = 0.0; var c01 = 0.0; var c02 = 0.0; var c03 = 0.0;
  var c10 = 0.0; var c11 = 0.0; var c12 = 0.0; var c13 = 0.0;
  var c20 = 0.0; var c21 = 0.0; var c22 = 0.0; var c23 = 0.0;
  var c30 = 0.0; var c31 = 0.0; var c32 = 0.0; var c33 = 0.0;
  for (var k0 = 0u; k0 < K; k0 += TK) {
    for (var s = 0u; s < 4u; s++) {
      let e = li + s * 256u;
      var ka = e / TILE; var m = e % TILE;
      if (A_K_CONTIGUOUS) { ka = e % TK; m = e / TK; }
      var av = 0.0;
      if (row0 + m < p.M && k0 + ka < K) { av = loadA(row0 + m, k0 + ka); }
      As[ka * TILE + m] = av;
      var kb = e % TK; var n = e / TK;
      if (B_N_CONTIGUOUS) { kb = e / TILE; n = e % TILE; }
      var bv = 0.0;
      if (col0 + n < p.N && k0 + kb < K) { bv = loadB(k0 + kb, col0 + n); }
      Bs[kb * TILE + n] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let r = kk * TILE + lid.y;
      let a0 = As[r]; let a1 = As[r + 16u]; let a2 = As[r + 32u]; let a3 = As[r + 48u];
      let q = kk * TILE + lid.x;
      let b0 = Bs[q]; let b1 = Bs[q + 16u]; let b2 = Bs[q + 32u]; let b3 = Bs[q + 48u];
      c00 = fma(a0, b0, c00); c01 = fma(a0, b1, c01); c02 = fma(a0, b2, c02); c03 = fma(a0, b3, c03);
      c10 = fma(a1, b0, c10); c11 = fma(a1, b1, c11); c12 = fma(a1, b2, c12); c13 = fma(a1, b3, c13);
      c20 = fma(a2, b0, c20); c21 = fma(a2, b1, c21); c22 = fma(a2, b2, c22); c23 = fma(a2, b3, c23);
      c30 = fma(a3, b0, c30); c31 = fma(a3, b1, c31); c32 = fma(a3, b2, c32); c33 = fma(a3, b3, c33);
    }
    workgroupBarrier();
  }
  let o = outBase(z);
  store(o, row0 + lid.y, col0 + lid.x, vec4<f32>(c00, c01, c02, c03));
  store(o, row0 + lid.y + 16u, col0 + lid.x, vec4<f32>(c10, c11, c12, c13));
  store(o, row0 + lid.y + 32u, col0 + lid.x, vec4<f32>(c20, c21, c22, c23));
  store(o, row0 + lid.y + 48u, col0 + lid.x, vec4<f32>(c30, c31, c32, c33));
}

// Writes one row's four values (columns col, col + 16, col + 32, col + 48), each added to its
// prior then passed through the epilogue, skipping those outside out.
fn store(o: u32, row: u32, col: u32, v: vec4<f32>) {
  if (row >= p.M) { return; }
  let base = o + row * outRowStride();
  for (var j = 0u; j < 4u; j++) {
    let i = base + col + 16u * j;
    if (col + 16u * j < p.N) { out[i] = epilogue(v[j] + prior(i), col + 16u * j); }
  }
}
