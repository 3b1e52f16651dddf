// maxPool2d for C a multiple of 4: out[b, oy, ox, 4·c4 …] = the max of x over window (oy, ox),
// four channels per invocation (pool_common + pool_argmax4 prepended). Invocations and shifts
// count vec4s.
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let w = windowOf4(i);
  out[i - p.oShift] = windowArgMax4(w.x, w.y, w.z, w.w).best;
}
