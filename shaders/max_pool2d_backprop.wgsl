// Gradient of maxPool2d: dx[i] = Σ dy over the windows whose max (recomputed from x) is element i.
// One invocation per dx element gathers over the windows covering it, in the same (oy, ox) order
// as the CPU loop, so no atomics are needed. The body of main: pool.ts opens it (bindings x, dy, dx)
// with pool_common + pool_argmax.
  let e = inputElement(i);
  let w = windowsCovering(e);
  var acc = 0.0;
  for (var oy = w.x; oy < w.y; oy++) {
    for (var ox = w.z; ox < w.w; ox++) {
      if (windowArgMax(e.x, oy, ox, e.w) == i) {
        acc += dy[((e.x * p.outH + oy) * p.outW + ox) * p.C + e.w - p.bShift];
      }
    }
  }
  dx[i - p.oShift] = acc;
