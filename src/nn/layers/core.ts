// The core layers: Dense (x·W + b), Flatten, Dropout (only while training) and Activation.
// Dense runs bias and a relu/sigmoid/tanh/linear activation inside its matMul (fusedMatMul): one dispatch.
import { ArgumentError, ShapeError } from '../../errors.js';
import { fusedMatMul } from '../../ops/matmul.js';
import type { FusedActivation } from '../../ops/epilogue.js';
import { engine } from '../../engine.js';
import { scalar, variable } from '../../ops/create.js';
import { E } from '../../ops/elementwise/expr.js';
import { map } from '../../ops/elementwise/map.js';
import { dropoutOp, seedOf } from '../../ops/random.js';
import { reshape } from '../../ops/transform.js';
import type { Tensor, Variable } from '../../tensor.js';
import type { ActivationName } from '../activations.js';
import { ConfigReader, positiveInt } from './config.js';
import { KernelLayer, readKernelLayerArgs, type KernelLayerArgs } from './kernel-layer.js';
import { Layer, fmtShapeN, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.dense`. */
export interface DenseArgs extends KernelLayerArgs {
  /** Output features. */
  units: number;
}

/** A fully connected layer over the last axis: activation(x·kernel + bias). */
export class Dense extends KernelLayer {
  readonly className = 'Dense';
  readonly units: number;

  constructor(args: DenseArgs) {
    super(args, 'Dense');
    this.units = positiveInt(args.units, `Dense '${this.name}': units`);
  }

  protected override build(inputShape: Shape): void {
    this.addKernelAndBias([lastDim(this, inputShape), this.units], this.units);
  }

  protected forward(x: Tensor): Tensor {
    return this.forwardFused(x, 'linear');
  }

  /** activation(x·kernel + bias) over the last axis, as one fusedMatMul on the rows of x. */
  protected override forwardFused(x: Tensor, activation: FusedActivation): Tensor {
    const flat = x.rank === 2 ? x : reshape(x, [-1, x.shape[x.rank - 1]]);
    const y = fusedMatMul(flat, this.kernel!, { bias: this.bias ?? undefined, activation });
    return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), this.units]);
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape.slice(0, -1), this.units];
  }

  protected layerConfig(): Record<string, unknown> {
    return { units: this.units, ...this.kernelConfig() };
  }

  static fromConfig(c: ConfigReader): Dense {
    return new Dense({ ...readKernelLayerArgs(c), units: c.int('units') });
  }
}

/** Flattens each example to one dim: [batch, d1, d2, …] → [batch, d1·d2·…]. */
export class Flatten extends Layer {
  readonly className = 'Flatten';

  constructor(args: LayerArgs = {}) {
    super(args, 'Flatten');
  }

  protected forward(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], -1]);
  }

  computeOutputShape(inputShape: Shape): Shape {
    const rest = inputShape.slice(1);
    if (rest.some((d) => d === null)) {
      throw new ShapeError(`Flatten '${this.name}': input ${fmtShapeN(inputShape)} has unknown dims; give the model a full inputShape`);
    }
    return [inputShape[0], (rest as number[]).reduce((a, b) => a * b, 1)];
  }

  protected layerConfig(): Record<string, unknown> {
    return { data_format: 'channels_last' };
  }

  static fromConfig(c: ConfigReader): Flatten {
    return new Flatten(c.base());
  }
}

/** Options of `layers.dropout`. */
export interface DropoutArgs extends LayerArgs {
  /** Fraction of inputs zeroed while training, in [0, 1). */
  rate: number;
  /** Seed of the masks: each training call uses seed + call count, so masks differ but a run repeats. */
  seed?: number;
}

/** Zeroes a random `rate` of the inputs while training (scaling the rest by 1/(1−rate)); identity at inference. */
export class Dropout extends Layer {
  readonly className = 'Dropout';
  readonly rate: number;
  readonly seed?: number;
  /**
   * Training calls so far, an int32 scalar on the device: each call's mask uses seed + calls, and
   * a replayed training step (which runs no layer code) still advances it.
   */
  private calls: Variable | null = null;
  /** The seed of the first call: `seed`, or one drawn when the layer first trains. */
  private baseSeed: number | null = null;

  constructor(args: DropoutArgs) {
    super(args, 'Dropout');
    if (!(typeof args.rate === 'number' && args.rate >= 0 && args.rate < 1)) {
      throw new ArgumentError(`Dropout '${this.name}': rate should be in [0, 1), got ${JSON.stringify(args.rate)}`);
    }
    this.rate = args.rate;
    this.seed = args.seed;
  }

  protected forward(x: Tensor, training: boolean): Tensor {
    if (!training || this.rate === 0) return x;
    x.use('dropout');
    if (!this.calls || this.calls.isDisposed || this.calls.backend !== engine.backend) {
      this.calls?.dispose();
      this.calls = variable(scalar(0, 'int32'), { trainable: false, name: `${this.name}/calls` });
    }
    this.baseSeed ??= seedOf(`Dropout '${this.name}'`, this.seed);
    const [y] = engine.runOp(dropoutOp, [x, this.calls], { rate: this.rate, seed: this.baseSeed });
    this.calls.assign(map('dropoutCalls', E.add(E.input(0), E.const(1)), [this.calls], [], 'int32'));
    return y;
  }

  override dispose(): void {
    this.calls?.dispose();
    this.calls = null;
    super.dispose();
  }

  computeOutputShape(inputShape: Shape): Shape {
    return inputShape.slice();
  }

  protected layerConfig(): Record<string, unknown> {
    return { rate: this.rate, noise_shape: null, seed: this.seed ?? null };
  }

  static fromConfig(c: ConfigReader): Dropout {
    return new Dropout({ ...c.base(), rate: c.num('rate', 0), seed: c.optionalInt('seed') });
  }
}

/** Options of `layers.activation`. */
export interface ActivationArgs extends LayerArgs {
  activation: ActivationName;
}

/** Applies an activation function on its own. */
export class Activation extends Layer {
  readonly className = 'Activation';

  constructor(args: ActivationArgs) {
    super(args, 'Activation');
    this.setActivation(args.activation);
  }

  protected forward(x: Tensor): Tensor {
    return x;
  }

  computeOutputShape(inputShape: Shape): Shape {
    return inputShape.slice();
  }

  protected layerConfig(): Record<string, unknown> {
    return { activation: this.activation };
  }

  static fromConfig(c: ConfigReader): Activation {
    return new Activation({ ...c.base(), activation: c.str('activation', 'linear') as ActivationName });
  }
}

/** The last dim of an input shape, which must be known (Dense, BatchNormalization). */
export function lastDim(layer: Layer, inputShape: Shape): number {
  const d = inputShape[inputShape.length - 1];
  if (d === null || d === undefined) {
    throw new ShapeError(`${layer.className} '${layer.name}': the last dim of input ${fmtShapeN(inputShape)} must be known`);
  }
  return d;
}

registerLayer('Dense', (c) => Dense.fromConfig(c));
registerLayer('Flatten', (c) => Flatten.fromConfig(c));
registerLayer('Dropout', (c) => Dropout.fromConfig(c));
registerLayer('Activation', (c) => Activation.fromConfig(c));
