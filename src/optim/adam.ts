// Adam as Keras computes it: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
// p ← p − lr_t·m / (√v + ε) with lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ) (ε is Keras's "epsilon hat").
import { E, type Expr } from '../ops/elementwise/expr.js';
import { map } from '../ops/elementwise/map.js';
import type { Tensor } from '../tensor.js';
import type { ClipOptions } from './clipping.js';
import { SlotOptimizer, checkRange, type Optimizer, type SlotSpec, type Update } from './optimizer.js';

/** Options of `adam`. */
export interface AdamOptions extends ClipOptions {
  /** Step size (default 0.001). */
  learningRate?: number;
  /** Decay of the first-moment average (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average (default 0.999). */
  beta2?: number;
  /** Added to √v for stability (default 1e-7, as in Keras). */
  epsilon?: number;
}

const [in0, in1, in2, in3] = [E.input(0), E.input(1), E.input(2), E.input(3)];
// Attributes: lr, β1, 1−β1, β2, 1−β2, ε, ln β1, ln β2 — the differences and logs are taken on
// the host in float64, as rounding β to float32 first would cost 1−β (and ln β) ~5 digits.
const [lr, b1, c1, b2, c2, eps, logB1, logB2] = [0, 1, 2, 3, 4, 5, 6, 7].map(E.attr);
const one = E.const(1);

/**
 * eˣ − 1 for x ≤ 0 without cancellation near 0: a degree-8 Taylor polynomial (Horner, error
 * < 2e-8) for |x| < 0.5, exp(x) − 1 beyond. Bias correction needs 1 − βᵗ = −expm1(t·ln β):
 * computing βᵗ first and subtracting it from 1 would lose ~5 digits for β = 0.999 in float32.
 */
function expm1(x: Expr): Expr {
  const small = E.max(x, E.const(-0.5)); // keeps the unused branch finite
  let poly = one;
  for (let k = 8; k >= 2; k--) poly = E.add(one, E.mul(E.div(small, E.const(k)), poly));
  return E.select(E.gt(x, E.const(-0.5)), E.mul(small, poly), E.sub(E.exp(x), one));
}

// m' = β1·m + (1−β1)·g   (inputs: g, m)
const FIRST = E.add(E.mul(b1, in1), E.mul(c1, in0));
// v' = β2·v + (1−β2)·g²   (inputs: g, v)
const SECOND = E.add(E.mul(b2, in1), E.mul(c2, E.mul(in0, in0)));
// lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ), once per step from the device-side step t, so no readback is needed
const LR_T = E.div(E.mul(lr, E.sqrt(E.neg(expm1(E.mul(in0, logB2))))), E.neg(expm1(E.mul(in0, logB1))));
// p' = p − lr_t·m'/(√v' + ε)   (inputs: p, m', v', lr_t)
const PARAM = E.sub(in0, E.div(E.mul(in3, in1), E.add(E.sqrt(in2), eps)));

class Adam extends SlotOptimizer {
  readonly className = 'Adam';
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor({ learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7, ...clip }: AdamOptions) {
    super('adam', learningRate, clip);
    this.beta1 = checkRange('adam', 'beta1', beta1, 0, 1, true);
    this.beta2 = checkRange('adam', 'beta2', beta2, 0, 1, true);
    this.epsilon = checkRange('adam', 'epsilon', epsilon, 0);
  }

  protected slots(): readonly SlotSpec[] {
    return [
      { name: 'm', initial: 0 },
      { name: 'v', initial: 0 },
    ];
  }

  /** The attributes every kernel of the update reads. */
  private attrs(): number[] {
    const { beta1, beta2 } = this;
    // ln 0 = −∞ would reach the kernel as a uniform; −88 gives βᵗ ≈ 0 in float32 all the same.
    const ln = (b: number) => Math.max(Math.log(b), -88);
    return [this.learningRate, beta1, 1 - beta1, beta2, 1 - beta2, this.epsilon, ln(beta1), ln(beta2)];
  }

  protected override stepScalar(step: Tensor): Tensor {
    return map('adamLearningRate', LR_T, [step], this.attrs(), 'float32');
  }

  protected update(value: Tensor, grad: Tensor, [m0, v0]: readonly Tensor[], lrT: Tensor): Update {
    const hp = this.attrs();
    const m1 = map('adamM', FIRST, [grad, m0], hp);
    const v1 = map('adamV', SECOND, [grad, v0], hp);
    return { value: map('adam', PARAM, [value, m1, v1, lrT], hp), slots: [m1, v1] };
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Adam (Keras defaults: lr 0.001, β1 0.9, β2 0.999, ε 1e-7). Slots `m` and `v` per variable. */
export function adam(options: AdamOptions = {}): Optimizer {
  return new Adam(options);
}
