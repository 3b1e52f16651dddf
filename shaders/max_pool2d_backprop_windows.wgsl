// Gradient of maxPool2d when windows do not overlap (strides ≥ pool size) and C is a multiple of 4:
// one invocation per window and four channels finds the window's max once and writes every dx
// element the window owns: dy at the max, 0 elsewhere. Window o owns, along each axis, the input
// coordinates from its start (0 for the first window) to the next window's start (the input's end
// for the last), so the windows' parts tile dx and uncovered rows and columns get their zeros too.
// Same sums as max_pool2d_backprop.wgsl, where each element has at most one window. The body of
// main: pool.ts opens it (bindings x, dy, dx as vec4s) with pool_common + pool_argmax4. Invocations
// and shifts count vec4s; split (pool.ts), a dispatch takes whole pooled rows and dx is bound over
// the rows they own.
  let n4 = p.C / 4u;
  let w = windowOf4(i);
  let b = w.x;
  let c4 = w.w;
  let at = windowArgMax4(b, w.y, w.z, c4).at;
  let g = dy[i - p.bShift];
  let ry = owned(w.y, p.sh, p.pt, p.outH, p.H);
  let rx = owned(w.z, p.sw, p.pl, p.outW, p.W);
  for (var y = ry.x; y < ry.y; y++) {
    let row = (b * p.H + y) * p.W;
    for (var xx = rx.x; xx < rx.y; xx++) {
      let pix = row + xx;
      dx[pix * n4 + c4 - p.oShift] = select(vec4<f32>(0.0), g, at == vec4<u32>(pix));
    }
  }
