// BatchNormalization over any feature axis (the last by default; NHWC convolutions normalise
// channels there). Training normalises with the batch's mean and (biased) variance and moves the
// moving averages toward them; inference uses the moving averages. The moving-average update is
// a gradient-free kernel: it is state, not a parameter.
import { ArgumentError, ShapeError } from '../../errors.js';
import { sub } from '../../ops/binary.js';
import { E } from '../../ops/elementwise/expr.js';
import { map } from '../../ops/elementwise/map.js';
import { mean } from '../../ops/reduce.js';
import { reshape } from '../../ops/transform.js';
import { square } from '../../ops/unary.js';
import type { Tensor, Variable } from '../../tensor.js';
import { ConfigReader, initializerJson, type InitializerSpec } from './config.js';
import { fmtShapeN, registerLayer, type Shape } from './layer.js';
import { ScaleShiftNormalization, readScaleShiftArgs, type ScaleShiftArgs } from './scale-shift.js';

/** Options of `layers.batchNormalization`. */
export interface BatchNormalizationArgs extends ScaleShiftArgs {
  /** The feature axis (default -1, the last; Keras writes its positive index, e.g. 3 for NHWC). Never the batch axis 0. */
  axis?: number;
  /** Weight of the old value in the moving averages (default 0.99). */
  momentum?: number;
  movingMeanInitializer?: InitializerSpec;
  movingVarianceInitializer?: InitializerSpec;
}

/** Normalises each feature of `axis` to zero mean and unit variance over the other axes, then scales and shifts. */
export class BatchNormalization extends ScaleShiftNormalization {
  readonly className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  private readonly args: BatchNormalizationArgs;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;
  /** The feature axis as a non-negative index, once built. */
  private featureAxis = -1;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'BatchNormalization');
    const where = `BatchNormalization '${this.name}'`;
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis) || this.axis === 0) {
      throw new ArgumentError(`${where}: axis should be a non-batch axis (an integer other than 0), got ${args.axis}`);
    }
    this.momentum = args.momentum ?? 0.99;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ArgumentError(`${where}: momentum should be in [0, 1], got ${this.momentum}`);
    this.args = args;
  }

  protected override build(inputShape: Shape): void {
    const rank = inputShape.length;
    const axis = this.axis < 0 ? rank + this.axis : this.axis;
    const c = inputShape[axis];
    if (axis < 1 || axis >= rank) {
      throw new ShapeError(`BatchNormalization '${this.name}': axis ${this.axis} is outside input ${fmtShapeN(inputShape)} or is its batch axis (expected -${rank - 1}…-1 or 1…${rank - 1})`);
    }
    if (c === null) throw new ShapeError(`BatchNormalization '${this.name}': the feature dim ${axis} of input ${fmtShapeN(inputShape)} must be known`);
    this.featureAxis = axis;
    this.addGammaAndBeta([c]);
    this.movingMean = this.addWeight('moving_mean', [c], this.args.movingMeanInitializer ?? 'zeros', { trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [c], this.args.movingVarianceInitializer ?? 'ones', { trainable: false });
  }

  protected forward(x: Tensor, training: boolean): Tensor {
    const a = this.featureAxis;
    const c = x.shape[a];
    // Per-feature vectors shaped to broadcast against x: [c] on the last axis, [c, 1, …] before it.
    const along = (p: Tensor): Tensor => (a === x.rank - 1 ? p : reshape(p, [c, ...x.shape.slice(a + 1).map(() => 1)]));
    if (!training) return this.normalize(x, along(this.movingMean!), along(this.movingVariance!), along);
    const axes = x.shape.map((_, i) => i).filter((i) => i !== a);
    const m = mean(x, { axis: axes, keepDims: true });
    const v = mean(square(sub(x, m)), { axis: axes, keepDims: true });
    this.updateMovingAverage(this.movingMean!, reshape(m, [c]));
    this.updateMovingAverage(this.movingVariance!, reshape(v, [c]));
    return this.normalize(x, m, v, along);
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
      ...this.scaleShiftConfig(),
      moving_mean_initializer: initializerJson(a.movingMeanInitializer ?? 'zeros', undefined),
      moving_variance_initializer: initializerJson(a.movingVarianceInitializer ?? 'ones', undefined),
      beta_constraint: null,
      gamma_constraint: null,
    };
  }

  static fromConfig(c: ConfigReader): BatchNormalization {
    return new BatchNormalization({
      ...readScaleShiftArgs(c),
      // Keras writes the positive axis (3 for NHWC), sometimes as a one-element list.
      axis: c.axis('axis', -1),
      momentum: c.num('momentum', 0.99),
      movingMeanInitializer: c.initializer('moving_mean_initializer', 'zeros'),
      movingVarianceInitializer: c.initializer('moving_variance_initializer', 'ones'),
    });
  }
}

registerLayer('BatchNormalization', (c) => BatchNormalization.fromConfig(c));
