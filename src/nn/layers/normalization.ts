// BatchNormalization over the last axis. Training normalises with the batch's mean and
// (biased) variance and moves the moving averages toward them; inference uses the moving
// averages. The moving-average update is a gradient-free kernel: it is state, not a parameter.
import { ArgumentError } from '../../errors.js';
import { add, div, mul, sub } from '../../ops/binary.js';
import { E } from '../../ops/elementwise/expr.js';
import { map } from '../../ops/elementwise/map.js';
import { mean } from '../../ops/reduce.js';
import { sqrt, square } from '../../ops/unary.js';
import type { Tensor, Variable } from '../../tensor.js';
import { ConfigReader, initializerJson, regularizerJson, type InitializerSpec, type RegularizerLike } from './config.js';
import { lastDim } from './core.js';
import { Layer, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.batchNormalization`. */
export interface BatchNormalizationArgs extends LayerArgs {
  /** The feature axis: only the last one is supported (-1, or its positive index as Keras writes it). */
  axis?: number;
  /** Weight of the old value in the moving averages (default 0.99). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-3). */
  epsilon?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  betaInitializer?: InitializerSpec;
  gammaInitializer?: InitializerSpec;
  movingMeanInitializer?: InitializerSpec;
  movingVarianceInitializer?: InitializerSpec;
  betaRegularizer?: RegularizerLike | null;
  gammaRegularizer?: RegularizerLike | null;
}

/** Normalises each feature of the last axis to zero mean and unit variance, then scales and shifts. */
export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly args: BatchNormalizationArgs;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'BatchNormalization');
    const where = `BatchNormalization '${this.name}'`;
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis) || this.axis < -1 || this.axis === 0) {
      throw new ArgumentError(`${where}: axis should be -1 (the last axis), got ${args.axis}`);
    }
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ArgumentError(`${where}: momentum should be in [0, 1], got ${this.momentum}`);
    if (!(this.epsilon > 0)) throw new ArgumentError(`${where}: epsilon should be positive, got ${this.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.args = args;
  }

  protected override build(inputShape: Shape): void {
    if (this.axis !== -1 && this.axis !== inputShape.length - 1) {
      throw new ArgumentError(`BatchNormalization '${this.name}': axis ${this.axis} is not the last axis of input rank ${inputShape.length}; only the last axis is supported`);
    }
    const c = lastDim(this, inputShape);
    const a = this.args;
    if (this.scale) this.gamma = this.addWeight('gamma', [c], a.gammaInitializer ?? 'ones', { regularizer: a.gammaRegularizer });
    if (this.center) this.beta = this.addWeight('beta', [c], a.betaInitializer ?? 'zeros', { regularizer: a.betaRegularizer });
    this.movingMean = this.addWeight('moving_mean', [c], a.movingMeanInitializer ?? 'zeros', { trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [c], a.movingVarianceInitializer ?? 'ones', { trainable: false });
  }

  protected forward(x: Tensor, training: boolean): Tensor {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    if (!training) return this.normalize(x, this.movingMean!, this.movingVariance!);
    const m = mean(x, { axis: axes });
    const v = mean(square(sub(x, m)), { axis: axes });
    this.updateMovingAverage(this.movingMean!, m);
    this.updateMovingAverage(this.movingVariance!, v);
    return this.normalize(x, m, v);
  }

  /** (x − mean)/√(var + ε)·γ + β */
  private normalize(x: Tensor, m: Tensor, v: Tensor): Tensor {
    let factor = div(1, sqrt(add(v, this.epsilon)));
    if (this.gamma) factor = mul(factor, this.gamma);
    const y = mul(sub(x, m), factor);
    return this.beta ? add(y, this.beta) : y;
  }

  /** moving ← moving·momentum + batch·(1 − momentum), with no gradient. */
  private updateMovingAverage(moving: Variable, batch: Tensor): void {
    const expr = E.add(E.mul(E.input(0), E.attr(0)), E.mul(E.input(1), E.attr(1)));
    moving.assign(map('batchNormMovingAverage', expr, [moving, batch], [this.momentum, 1 - this.momentum]));
  }

  computeOutputShape(inputShape: Shape): Shape {
    return inputShape.slice();
  }

  protected layerConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      beta_initializer: initializerJson(a.betaInitializer ?? 'zeros', undefined),
      gamma_initializer: initializerJson(a.gammaInitializer ?? 'ones', undefined),
      moving_mean_initializer: initializerJson(a.movingMeanInitializer ?? 'zeros', undefined),
      moving_variance_initializer: initializerJson(a.movingVarianceInitializer ?? 'ones', undefined),
      beta_regularizer: regularizerJson(a.betaRegularizer),
      gamma_regularizer: regularizerJson(a.gammaRegularizer),
      beta_constraint: null,
      gamma_constraint: null,
    };
  }

  static fromConfig(c: ConfigReader): BatchNormalization {
    return new BatchNormalization({
      ...c.base(),
      // Keras writes the positive axis (3 for NHWC), sometimes as a one-element list.
      axis: c.axis('axis', -1),
      momentum: c.num('momentum', 0.99),
      epsilon: c.num('epsilon', 1e-3),
      center: c.bool('center', true),
      scale: c.bool('scale', true),
      betaInitializer: c.initializer('beta_initializer', 'zeros'),
      gammaInitializer: c.initializer('gamma_initializer', 'ones'),
      movingMeanInitializer: c.initializer('moving_mean_initializer', 'zeros'),
      movingVarianceInitializer: c.initializer('moving_variance_initializer', 'ones'),
      betaRegularizer: c.regularizer('beta_regularizer'),
      gammaRegularizer: c.regularizer('gamma_regularizer'),
    });
  }
}

registerLayer('BatchNormalization', (c) => BatchNormalization.fromConfig(c));
