// maxPool2d for C a multiple of 4: out[b, oy, ox, 4·c4 …] = the max of x over window (oy, ox),
// four channels per invocation. The body of main: pool.ts opens it (bindings x, out as vec4s) with
// pool_common + pool_argmax4. Invocations and shifts count vec4s.
  let w = windowOf4(i);
  out[i - p.oShift] = windowArgMax4(w.x, w.y, w.z, w.w).best;
