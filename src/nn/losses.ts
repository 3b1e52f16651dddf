// Training losses by Keras name. A loss may name the final activation it fuses with: a model
// whose last layer ends in softmax (sigmoid) trained with categorical (binary) cross-entropy
// computes the loss from the pre-activation logits with the fused, stable kernels, as Keras
// effectively does; the loss value is the same, but no log(softmax) underflows to -Infinity.
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { mul, sub } from '../ops/binary.js';
import { cast } from '../ops/create.js';
import { binaryCrossentropy, EPSILON, meanSquaredError, softmaxCrossEntropy } from '../ops/nn.js';
import { mean, sum } from '../ops/reduce.js';
import { oneHot, reshape } from '../ops/transform.js';
import { abs, clipByValue, log, neg } from '../ops/unary.js';
import type { Tensor } from '../tensor.js';
import type { ActivationName } from './activations.js';

/** A loss function: a scalar (mean over the batch) from labels and predictions. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** A resolved loss. */
export interface Loss {
  /** The canonical camelCase name, written into the training config. */
  readonly name: string;
  /** The loss of predictions (after the final activation). */
  readonly fn: LossFn;
  /** The final activation this loss can absorb, and the loss computed from its pre-activation. */
  readonly fused?: { activation: ActivationName; fromLogits: LossFn };
}

/** Sparse labels as int32 [batch] for logits [batch, classes] ([batch, 1] and float labels accepted). */
function sparseLabels(op: string, yTrue: Tensor, yPred: Tensor): Tensor {
  const rows = yPred.shape.slice(0, -1);
  const squeezed = yTrue.rank === rows.length + 1 && yTrue.shape[yTrue.rank - 1] === 1 ? reshape(yTrue, rows) : yTrue;
  if (squeezed.shape.length !== rows.length || squeezed.shape.some((d, i) => d !== rows[i])) {
    throw new ShapeError(`${op}: labels ${fmtShape(yTrue.shape)} do not match predictions ${fmtShape(yPred.shape)} (expected one class index per row: ${fmtShape(rows)})`);
  }
  return squeezed.dtype === 'int32' ? squeezed : cast(squeezed, 'int32');
}

function denseLabels(op: string, yTrue: Tensor, yPred: Tensor): Tensor {
  if (yTrue.dtype !== 'float32') {
    throw new DTypeError(`${op}: expected float32 one-hot labels shaped like the predictions ${fmtShape(yPred.shape)}, got ${yTrue.dtype} ${fmtShape(yTrue.shape)} (use sparseCategoricalCrossentropy for class indices)`);
  }
  return yTrue;
}

/** −mean Σ y·log(clip(p)) over the class dim: cross-entropy of probabilities. */
function crossEntropyOfProbabilities(labels: Tensor, probs: Tensor): Tensor {
  const logp = log(clipByValue(probs, EPSILON, 1 - EPSILON));
  return neg(mean(sum(mul(labels, logp), { axis: -1 })));
}

const categorical: Loss = {
  name: 'categoricalCrossentropy',
  fn: (yTrue, yPred) => crossEntropyOfProbabilities(denseLabels('categoricalCrossentropy', yTrue, yPred), yPred),
  fused: { activation: 'softmax', fromLogits: (yTrue, logits) => softmaxCrossEntropy(logits, denseLabels('categoricalCrossentropy', yTrue, logits)) },
};

const sparseCategorical: Loss = {
  name: 'sparseCategoricalCrossentropy',
  fn: (yTrue, yPred) => {
    const classes = yPred.shape[yPred.rank - 1];
    return crossEntropyOfProbabilities(oneHot(sparseLabels('sparseCategoricalCrossentropy', yTrue, yPred), classes), yPred);
  },
  fused: {
    activation: 'softmax',
    fromLogits: (yTrue, logits) => softmaxCrossEntropy(logits, sparseLabels('sparseCategoricalCrossentropy', yTrue, logits), { sparse: true }),
  },
};

/** Labels as float32 shaped like the predictions ([batch] labels for [batch, 1] predictions). */
function targets(yTrue: Tensor, yPred: Tensor): Tensor {
  const t = yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32');
  return t.size === yPred.size && t.rank !== yPred.rank ? reshape(t, yPred.shape) : t;
}

const binary: Loss = {
  name: 'binaryCrossentropy',
  fn: (yTrue, yPred) => binaryCrossentropy(targets(yTrue, yPred), yPred),
  fused: { activation: 'sigmoid', fromLogits: (yTrue, logits) => binaryCrossentropy(targets(yTrue, logits), logits, { fromLogits: true }) },
};

const mse: Loss = { name: 'meanSquaredError', fn: (yTrue, yPred) => meanSquaredError(targets(yTrue, yPred), yPred) };
const mae: Loss = { name: 'meanAbsoluteError', fn: (yTrue, yPred) => mean(abs(sub(yPred, targets(yTrue, yPred)))) };

const LOSSES: Record<string, Loss> = {
  categoricalcrossentropy: categorical,
  sparsecategoricalcrossentropy: sparseCategorical,
  binarycrossentropy: binary,
  meansquarederror: mse,
  mse,
  meanabsoluteerror: mae,
  mae,
};

/**
 * The loss for a Keras name in camelCase or snake_case ('sparseCategoricalCrossentropy',
 * 'sparse_categorical_crossentropy', 'mse', …), or a function `(yTrue, yPred) => scalar`.
 */
export function getLoss(identifier: string | LossFn): Loss {
  if (typeof identifier === 'function') return { name: identifier.name || 'custom', fn: identifier };
  const loss = typeof identifier === 'string' ? LOSSES[identifier.toLowerCase().replace(/_/g, '')] : undefined;
  if (!loss) {
    throw new ArgumentError(
      `compile: unknown loss ${JSON.stringify(identifier)}; expected one of meanSquaredError (mse), meanAbsoluteError (mae), categoricalCrossentropy, sparseCategoricalCrossentropy, binaryCrossentropy (camelCase or snake_case), or a function`,
    );
  }
  return loss;
}
