// Stochastic gradient descent with optional (Nesterov) momentum, as Keras defines it:
// v ← m·v − lr·g; p ← p + v (or, with nesterov, p ← p + m·v − lr·g using the new v).
import { E } from '../ops/elementwise/expr.js';
import { map } from '../ops/elementwise/map.js';
import type { Tensor } from '../tensor.js';
import type { ClipOptions } from './clipping.js';
import { SlotOptimizer, checkRange, type Optimizer, type SlotSpec, type Update } from './optimizer.js';

/** Options of `sgd`. */
export interface SgdOptions extends ClipOptions {
  /** Step size (default 0.01). */
  learningRate?: number;
  /** Momentum factor in [0, 1] (default 0: plain SGD, no slot). */
  momentum?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

const [in0, in1, in2] = [E.input(0), E.input(1), E.input(2)];
const [lr, m] = [E.attr(0), E.attr(1)];
// v' = m·v − lr·g   (inputs: g, v)
const VELOCITY = E.sub(E.mul(m, in1), E.mul(lr, in0));
// p' = p − lr·g   (inputs: p, g)
const PLAIN = E.sub(in0, E.mul(lr, in1));
// p' = p + v'   (inputs: p, v')
const MOMENTUM = E.add(in0, in1);
// p' = p + m·v' − lr·g   (inputs: p, g, v')
const NESTEROV = E.add(in0, E.sub(E.mul(m, in2), E.mul(lr, in1)));

class SGD extends SlotOptimizer {
  readonly className = 'SGD';
  private readonly momentum: number;
  private readonly nesterov: boolean;

  constructor({ learningRate = 0.01, momentum = 0, nesterov = false, clipNorm, clipValue }: SgdOptions) {
    super('sgd', learningRate, { clipNorm, clipValue });
    this.momentum = checkRange('sgd', 'momentum', momentum, 0, 1);
    this.nesterov = Boolean(nesterov);
  }

  protected slots(): readonly SlotSpec[] {
    return this.momentum > 0 ? [{ name: 'momentum', initial: 0 }] : [];
  }

  protected update(value: Tensor, grad: Tensor, [velocity]: readonly Tensor[]): Update {
    const hp = [this.learningRate, this.momentum];
    if (!velocity) return { value: map('sgd', PLAIN, [value, grad], hp), slots: [] };
    const next = map('sgdVelocity', VELOCITY, [grad, velocity], hp);
    const step = this.nesterov ? map('sgdNesterov', NESTEROV, [value, grad, next], hp) : map('sgdMomentum', MOMENTUM, [value, next], hp);
    return { value: step, slots: [next] };
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}

/** SGD, optionally with momentum or Nesterov momentum (Keras/TF.js defaults: lr 0.01, momentum 0). */
export function sgd(options: SgdOptions = {}): Optimizer {
  return new SGD(options);
}
