// maxPool2d: out[b, oy, ox, c] = the max of x over window (oy, ox). The body of main: pool.ts opens it
// (bindings x, out) with pool_common + pool_argmax.
  let c = i % p.C;
  let ox = i / p.C % p.outW;
  let oy = i / p.C / p.outW % p.outH;
  let b = i / p.C / p.outW / p.outH;
  out[i - p.oShift] = x[windowArgMax(b, oy, ox, c) - p.aShift];
