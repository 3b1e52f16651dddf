// Losses with TF.js names, each a mean over a per-element or per-row op with a fused gradient:
// meanSquaredError, binaryCrossentropy (on probabilities or logits) and softmaxCrossEntropy,
// whose row kernel lives in shaders/softmax_cross_entropy*.wgsl beside its CPU twin here.
import sceWgsl from '../../shaders/softmax_cross_entropy.wgsl?raw';
import sceBackpropWgsl from '../../shaders/softmax_cross_entropy_backprop.wgsl?raw';
import { kernelParams } from '../backend/skeleton.js';
import { linearWorkgroups, type KernelCall } from '../backend/kernel.js';
import { splitItems, type Span } from '../backend/split.js';
import type { TypedArray } from '../dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { E, WGSL_PRELUDE, type Expr } from './elementwise/expr.js';
import { contiguousInput, elementwiseCall } from './elementwise/kernel.js';
import { map } from './elementwise/map.js';
import type { OpDef } from './op.js';
import { mul } from './binary.js';
import { mean } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { expandDims } from './transform.js';
import { neg } from './unary.js';

/** Keras' epsilon: predictions are clipped to [EPSILON, 1 − EPSILON] before taking logs. */
export const EPSILON = 1e-7;

// ---- elementwise losses: one row each, forward of (labels, predictions), partials of (dy, labels, predictions)

const z = E.input(0);
const p = E.input(1);
const dy = E.input(0);
const gz = E.input(1);
const gp = E.input(2);
const one = E.const(1);
const two = E.const(2);

interface PairLoss {
  readonly name: string;
  /** The public function, named in errors. */
  readonly api: string;
  readonly forward: Expr;
  readonly dLabels: Expr;
  readonly dPredictions: Expr;
}

/** min(max(p, ε), 1 − ε), with ε and 1 − ε as attributes 0 and 1. */
const clipped = (x: Expr): Expr => E.min(E.max(x, E.attr(0)), E.attr(1));
const sigmoidOf = (x: Expr): Expr => E.div(one, E.add(one, E.exp(E.neg(x))));

const PAIR_LOSSES: Record<string, PairLoss> = {
  // (p − z)²; ∂/∂p = 2(p − z), ∂/∂z = −2(p − z)
  squaredDifference: {
    name: 'squaredDifference',
    api: 'meanSquaredError',
    forward: E.mul(E.sub(p, z), E.sub(p, z)),
    dLabels: E.mul(dy, E.mul(two, E.sub(gz, gp))),
    dPredictions: E.mul(dy, E.mul(two, E.sub(gp, gz))),
  },
  // −(z log p̂ + (1 − z) log(1 − p̂)), p̂ = clip(p, ε, 1 − ε);
  // ∂/∂p = [ε ≤ p ≤ 1 − ε]·((1 − z)/(1 − p̂) − z/p̂), ∂/∂z = log(1 − p̂) − log p̂
  binaryCrossentropy: {
    name: 'binaryCrossentropy',
    api: 'binaryCrossentropy',
    forward: E.neg(E.add(E.mul(z, E.log(clipped(p))), E.mul(E.sub(one, z), E.log(E.sub(one, clipped(p)))))),
    dLabels: E.mul(dy, E.sub(E.log(E.sub(one, clipped(gp))), E.log(clipped(gp)))),
    dPredictions: E.select(
      E.mul(E.ge(gp, E.attr(0)), E.le(gp, E.attr(1))),
      E.mul(dy, E.sub(E.div(E.sub(one, gz), E.sub(one, clipped(gp))), E.div(gz, clipped(gp)))),
      E.const(0),
    ),
  },
  // On logits x: max(x, 0) − x·z + log(1 + e^−|x|), the stable form of −z log σ(x) − (1 − z) log(1 − σ(x));
  // ∂/∂x = σ(x) − z (exact at x = 0 too, where a composite of relu and abs would be off by ½), ∂/∂z = −x
  sigmoidCrossEntropy: {
    name: 'sigmoidCrossEntropy',
    api: 'binaryCrossentropy',
    forward: E.add(E.sub(E.max(p, E.const(0)), E.mul(p, z)), E.log(E.add(one, E.exp(E.neg(E.abs(p)))))),
    dLabels: E.neg(E.mul(dy, gp)),
    dPredictions: E.mul(dy, E.sub(sigmoidOf(gp), gz)),
  },
};

interface PairAttrs {
  readonly values: readonly number[];
}

function pairLossDef(spec: PairLoss): OpDef<PairAttrs> {
  return {
    name: spec.name,
    outputs([labels, predictions]) {
      if (labels.dtype !== 'float32' || predictions.dtype !== 'float32') {
        throw new DTypeError(
          `${spec.api}: labels are ${labels.dtype} ${fmtShape(labels.shape)} and predictions ${predictions.dtype} ${fmtShape(predictions.shape)}; expected float32 (cast() them)`,
        );
      }
      // No broadcasting: labels [n] against predictions [n, 1] would silently become [n, n].
      if (!shapesEqual(labels.shape, predictions.shape)) {
        throw new ShapeError(`${spec.api}: labels have shape ${fmtShape(labels.shape)} but predictions ${fmtShape(predictions.shape)} (expected the same shape)`);
      }
      return [{ shape: labels.shape.slice(), dtype: 'float32' }];
    },
    kernel: (_inputs, [out], { values }) =>
      elementwiseCall(spec.name, spec.forward, [contiguousInput('float32', out.shape), contiguousInput('float32', out.shape)], out.shape, 'float32', values),
    grad: ([g], [labels, predictions], _o, { values }, needs) => [
      needs[0] ? map(`${spec.name}GradLabels`, spec.dLabels, [g, labels, predictions], values) : null,
      needs[1] ? map(`${spec.name}GradPredictions`, spec.dPredictions, [g, labels, predictions], values) : null,
    ],
  };
}

/** (p − z)² elementwise. */
export const squaredDifferenceOp = pairLossDef(PAIR_LOSSES.squaredDifference);
/** Binary cross-entropy of probabilities, elementwise (attributes: ε, 1 − ε). */
export const binaryCrossentropyOp = pairLossDef(PAIR_LOSSES.binaryCrossentropy);
/** Binary cross-entropy of logits, elementwise. */
export const sigmoidCrossEntropyOp = pairLossDef(PAIR_LOSSES.sigmoidCrossEntropy);

/** Mean of (predictions − labels)² over all elements; the shapes must match. */
export function meanSquaredError(labels: Tensor, predictions: Tensor): Tensor {
  return mean(engine.runOp(squaredDifferenceOp, [labels, predictions], { values: [] })[0]);
}

/**
 * Mean binary cross-entropy over all elements, labels in [0, 1]. Predictions are probabilities
 * clipped to [1e-7, 1 − 1e-7] as Keras does (no gradient flows outside), or logits with
 * `fromLogits`, computed as max(x, 0) − x·z + log(1 + e^−|x|) so large logits do not overflow.
 */
export function binaryCrossentropy(labels: Tensor, predictions: Tensor, { fromLogits = false }: { fromLogits?: boolean } = {}): Tensor {
  const op = fromLogits ? sigmoidCrossEntropyOp : binaryCrossentropyOp;
  const values = fromLogits ? [] : [EPSILON, Math.fround(1 - EPSILON)];
  return mean(engine.runOp(op, [labels, predictions], { values })[0]);
}

// ---- softmax cross-entropy: one routine per row, forward and gradient

interface SceAttrs {
  readonly sparse: boolean;
}

/** The uniforms of both row kernels (their meaning: shaders/softmax_cross_entropy.wgsl). */
const SCE_PARAMS = kernelParams({ rows: 'u32', classes: 'u32', first: 'u32', xShift: 'u32', labelShift: 'u32', rowShift: 'u32' });

/** What both row kernels declare before main: the NaN-keeping nt_* helpers, the label type, and a row's max and Σ exp(x − max). */
const scePrelude = (sparse: boolean): string => `${WGSL_PRELUDE}
alias Label = ${sparse ? 'i32' : 'f32'};
const SPARSE = ${sparse};

// A function argument keeps the NaN a runtime value (a NaN constant is a WGSL error).
fn bits_to_f32(u: u32) -> f32 { return bitcast<f32>(u); }

/** The max m of the row of logits at base, and s = Σ_j exp(logits[base + j] − m). */
fn rowStats(base: u32) -> vec2<f32> {
  var m = logits[base];
  for (var j = 1u; j < p.classes; j++) { m = nt_max(m, logits[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.classes; j++) { s += nt_exp(logits[base + j] - m); }
  return vec2<f32>(m, s);
}
`;

function sceDims(logits: Tensor): { rows: number; classes: number } {
  const classes = logits.shape[logits.rank - 1];
  return { rows: sizeOf(logits.shape.slice(0, -1)), classes };
}

/** Per-row max and log Σ exp(x − max), in f32 as the kernels compute them. */
function rowStats(x: TypedArray, base: number, classes: number): { m: number; s: number } {
  let m = x[base];
  for (let j = 1; j < classes; j++) m = Math.max(m, x[base + j]);
  let s = 0;
  for (let j = 0; j < classes; j++) s = Math.fround(s + Math.fround(Math.exp(Math.fround(x[base + j] - m))));
  return { m, s };
}

/**
 * A row kernel: forward binds (logits, labels, loss), backprop (logits, labels, dy, dx). Beyond one
 * binding it runs by ranges of rows: logits, dense labels and dx over the rows' elements, sparse
 * labels, loss and dy over the rows themselves, each shifted by its window's offset.
 */
function sceCall(name: string, source: string, sparse: boolean, rows: number, classes: number, cpu: KernelCall['cpu']): KernelCall {
  const backprop = name.endsWith('Backprop');
  const uniformsOf = (first: number, end: number, xShift: number, labelShift: number, rowShift: number) =>
    SCE_PARAMS.uniforms({ rows: end, classes, first, xShift, labelShift, rowShift });
  const label = sparse ? 'i32' : 'f32';
  const storages = backprop
    ? [{ name: 'logits', type: 'f32' }, { name: 'labels', type: label }, { name: 'dy', type: 'f32' }, { name: 'dx', type: 'f32', write: true }]
    : [{ name: 'logits', type: 'f32' }, { name: 'labels', type: label }, { name: 'loss', type: 'f32', write: true }];
  const call: KernelCall = {
    name,
    key: `${name}:${sparse ? 'sparse' : 'dense'}`,
    wgsl: () => SCE_PARAMS.wgsl({ storages, prelude: scePrelude(sparse), index: { name: 'row', from: 'first', below: 'rows' }, body: source }),
    uniforms: uniformsOf(0, rows, 0, 0, 0),
    workgroups: linearWorkgroups(rows),
    cpu,
  };
  const elements = ([lo, hi]: Span): Span => [lo * classes, hi * classes];
  const perRow = (span: Span): Span => span;
  const labels = sparse ? perRow : elements;
  const touches = backprop ? [elements, labels, perRow, elements] : [elements, labels, perRow];
  const split: KernelCall['split'] = (limits) =>
    splitItems(name, rows, limits, touches, `row of ${classes} classes`).map(({ span: [first, end], windows }) => ({
      ...call,
      uniforms: uniformsOf(first, end, windows[0]!.offset, windows[1]!.offset, windows[2]!.offset),
      workgroups: linearWorkgroups(end - first),
      windows,
    }));
  return { ...call, split };
}

/** Gradient of softmaxCrossEntropy w.r.t. the logits: dy·(softmax·Σlabels − labels), one fused row kernel. */
export const softmaxCrossEntropyBackpropOp: OpDef<SceAttrs> = {
  name: 'softmaxCrossEntropyBackprop',
  outputs: ([logits]) => [{ shape: logits.shape.slice(), dtype: 'float32' }],
  kernel([logits], _out, { sparse }) {
    const { rows, classes } = sceDims(logits);
    return sceCall('softmaxCrossEntropyBackprop', sceBackpropWgsl, sparse, rows, classes, ([x, labels, g], [dx]) => {
      for (let row = 0; row < rows; row++) {
        const base = row * classes;
        const { m, s } = rowStats(x, base, classes);
        const soft = (j: number) => Math.fround(Math.fround(Math.exp(Math.fround(x[base + j] - m))) / s);
        if (sparse) {
          const t = labels[row];
          const valid = t >= 0 && t < classes;
          for (let j = 0; j < classes; j++) dx[base + j] = valid ? g[row] * Math.fround(soft(j) - (j === t ? 1 : 0)) : NaN;
        } else {
          let total = 0;
          for (let j = 0; j < classes; j++) total = Math.fround(total + labels[base + j]);
          for (let j = 0; j < classes; j++) dx[base + j] = g[row] * Math.fround(Math.fround(soft(j) * total) - labels[base + j]);
        }
      }
    });
  },
  grad: null,
};

/**
 * Per-row softmax cross-entropy of logits [..., classes]: −Σ labels·logSoftmax(logits), taken
 * relative to the row max so that logits like 1e4 keep their precision.
 */
export const softmaxCrossEntropyOp: OpDef<SceAttrs> = {
  name: 'softmaxCrossEntropy',
  outputs([logits, labels], { sparse }) {
    checkSceInputs(logits, labels, sparse);
    return [{ shape: logits.shape.slice(0, -1), dtype: 'float32' }];
  },
  kernel([logits], _out, { sparse }) {
    const { rows, classes } = sceDims(logits);
    return sceCall('softmaxCrossEntropy', sceWgsl, sparse, rows, classes, ([x, labels], [loss]) => {
      for (let row = 0; row < rows; row++) {
        const base = row * classes;
        const { m, s } = rowStats(x, base, classes);
        const logS = Math.fround(Math.log(s));
        const term = (j: number) => Math.fround(logS - Math.fround(x[base + j] - m));
        if (sparse) {
          const t = labels[row];
          loss[row] = t >= 0 && t < classes ? term(t) : NaN;
        } else {
          let acc = 0;
          for (let j = 0; j < classes; j++) acc = Math.fround(acc + Math.fround(labels[base + j] * term(j)));
          loss[row] = acc;
        }
      }
    });
  },
  grad: ([dy], [logits, labels], _o, attrs, needs) => [
    // ∂/∂logits = dy·(softmax·Σlabels − labels): one fused kernel
    needs[0] ? engine.runOp(softmaxCrossEntropyBackpropOp, [logits, labels, dy], attrs)[0] : null,
    // ∂/∂labels = −dy·logSoftmax(logits) (dense labels only; sparse ones are int32)
    needs[1] && !attrs.sparse ? mul(expandDims(dy, -1), neg(logSoftmax(logits))) : null,
  ],
};

function checkSceInputs(logits: Tensor, labels: Tensor, sparse: boolean): void {
  const op = 'softmaxCrossEntropy';
  if (logits.dtype !== 'float32') throw new DTypeError(`${op}: logits must be float32, got ${logits.dtype} ${fmtShape(logits.shape)}`);
  if (logits.rank < 1 || logits.shape[logits.rank - 1] < 1) {
    throw new ShapeError(`${op}: logits of shape ${fmtShape(logits.shape)} have no class dim (expected [..., classes] with classes ≥ 1)`);
  }
  const rowShape = logits.shape.slice(0, -1);
  if (sparse) {
    if (labels.dtype !== 'int32') {
      throw new DTypeError(`${op}: sparse labels must be int32 class indices, got ${labels.dtype} ${fmtShape(labels.shape)}`);
    }
    if (!shapesEqual(labels.shape, rowShape)) {
      throw new ShapeError(`${op}: sparse labels have shape ${fmtShape(labels.shape)} but logits ${fmtShape(logits.shape)} (expected ${fmtShape(rowShape)}, one index per row)`);
    }
    return;
  }
  if (labels.dtype !== 'float32') {
    throw new DTypeError(`${op}: dense labels must be float32 probabilities, got ${labels.dtype} ${fmtShape(labels.shape)} (pass { sparse: true } for class indices)`);
  }
  if (!shapesEqual(labels.shape, logits.shape)) {
    throw new ShapeError(`${op}: labels have shape ${fmtShape(labels.shape)} but logits ${fmtShape(logits.shape)} (expected the same shape)`);
  }
}

/**
 * Mean over rows of the softmax cross-entropy between `logits` [..., classes] and `labels`:
 * probabilities of the same shape, or with `sparse` int32 class indices of shape [...].
 * A sparse label outside [0, classes) makes its row's loss and gradient NaN (the kernel cannot
 * throw on a GPU, and NaN makes the mistake visible rather than training on a wrong target).
 * Gradient w.r.t. the logits: (softmax − labels)/rows.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, { sparse = false }: { sparse?: boolean } = {}): Tensor {
  return mean(engine.runOp(softmaxCrossEntropyOp, [logits, labels], { sparse })[0]);
}
