// Gradient of avgPool2d: dx[b, iy, ix, c] = Σ over windows covering (iy, ix) of dy / (window count),
// gathered per dx element in the CPU loop's (oy, ox) order. The body of main: pool.ts opens it
// (bindings dy, dx) with pool_common.wgsl.
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
