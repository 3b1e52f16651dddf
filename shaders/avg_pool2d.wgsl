// avgPool2d: out[b, oy, ox, c] = the mean of x over the in-bounds part of window (oy, ox)
// (TF divides by the count of real, non-padded elements). The body of main: pool.ts opens it
// (bindings x, out) with pool_common.wgsl.
  let c = i % p.C;
  let ox = i / p.C % p.outW;
  let oy = i / p.C / p.outW % p.outH;
  let b = i / p.C / p.outW / p.outH;
  let y0 = windowStart(oy, p.sh, p.pt);
  let x0 = windowStart(ox, p.sw, p.pl);
  let ry = inside(y0, p.ph, p.H);
  let rx = inside(x0, p.pw, p.W);
  var acc = 0.0;
  for (var ky = ry.x; ky < ry.y; ky++) {
    let row = (b * p.H + u32(y0 + i32(ky))) * p.W;
    for (var kx = rx.x; kx < rx.y; kx++) {
      acc += x[(row + u32(x0 + i32(kx))) * p.C + c - p.aShift];
    }
  }
  out[i - p.oShift] = acc / windowCount(oy, ox);
