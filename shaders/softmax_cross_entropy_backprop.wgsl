// softmaxCrossEntropy, gradient w.r.t. the logits: dx_j = dy[row]·(softmax_j·Σlabels − labels_j),
// which is dy·(softmax − onehot) for sparse or normalised labels. One invocation per row; the
// header (`alias Label`, `const SPARSE`) is the forward's. An out-of-range sparse label gives NaN.
// Split over tensors larger than one binding (losses.ts), a dispatch covers rows [first, rows) and
// indexes each binding relative to its window: logits (and dense labels, dx) by xShift, sparse
// labels by labelShift, the per-row loss or dy by rowShift.
struct Params { rows: u32, classes: u32, first: u32, xShift: u32, labelShift: u32, rowShift: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<Label>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn bits_to_f32(u: u32) -> f32 { return bitcast<f32>(u); }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.y * nwg.x * 64u + gid.x + p.first;
  if (row >= p.rows) { return; }
  let base = row * p.classes - p.xShift;
  var m = logits[base];
  for (var j = 1u; j < p.classes; j++) { m = nt_max(m, logits[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.classes; j++) { s += nt_exp(logits[base + j] - m); }
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
}
