// The vec4 twin of pool_argmax.wgsl, for C a multiple of 4: one invocation takes four channels, so
// they share the window's index math and load as one vec4. Same rule in each lane: the first
// in-bounds element starts the max, a later one replaces it only when greater (or NaN).
// Reads `x` (array<vec4<f32>>, indexed relative to its window by aShift, in vec4s) and `p`,
// declared by the opening pool.ts writes.

/** The max of a window per lane, and where it is: the pixel (b·H + y)·W + x, or 0xffffffff for no tap. */
struct WindowMax4 { best: vec4<f32>, at: vec4<u32> }

/** The window and channel group of vec4 invocation i over [B, outH, outW, C/4]: (b, oy, ox, c4). */
fn windowOf4(i: u32) -> vec4<u32> {
  let n4 = p.C / 4u;
  return vec4<u32>(i / n4 / p.outW / p.outH, i / n4 / p.outW % p.outH, i / n4 % p.outW, i % n4);
}

/** Max of window (b, oy, ox) in channels 4·c4 … 4·c4 + 3. */
fn windowArgMax4(b: u32, oy: u32, ox: u32, c4: u32) -> WindowMax4 {
  let y0 = windowStart(oy, p.sh, p.pt);
  let x0 = windowStart(ox, p.sw, p.pl);
  let ry = inside(y0, p.ph, p.H);
  let rx = inside(x0, p.pw, p.W);
  let n4 = p.C / 4u;
  var best = vec4<f32>(0.0);
  var at = vec4<u32>(0xffffffffu);
  var first = vec4<bool>(true);
  for (var ky = ry.x; ky < ry.y; ky++) {
    let row = (b * p.H + u32(y0 + i32(ky))) * p.W;
    for (var kx = rx.x; kx < rx.y; kx++) {
      let pix = row + u32(x0 + i32(kx));
      let v = x[pix * n4 + c4 - p.aShift];
      // WGSL lets compilers assume no NaN (`v != v` may fold to false), so test the bits.
      let nan = (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
      let take = first | (v > best) | nan;
      best = select(best, v, take);
      at = select(at, vec4<u32>(pix), take);
      first = vec4<bool>(false);
    }
  }
  return WindowMax4(best, at);
}
