// Gradient of maxPool2d when windows do not overlap (strides ≥ pool size) and C is a multiple of 4:
// one invocation per window and four channels finds the window's max once and writes every dx
// element the window owns: dy at the max, 0 elsewhere. Window o owns, along each axis, the input
// coordinates from its start (0 for the first window) to the next window's start (the input's end
// for the last), so the windows' parts tile dx and uncovered rows and columns get their zeros too.
// Same sums as max_pool2d_backprop.wgsl, where each element has at most one window (pool_common +
// pool_argmax4 prepended). Invocations and shifts count vec4s; split (pool.ts), a dispatch takes
// whole pooled rows and dx is bound over the rows they own.
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> p: Params;

/** The input coordinates [lo, hi) that window o owns along an axis of `size` with `outSize` windows. */
fn owned(o: u32, s: u32, pad: u32, outSize: u32, size: u32) -> vec2<u32> {
  let lo = select(u32(clamp(i32(o * s) - i32(pad), 0, i32(size))), 0u, o == 0u);
  let hi = select(u32(clamp(i32((o + 1u) * s) - i32(pad), 0, i32(size))), size, o + 1u == outSize);
  return vec2<u32>(lo, hi);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flatIndex(gid, nwg);
  if (i >= p.n) { return; }
  let n4 = p.C / 4u;
  let w = windowOf4(i);
  let b = w.x;
  let c4 = w.w;
  let at = windowArgMax4(b, w.y, w.z, c4).at;
  let g = dy[i - p.bShift];
  let ry = owned(w.y, p.sh, p.pt, p.outH, p.H);
  let rx = owned(w.z, p.sw, p.pl, p.outW, p.W);
  for (var y = ry.x; y < ry.y; y++) {
    let row = (b * p.H + y) * p.W;
    for (var xx = rx.x; xx < rx.y; xx++) {
      let pix = row + xx;
      dx[pix * n4 + c4 - p.oShift] = select(vec4<f32>(0.0), g, at == vec4<u32>(pix));
    }
  }
}
