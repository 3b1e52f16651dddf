// LayerNormalization: normalises each example over `axis` (the last by default) with its own
// mean and (biased) variance, then scales by gamma and shifts by beta, whose shape is the
// normalised dims'. The same at training and inference; its gradient is autograd's of the ops.
import { ArgumentError, ShapeError } from '../../errors.js';
import { sub } from '../../ops/binary.js';
import { mean } from '../../ops/reduce.js';
import { reshape } from '../../ops/transform.js';
import { square } from '../../ops/unary.js';
import type { Tensor } from '../../tensor.js';
import { ConfigReader } from './config.js';
import { fmtShapeN, registerLayer, type Shape } from './layer.js';
import { ScaleShiftNormalization, readScaleShiftArgs, type ScaleShiftArgs } from './scale-shift.js';

/** Options of `layers.layerNormalization`. */
export interface LayerNormalizationArgs extends ScaleShiftArgs {
  /** The axis or axes normalised over (default -1, the last); never the batch axis. */
  axis?: number | readonly number[];
}

/** Normalises each example over the given axes to zero mean and unit variance, then scales and shifts. */
export class LayerNormalization extends ScaleShiftNormalization {
  readonly className = 'LayerNormalization';
  readonly axis: number | number[];
  /** The normalised axes as sorted non-negative indices, once built. */
  private axes: number[] = [];

  constructor(args: LayerNormalizationArgs = {}) {
    super(args, 'LayerNormalization');
    const axis = args.axis ?? -1;
    const list = typeof axis === 'number' ? [axis] : [...axis];
    if (list.length === 0 || list.some((a) => !Number.isInteger(a) || a === 0)) {
      throw new ArgumentError(`LayerNormalization '${this.name}': axis should be a non-batch axis or a list of them, got ${JSON.stringify(args.axis)}`);
    }
    this.axis = typeof axis === 'number' ? axis : list;
  }

  protected override build(inputShape: Shape): void {
    const rank = inputShape.length;
    const list = typeof this.axis === 'number' ? [this.axis] : this.axis;
    const axes = [...new Set(list.map((a) => (a < 0 ? rank + a : a)))].sort((a, b) => a - b);
    if (axes.length !== list.length || axes.some((a) => a < 1 || a >= rank || inputShape[a] === null)) {
      throw new ShapeError(
        `LayerNormalization '${this.name}': axis ${JSON.stringify(this.axis)} does not fit input ${fmtShapeN(inputShape)} (expected distinct known non-batch axes)`,
      );
    }
    this.axes = axes;
    this.addGammaAndBeta(axes.map((a) => inputShape[a] as number));
  }

  protected forward(x: Tensor): Tensor {
    const m = mean(x, { axis: this.axes, keepDims: true });
    const v = mean(square(sub(x, m)), { axis: this.axes, keepDims: true });
    // gamma and beta hold the normalised dims; 1s elsewhere make them broadcast against x.
    const shape = x.shape.map((d, i) => (this.axes.includes(i) ? d : 1));
    return this.normalize(x, m, v, (p) => reshape(p, shape));
  }

  computeOutputShape(inputShape: Shape): Shape {
    return inputShape.slice();
  }

  protected layerConfig(): Record<string, unknown> {
    return { axis: typeof this.axis === 'number' ? this.axis : [...this.axis], ...this.scaleShiftConfig() };
  }

  static fromConfig(c: ConfigReader): LayerNormalization {
    return new LayerNormalization({ ...readScaleShiftArgs(c), axis: c.axes('axis', -1) });
  }
}

registerLayer('LayerNormalization', (c) => LayerNormalization.fromConfig(c));
