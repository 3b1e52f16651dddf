// maxPool2d: out[b, oy, ox, c] = the max of x over window (oy, ox) (pool_common + pool_argmax prepended).
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let c = i % p.C;
  let ox = i / p.C % p.outW;
  let oy = i / p.C / p.outW % p.outH;
  let b = i / p.C / p.outW / p.outH;
  out[i - p.oShift] = x[windowArgMax(b, oy, ox, c) - p.aShift];
}
