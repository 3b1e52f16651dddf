// Gradient of gather: dx[o, a, k] = Σ_j [indices[j] == a] · dy[o, j, k].
// Each invocation owns one dx element and loops over the indices, so no atomics are needed
// (WGSL has no float atomics) and the sum order is fixed, matching the CPU exactly.
// For tensors larger than one binding the kernel runs in parts: elements [first, n) of dx, bound
// from element dxBase, summing index positions [jLo, jHi), with dy bound from dyBase and indices
// from idxBase. Parts over later positions run after earlier ones and add to what they wrote, so
// the sum order is that of one dispatch (one part: first 0, bases 0, jLo 0, jHi nIdx).
struct Params { n: u32, first: u32, dxBase: u32, axisDim: u32, nIdx: u32, inner: u32, dyBase: u32, idxBase: u32, jLo: u32, jHi: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = p.first + gid.y * nwg.x * 64u + gid.x;
  if (i >= p.n) { return; }
  let k = i % p.inner;
  let a = i32((i / p.inner) % p.axisDim);
  let o = i / (p.inner * p.axisDim);
  var acc = 0.0;
  if (p.jLo > 0u) { acc = dx[i - p.dxBase]; }
  for (var j = p.jLo; j < p.jHi; j++) {
    if (indices[j - p.idxBase] == a) { acc += dy[(o * p.nIdx + j) * p.inner + k - p.dyBase]; }
  }
  dx[i - p.dxBase] = acc;
}
