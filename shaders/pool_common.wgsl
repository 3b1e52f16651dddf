// Prepended to every pooling shader: the parameters and the window geometry (NHWC).
// Window (oy, ox) covers input rows oy·sh − pt … oy·sh − pt + ph − 1 (columns alike); positions
// outside the input (SAME padding) are left out, as TF does, so the CPU loops match exactly.
// Over tensors larger than one binding (pool.ts), a dispatch covers elements [first, n) of its
// output, and each binding is indexed relative to its window: the first input by aShift, the second
// (maxPool2d's gradient: dy) by bShift, the output by oShift. Indices are otherwise global.
struct Params { n: u32, C: u32, H: u32, W: u32, outH: u32, outW: u32, ph: u32, pw: u32, sh: u32, sw: u32, pt: u32, pl: u32, first: u32, aShift: u32, bShift: u32, oShift: u32 }

/** The flat invocation index of a 2-D dispatch of 64-wide workgroups (see linearWorkgroups). */
fn flatIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.y * nwg.x * 64u + gid.x + p.first;
}

/** First input coordinate of window o along an axis (negative inside the padding). */
fn windowStart(o: u32, s: u32, pad: u32) -> i32 {
  return i32(o * s) - i32(pad);
}

/** The window's taps [lo, hi) that fall inside an axis of `size`, for a window of k taps at `start`. */
fn inside(start: i32, k: u32, size: u32) -> vec2<u32> {
  return vec2<u32>(u32(max(-start, 0)), u32(clamp(i32(size) - start, 0, i32(k))));
}

/** In-bounds elements of window (oy, ox): the divisor of an average. */
fn windowCount(oy: u32, ox: u32) -> f32 {
  let ry = inside(windowStart(oy, p.sh, p.pt), p.ph, p.H);
  let rx = inside(windowStart(ox, p.sw, p.pl), p.pw, p.W);
  return f32((ry.y - ry.x) * (rx.y - rx.x));
}

/** Windows [lo, hi) along an axis whose taps cover input coordinate i (lo ≥ hi when none). */
fn covering(i: u32, k: u32, s: u32, pad: u32, outSize: u32) -> vec2<u32> {
  let first = i32(i + pad) - i32(k) + 1;
  let lo = select(0u, (u32(first) + s - 1u) / s, first > 0);
  return vec2<u32>(lo, min((i + pad) / s + 1u, outSize));
}
