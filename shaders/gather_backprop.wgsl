// Gradient of gather: dx[o, a, k] = Σ_j [indices[j] == a] · dy[o, j, k].
// Each invocation owns one dx element and loops over the indices, so no atomics are needed
// (WGSL has no float atomics) and the sum order is fixed, matching the CPU exactly.
// For tensors larger than one binding the kernel runs in parts: elements [first, n) of dx, bound
// from element dxBase, summing index positions [jLo, jHi), with dy bound from dyBase and indices
// from idxBase. Parts over later positions run after earlier ones and add to what they wrote, so
// the sum order is that of one dispatch (one part: first 0, bases 0, jLo 0, jHi nIdx).
// The body of main: transform.ts opens it (bindings dy, indices, dx).
  let k = i % p.inner;
  let a = i32((i / p.inner) % p.axisDim);
  let o = i / (p.inner * p.axisDim);
  var acc = 0.0;
  if (p.jLo > 0u) { acc = dx[i - p.dxBase]; }
  for (var j = p.jLo; j < p.jHi; j++) {
    if (indices[j - p.idxBase] == a) { acc += dy[(o * p.nIdx + j) * p.inner + k - p.dyBase]; }
  }
  dx[i - p.dxBase] = acc;
