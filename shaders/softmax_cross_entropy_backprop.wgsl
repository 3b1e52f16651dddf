// softmaxCrossEntropy, gradient w.r.t. the logits: dx_j = dy[row]·(softmax_j·Σlabels − labels_j),
// which is dy·(softmax − onehot) for sparse or normalised labels. One invocation per row: the
// body of main, opened as the forward's is (bindings logits, labels, dy, dx). An out-of-range
// sparse label gives NaN.
// Split over tensors larger than one binding (losses.ts), a dispatch covers rows [first, rows) and
// indexes each binding relative to its window: logits (and dense labels, dx) by xShift, sparse
// labels by labelShift, the per-row loss or dy by rowShift.
  let base = row * p.classes - p.xShift;
  let stats = rowStats(base);
  let m = stats.x;
  let s = stats.y;
  let g = dy[row - p.rowShift];
  if (SPARSE) {
    let t = i32(labels[row - p.labelShift]);
    let valid = t >= 0 && u32(t) < p.classes;
    for (var j = 0u; j < p.classes; j++) {
      let soft = nt_exp(logits[base + j] - m) / s;
      let v = g * (soft - select(0.0, 1.0, i32(j) == t));
      dx[base + j] = select(bits_to_f32(0x7fc00000u), v, valid);
    }
  } else {
    var total = 0.0;
    for (var j = 0u; j < p.classes; j++) { total += f32(labels[base + j]); }
    for (var j = 0u; j < p.classes; j++) {
      let soft = nt_exp(logits[base + j] - m) / s;
      dx[base + j] = g * (soft * total - f32(labels[base + j]));
    }
  }
