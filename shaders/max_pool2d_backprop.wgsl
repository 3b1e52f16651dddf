// Gradient of maxPool2d: dx[i] = Σ dy over the windows whose max (recomputed from x) is element i.
// One invocation per dx element gathers over the windows covering it, in the same (oy, ox) order
// as the CPU loop, so no atomics are needed. The body of main: pool.ts opens it (bindings x, dy, dx)
// with pool_common + pool_argmax.
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
