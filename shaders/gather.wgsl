// gather: out[o, j, k] = x[o, indices[j], k], with x viewed as [outer, axisDim, inner].
// Indices outside [0, axisDim) read 0, as on every backend (a GPU cannot throw).
// For tensors larger than one binding the kernel runs in parts: outputs [first, n) bound from
// element outBase, the indices they read bound from idxBase, and table rows [rowLo, rowHi)
// (row = o * axisDim + index) bound from xBase; each part writes only the outputs whose row lies
// in its window. One part: all rows, bases 0.
// The body of main: transform.ts opens it (bindings x, indices, out).
  let k = i % p.inner;
  let j = (i / p.inner) % p.nIdx;
  let o = i / (p.inner * p.nIdx);
  let idx = indices[j - p.idxBase];
  if (idx < 0 || u32(idx) >= p.axisDim) { out[i - p.outBase] = 0.0; return; }
  let row = o * p.axisDim + u32(idx);
  if (row < p.rowLo || row >= p.rowHi) { return; }
  out[i - p.outBase] = x[row * p.inner + k - p.xBase];
