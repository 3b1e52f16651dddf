// Gradient of maxPool2d: dx[i] = Σ dy over the windows whose max (recomputed from x) is element i.
// One invocation per dx element gathers over the windows covering it, in the same (oy, ox) order
// as the CPU loop, so no atomics are needed (pool_common + pool_argmax prepended).
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

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
      if (windowArgMax(b, oy, ox, c) == i) {
        acc += dy[((b * p.outH + oy) * p.outW + ox) * p.C + c - p.bShift];
      }
    }
  }
  dx[i - p.oShift] = acc;
}
