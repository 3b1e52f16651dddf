// RMSprop as Keras 3 (and TF.js) compute it: rms ← ρ·rms + (1−ρ)·g²; centered also keeps
// mg ← ρ·mg + (1−ρ)·g; step = lr·g/√(rms − mg² + ε) (or √(rms + ε)); with momentum
// mom ← μ·mom + step and p ← p − mom, otherwise p ← p − step.
import { E } from '../ops/elementwise/expr.js';
import { map } from '../ops/elementwise/map.js';
import type { Tensor } from '../tensor.js';
import type { ClipOptions } from './clipping.js';
import { SlotOptimizer, checkRange, type Optimizer, type SlotSpec, type Update } from './optimizer.js';

/** Options of `rmsprop`. */
export interface RmspropOptions extends ClipOptions {
  /** Step size (default 0.001). */
  learningRate?: number;
  /** Decay of the squared-gradient average (default 0.9). */
  rho?: number;
  /** Momentum factor (default 0: no momentum slot). */
  momentum?: number;
  /** Added under the square root for stability (default 1e-7). */
  epsilon?: number;
  /** Divide by the estimated variance rather than the second moment (default false). */
  centered?: boolean;
}

const [in0, in1, in2, in3] = [E.input(0), E.input(1), E.input(2), E.input(3)];
// Attributes: lr, ρ, 1−ρ (taken on the host, exact for ρ near 1), μ, ε.
const [lr, rho, oneMinusRho, mu, eps] = [0, 1, 2, 3, 4].map(E.attr);
// rms' = ρ·rms + (1−ρ)·g²   (inputs: g, rms)
const RMS = E.add(E.mul(rho, in1), E.mul(oneMinusRho, E.mul(in0, in0)));
// mg' = ρ·mg + (1−ρ)·g   (inputs: g, mg)
const MEAN_GRAD = E.add(E.mul(rho, in1), E.mul(oneMinusRho, in0));
// step = lr·g/√(rms' − mg'² + ε), or lr·g/√(rms' + ε) when not centered   (inputs: –, g, rms', mg')
const stepOf = (centered: boolean) => E.div(E.mul(lr, in1), E.sqrt(E.add(centered ? E.sub(in2, E.mul(in3, in3)) : in2, eps)));
const STEP = { true: stepOf(true), false: stepOf(false) };
// p' = p − step   (inputs: p, g, rms', mg')
const PARAM = { true: E.sub(in0, STEP.true), false: E.sub(in0, STEP.false) };
// mom' = μ·mom + step   (inputs: mom, g, rms', mg')
const MOMENTUM = { true: E.add(E.mul(mu, in0), STEP.true), false: E.add(E.mul(mu, in0), STEP.false) };
// p' = p − mom'   (inputs: p, mom')
const PARAM_MOMENTUM = E.sub(in0, in1);

class RMSprop extends SlotOptimizer {
  readonly className = 'RMSprop';
  private readonly rho: number;
  private readonly momentum: number;
  private readonly epsilon: number;
  private readonly centered: boolean;

  constructor({ learningRate = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false, ...clip }: RmspropOptions) {
    super('rmsprop', learningRate, clip);
    this.rho = checkRange('rmsprop', 'rho', rho, 0, 1);
    this.momentum = checkRange('rmsprop', 'momentum', momentum, 0, 1);
    this.epsilon = checkRange('rmsprop', 'epsilon', epsilon, 0);
    this.centered = Boolean(centered);
  }

  protected slots(): readonly SlotSpec[] {
    const slots: SlotSpec[] = [{ name: 'rms', initial: 0 }];
    if (this.momentum > 0) slots.push({ name: 'momentum', initial: 0 });
    if (this.centered) slots.push({ name: 'mg', initial: 0 });
    return slots;
  }

  protected update(value: Tensor, grad: Tensor, slots: readonly Tensor[]): Update {
    const hp = [this.learningRate, this.rho, 1 - this.rho, this.momentum, this.epsilon];
    const c = this.centered ? 'true' : 'false';
    const [rms0, mom0, mg0] = [slots[0], this.momentum > 0 ? slots[1] : null, this.centered ? slots[slots.length - 1] : null];
    const rms1 = map('rmspropRms', RMS, [grad, rms0], hp);
    const mg1 = mg0 ? map('rmspropMeanGrad', MEAN_GRAD, [grad, mg0], hp) : null;
    const moments = mg1 ? [grad, rms1, mg1] : [grad, rms1];
    if (!mom0) return { value: map('rmsprop', PARAM[c], [value, ...moments], hp), slots: mg1 ? [rms1, mg1] : [rms1] };
    const mom1 = map('rmspropMomentum', MOMENTUM[c], [mom0, ...moments], hp);
    const next = map('rmspropParam', PARAM_MOMENTUM, [value, mom1], hp);
    return { value: next, slots: mg1 ? [rms1, mom1, mg1] : [rms1, mom1] };
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

/** RMSprop (Keras defaults: lr 0.001, ρ 0.9, momentum 0, ε 1e-7, not centered). */
export function rmsprop(options: RmspropOptions = {}): Optimizer {
  return new RMSprop(options);
}
