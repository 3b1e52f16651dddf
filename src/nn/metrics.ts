// Accuracy metrics with Keras names: each returns the mean over the batch as a scalar tensor,
// computed on the device (argMax/threshold, equal, mean), so training loops need no readback.
// `accuracy` picks the sparse, categorical or binary rule from the shapes and label dtype.
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { equal, greater } from '../ops/binary.js';
import { cast } from '../ops/create.js';
import { argMax, mean } from '../ops/reduce.js';
import { reshape } from '../ops/transform.js';
import { tidy } from '../scope.js';
import type { Tensor } from '../tensor.js';

/** A metric: a scalar tensor (the mean over the batch) from labels and predictions. */
export type Metric = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Classes along yPred's last dim (1 for a rank-1 or rank-0 prediction). */
const classesOf = (yPred: Tensor): number => (yPred.rank < 2 ? 1 : yPred.shape[yPred.rank - 1]);

function checkBatch(op: string, yTrue: Tensor, yPred: Tensor): void {
  yTrue.use(op);
  yPred.use(op);
  if (yPred.rank === 0 || yTrue.rank === 0 || yTrue.shape[0] !== yPred.shape[0]) {
    throw new ShapeError(`${op}: yTrue ${fmtShape(yTrue.shape)} and yPred ${fmtShape(yPred.shape)} should both have the batch as their first dim`);
  }
}

/** True when yTrue holds one class index per row of yPred: [batch] or [batch, 1] (int32 or float). */
function isSparse(yTrue: Tensor, yPred: Tensor): boolean {
  const lead = yPred.shape.slice(0, -1);
  const same = (s: readonly number[]) => s.length === lead.length && s.every((d, i) => d === lead[i]);
  return same(yTrue.shape) || (yTrue.shape[yTrue.rank - 1] === 1 && same(yTrue.shape.slice(0, -1)));
}

/** Fraction of rows where argMax(yPred) equals the integer label (labels [batch] or [batch, 1]). */
export function sparseCategoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  const op = 'sparseCategoricalAccuracy';
  checkBatch(op, yTrue, yPred);
  if (yPred.rank < 2 || !isSparse(yTrue, yPred)) {
    throw new ShapeError(`${op}: expected labels [batch] or [batch,1] for predictions [batch,classes], got yTrue ${fmtShape(yTrue.shape)} and yPred ${fmtShape(yPred.shape)}`);
  }
  return tidy(() => {
    const labels = reshape(yTrue.dtype === 'int32' ? yTrue : cast(yTrue, 'int32'), yPred.shape.slice(0, -1));
    return mean(equal(argMax(yPred, { axis: -1 }), labels));
  });
}

/** Fraction of rows where argMax(yPred) equals argMax(yTrue) (one-hot or probability labels). */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  const op = 'categoricalAccuracy';
  checkBatch(op, yTrue, yPred);
  if (yPred.rank < 2 || yTrue.rank !== yPred.rank || yTrue.shape.some((d, i) => d !== yPred.shape[i])) {
    throw new ShapeError(`${op}: expected one-hot labels shaped like the predictions, got yTrue ${fmtShape(yTrue.shape)} and yPred ${fmtShape(yPred.shape)}`);
  }
  return tidy(() => mean(equal(argMax(yTrue, { axis: -1 }), argMax(yPred, { axis: -1 }))));
}

/** Fraction of elements where (yPred > threshold) equals the 0/1 label (default threshold 0.5). */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor, { threshold = 0.5 }: { threshold?: number } = {}): Tensor {
  const op = 'binaryAccuracy';
  checkBatch(op, yTrue, yPred);
  if (yTrue.size !== yPred.size) {
    throw new ShapeError(`${op}: yTrue ${fmtShape(yTrue.shape)} and yPred ${fmtShape(yPred.shape)} should hold one label per prediction`);
  }
  return tidy(() => {
    const labels = reshape(yTrue.dtype === 'float32' ? yTrue : cast(yTrue, 'float32'), yPred.shape);
    return mean(equal(greater(yPred, threshold), labels));
  });
}

/**
 * Keras's 'accuracy', choosing the rule from the shapes: one class per row ([batch, 1] or
 * [batch] predictions) → binary with threshold 0.5; labels [batch] or [batch, 1] against
 * [batch, classes] → sparse categorical; labels shaped like the predictions → categorical.
 */
export function accuracy(yTrue: Tensor, yPred: Tensor): Tensor {
  checkBatch('accuracy', yTrue, yPred);
  if (classesOf(yPred) === 1) return binaryAccuracy(yTrue, yPred);
  if (isSparse(yTrue, yPred)) return sparseCategoricalAccuracy(yTrue, yPred);
  return categoricalAccuracy(yTrue, yPred);
}

/** The metrics by their camelCase names; aliases map to these. */
const NAMED: Record<string, Metric> = { accuracy, sparseCategoricalAccuracy, categoricalAccuracy, binaryAccuracy };
const ALIASES: Record<string, string> = { acc: 'accuracy', sparseacc: 'sparsecategoricalaccuracy', categoricalacc: 'categoricalaccuracy', binaryacc: 'binaryaccuracy' };

const normalize = (name: string): string => name.toLowerCase().replace(/_/g, '');
const BY_NAME = new Map(Object.entries(NAMED).map(([name, fn]) => [normalize(name), fn]));

/**
 * A metric from a Keras name in any spelling ('accuracy', 'acc', 'sparse_categorical_accuracy',
 * 'sparseCategoricalAccuracy', 'SparseCategoricalAccuracy', …), or a function (returned as is).
 */
export function getMetric(identifier: string | Metric): Metric {
  if (typeof identifier === 'function') return identifier;
  const key = typeof identifier === 'string' ? normalize(identifier) : '';
  const metric = BY_NAME.get(ALIASES[key] ?? key);
  if (!metric) {
    throw new ArgumentError(
      `getMetric: unknown metric ${JSON.stringify(identifier)}; expected one of ${Object.keys(NAMED).join(', ')} or 'acc' (camelCase or snake_case), or a function`,
    );
  }
  return metric;
}
