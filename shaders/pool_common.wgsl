// The window geometry every pooling shader shares (NHWC), after the opening pool.ts declares.
// Window (oy, ox) covers input rows oy·sh − pt … oy·sh − pt + ph − 1 (columns alike); positions
// outside the input (SAME padding) are left out, as TF does, so the CPU loops match exactly.
// Over tensors larger than one binding (pool.ts), a dispatch covers elements [first, n) of its
// output, and each binding is indexed relative to its window: the first input by aShift, the second
// (maxPool2d's gradient: dy) by bShift, the output by oShift. Indices are otherwise global.

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

/** The pixel and channel (b, iy, ix, c) of element i of an input-shaped [B, H, W, C] array (the gradients' dx). */
fn inputElement(i: u32) -> vec4<u32> {
  return vec4<u32>(i / p.C / p.W / p.H, i / p.C / p.W % p.H, i / p.C % p.W, i % p.C);
}

/** Windows [lo, hi) along an axis whose taps cover input coordinate i (lo ≥ hi when none). */
fn covering(i: u32, k: u32, s: u32, pad: u32, outSize: u32) -> vec2<u32> {
  let first = i32(i + pad) - i32(k) + 1;
  let lo = select(0u, (u32(first) + s - 1u) / s, first > 0);
  return vec2<u32>(lo, min((i + pad) / s + 1u, outSize));
}

/** The input coordinates [lo, hi) that window o owns along an axis of `size` with `outSize` windows. */
fn owned(o: u32, s: u32, pad: u32, outSize: u32, size: u32) -> vec2<u32> {
  let lo = select(u32(clamp(i32(o * s) - i32(pad), 0, i32(size))), 0u, o == 0u);
  let hi = select(u32(clamp(i32((o + 1u) * s) - i32(pad), 0, i32(size))), size, o + 1u == outSize);
  return vec2<u32>(lo, hi);
}

/** The windows covering input element e = (b, iy, ix, c): rows [x, y) and columns [z, w) of the pooled grid. */
fn windowsCovering(e: vec4<u32>) -> vec4<u32> {
  return vec4<u32>(covering(e.y, p.ph, p.sh, p.pt, p.outH), covering(e.z, p.pw, p.sw, p.pl, p.outW));
}
