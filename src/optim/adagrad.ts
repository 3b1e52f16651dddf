// Adagrad as Keras 3 (and TF.js) compute it: acc ← acc + g²; p ← p − lr·g/√(acc + ε),
// with the accumulator starting at initialAccumulatorValue.
import { E } from '../ops/elementwise/expr.js';
import { map } from '../ops/elementwise/map.js';
import type { Tensor } from '../tensor.js';
import type { ClipOptions } from './clipping.js';
import { SlotOptimizer, checkRange, type Optimizer, type SlotSpec, type Update } from './optimizer.js';

/** Options of `adagrad`. */
export interface AdagradOptions extends ClipOptions {
  /** Step size (default 0.01). */
  learningRate?: number;
  /** Starting value of the squared-gradient accumulator (default 0.1). */
  initialAccumulatorValue?: number;
  /** Added under the square root for stability (default 1e-7). */
  epsilon?: number;
}

const [in0, in1, in2] = [E.input(0), E.input(1), E.input(2)];
const [lr, eps] = [E.attr(0), E.attr(1)];
// acc' = acc + g²   (inputs: g, acc)
const ACCUMULATOR = E.add(in1, E.mul(in0, in0));
// p' = p − lr·g/√(acc' + ε)   (inputs: p, g, acc')
const PARAM = E.sub(in0, E.div(E.mul(lr, in1), E.sqrt(E.add(in2, eps))));

class Adagrad extends SlotOptimizer {
  readonly className = 'Adagrad';
  private readonly initialAccumulatorValue: number;
  private readonly epsilon: number;

  constructor({ learningRate = 0.01, initialAccumulatorValue = 0.1, epsilon = 1e-7, ...clip }: AdagradOptions) {
    super('adagrad', learningRate, clip);
    this.initialAccumulatorValue = checkRange('adagrad', 'initialAccumulatorValue', initialAccumulatorValue, 0);
    this.epsilon = checkRange('adagrad', 'epsilon', epsilon, 0);
  }

  protected slots(): readonly SlotSpec[] {
    return [{ name: 'accumulator', initial: this.initialAccumulatorValue }];
  }

  protected update(value: Tensor, grad: Tensor, [acc0]: readonly Tensor[]): Update {
    const hp = [this.learningRate, this.epsilon];
    const acc1 = map('adagradAccumulator', ACCUMULATOR, [grad, acc0], hp);
    return { value: map('adagrad', PARAM, [value, grad, acc1], hp), slots: [acc1] };
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

/** Adagrad (Keras defaults: lr 0.01, initial accumulator 0.1, ε 1e-7). Slot `accumulator`. */
export function adagrad(options: AdagradOptions = {}): Optimizer {
  return new Adagrad(options);
}
