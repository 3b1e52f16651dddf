// softmaxCrossEntropy, forward: loss[row] = Σ_j labels[j]·(log s − (x_j − m)), m = max_j x_j,
// s = Σ_j exp(x_j − m) — i.e. −Σ labels·logSoftmax(x), taken relative to the max so logits
// like 1e4 lose no precision. One invocation per row: the body of main, which losses.ts opens
// (bindings logits, labels, loss) with WGSL_PRELUDE (nt_max, nt_exp, nt_log: NaN kept as IEEE
// has it), `alias Label = i32|f32;`, `const SPARSE: bool` and rowStats.
// Sparse labels hold one class index per row, and an index outside [0, classes) gives NaN (a GPU
// cannot throw; NaN makes the bad label visible in the loss).
// Split over tensors larger than one binding (losses.ts), a dispatch covers rows [first, rows) and
// indexes each binding relative to its window: logits (and dense labels, dx) by xShift, sparse
// labels by labelShift, the per-row loss or dy by rowShift.
  let base = row * p.classes - p.xShift;
  let stats = rowStats(base);
  let m = stats.x;
  let s = stats.y;
  let logS = nt_log(s);
  if (SPARSE) {
    let t = i32(labels[row - p.labelShift]);
    if (t < 0 || u32(t) >= p.classes) { loss[row - p.rowShift] = bits_to_f32(0x7fc00000u); return; }
    loss[row - p.rowShift] = logS - (logits[base + u32(t)] - m);
  } else {
    var acc = 0.0;
    for (var j = 0u; j < p.classes; j++) { acc += f32(labels[base + j]) * (logS - (logits[base + j] - m)); }
    loss[row - p.rowShift] = acc;
  }
