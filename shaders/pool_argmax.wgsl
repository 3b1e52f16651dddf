// The helper max_pool2d and max_pool2d_backprop share, so the forward pass and the gradient pick the
// same element: the first in-bounds element in row-major window order starts the max, and a later
// one replaces it only when greater (or NaN, which propagates). Ties go to the first.
// Reads `x` and `p`, declared by the opening pool.ts writes.

/** Flat index into x of the max of window (b, oy, ox) in channel c. */
fn windowArgMax(b: u32, oy: u32, ox: u32, c: u32) -> u32 {
  let y0 = windowStart(oy, p.sh, p.pt);
  let x0 = windowStart(ox, p.sw, p.pl);
  let ry = inside(y0, p.ph, p.H);
  let rx = inside(x0, p.pw, p.W);
  var best = 0.0;
  var at = 0u;
  var found = false;
  for (var ky = ry.x; ky < ry.y; ky++) {
    let row = (b * p.H + u32(y0 + i32(ky))) * p.W;
    for (var kx = rx.x; kx < rx.y; kx++) {
      let idx = (row + u32(x0 + i32(kx))) * p.C + c;
      let v = x[idx - p.aShift];
      // WGSL lets compilers assume no NaN (`v != v` may fold to false), so test the bits.
      if (!found || v > best || (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) {
        best = v;
        at = idx;
        found = true;
      }
    }
  }
  return at;
}
