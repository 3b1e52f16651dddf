// gather: out[o, j, k] = x[o, indices[j], k], with x viewed as [outer, axisDim, inner].
// Indices outside [0, axisDim) read 0, as on every backend (a GPU cannot throw).
// For tensors larger than one binding the kernel runs in parts: outputs [first, n) bound from
// element outBase, the indices they read bound from idxBase, and table rows [rowLo, rowHi)
// (row = o * axisDim + index) bound from xBase; each part writes only the outputs whose row lies
// in its window. One part: all rows, bases 0.
struct Params { n: u32, first: u32, outBase: u32, axisDim: u32, nIdx: u32, inner: u32, rowLo: u32, rowHi: u32, xBase: u32, idxBase: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = p.first + gid.y * nwg.x * 64u + gid.x;
  if (i >= p.n) { return; }
  let k = i % p.inner;
  let j = (i / p.inner) % p.nIdx;
  let o = i / (p.inner * p.nIdx);
  let idx = indices[j - p.idxBase];
  if (idx < 0 || u32(idx) >= p.axisDim) { out[i - p.outBase] = 0.0; return; }
  let row = o * p.axisDim + u32(idx);
  if (row < p.rowLo || row >= p.rowHi) { return; }
  out[i - p.outBase] = x[row * p.inner + k - p.xBase];
}
