// Gradient of avgPool2d: dx[b, iy, ix, c] = Σ over windows covering (iy, ix) of dy / (window count),
// gathered per dx element in the CPU loop's (oy, ox) order. pool_common is prepended.
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let c = i % p.C;
  let ix = i / p.C % p.W;
  let iy = i / p.C / p.W % p.H;
  let b = i / p.C / p.W / p.H;
  let ry = covering(iy, p.ph, p.sh, p.pt, p.outH);
  let rx = covering(ix, p.pw, p.sw, p.pl, p.outW);
  var acc = 0.0;
  for (var oy = ry.x; oy < ry.y; oy++) {
    for (var ox = rx.x; ox < rx.y; ox++) {
      acc += dy[((b * p.outH + oy) * p.outW + ox) * p.C + c - p.aShift] / windowCount(oy, ox);
    }
  }
  dx[i - p.oShift] = acc;
}
