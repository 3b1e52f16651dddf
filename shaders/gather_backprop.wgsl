// Gradient of gather: dx[o, a, k] = Σ_j [indices[j] == a] · dy[o, j, k].
// Each invocation owns one dx element and loops over the indices, so no atomics are needed
// (WGSL has no float atomics) and the sum order is fixed, matching the CPU exactly.
// For a dx larger than one binding the kernel runs in parts: elements [first, n) of dx, bound
// from element dxBase (one part: first 0, dxBase 0).
// The body of main: transform.ts opens it (bindings dy, indices, dx).
  let k = i % p.inner;
  let a = i32((i / p.inner) % p.axisDim);
  let o = i / (p.inner * p.axisDim);
  var acc = 0.0;
  for (var j = 0u; j < p.nIdx; j++) {
    if (indices[j] == a) { acc += dy[(o * p.nIdx + j) * p.inner + k]; }
  }
  dx[i - p.dxBase] = acc;
