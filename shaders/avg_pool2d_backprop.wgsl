// Gradient of avgPool2d: dx[b, iy, ix, c] = Σ over windows covering (iy, ix) of dy / (window count),
// gathered per dx element in the CPU loop's (oy, ox) order. The body of main: pool.ts opens it
// (bindings dy, dx) with pool_common.wgsl.
  let e = inputElement(i);
  let w = windowsCovering(e);
  var acc = 0.0;
  for (var oy = w.x; oy < w.y; oy++) {
    for (var ox = w.z; ox < w.w; ox++) {
      acc += dy[((e.x * p.outH + oy) * p.outW + ox) * p.C + e.w - p.aShift] / windowCount(oy, ox);
    }
  }
  dx[i - p.oShift] = acc;
