// softmaxCrossEntropy, forward: loss[row] = Σ_j labels[j]·(log s − (x_j − m)), m = max_j x_j,
// s = Σ_j exp(x_j − m) — i.e. −Σ labels·logSoftmax(x), taken relative to the max so logits
// like 1e4 lose no precision. One invocation per row. The op prepends WGSL_PRELUDE (nt_max,
// nt_exp, nt_log: NaN kept as IEEE has it), `alias Label = i32|f32;` and `const SPARSE: bool`;
// sparse labels hold one class index per row, and an index outside [0, classes) gives NaN (a
// GPU cannot throw; NaN makes the bad label visible in the loss).
// Split over tensors larger than one binding (losses.ts), a dispatch covers rows [first, rows) and
// indexes each binding relative to its window: logits (and dense labels, dx) by xShift, sparse
// labels by labelShift, the per-row loss or dy by rowShift.
struct Params { rows: u32, classes: u32, first: u32, xShift: u32, labelShift: u32, rowShift: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<Label>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// A function argument keeps the NaN a runtime value (a NaN constant is a WGSL error).
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
}
