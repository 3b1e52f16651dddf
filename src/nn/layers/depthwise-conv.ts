// DepthwiseConv2D (each channel convolved with its own depthMultiplier filters) and
// SeparableConv2D (a depthwise convolution, then a 1×1 conv2d mixing the channels), over NHWC
// images, with TF.js's weights (depthwise_kernel [kh, kw, C, m], pointwise_kernel [1, 1, C·m,
// filters], bias) and configs. The separable layer's bias and activation run in its 1×1 conv.
import { ShapeError } from '../../errors.js';
import { add } from '../../ops/binary.js';
import { fusedConv2d } from '../../ops/conv.js';
import { depthwiseConv2d } from '../../ops/depthwise.js';
import type { FusedActivation } from '../../ops/epilogue.js';
import { outputLength } from '../../ops/windows.js';
import type { Tensor, Variable } from '../../tensor.js';
import type { ActivationName } from '../activations.js';
import { ConfigReader, initializerJson, positiveInt, regularizerJson, type InitializerSpec, type RegularizerLike } from './config.js';
import { convWindow, convWindowConfig, readConvWindow, type ConvWindow, type ConvWindowArgs } from './convolutional.js';
import { Layer, fmtShapeN, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.depthwiseConv2d`. */
export interface DepthwiseConv2DArgs extends LayerArgs, ConvWindowArgs {
  /** Filters per input channel (default 1): the output has C·depthMultiplier channels. */
  depthMultiplier?: number;
  /** Applied to the layer's output (default 'linear'). */
  activation?: ActivationName;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Default 'glorotUniform'. */
  depthwiseInitializer?: InitializerSpec;
  /** Default 'zeros'. */
  biasInitializer?: InitializerSpec;
  depthwiseRegularizer?: RegularizerLike | null;
  biasRegularizer?: RegularizerLike | null;
  /** Seed of the kernel initializers. */
  seed?: number;
}

/** Depthwise 2-D convolution layer: channel c convolved with its own m filters gives channels c·m … c·m + m − 1. */
export class DepthwiseConv2D extends Layer {
  readonly className: string = 'DepthwiseConv2D';
  readonly depthMultiplier: number;
  readonly useBias: boolean;
  readonly window: ConvWindow;
  protected readonly args: DepthwiseConv2DArgs;
  depthwiseKernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(args: DepthwiseConv2DArgs, className = 'DepthwiseConv2D') {
    super(args, className);
    const where = `${className} '${this.name}'`;
    this.window = convWindow(args, where);
    this.depthMultiplier = positiveInt(args.depthMultiplier ?? 1, `${where}: depthMultiplier`);
    this.useBias = args.useBias ?? true;
    this.setActivation(args.activation);
    this.args = args;
  }

  protected override get inputRank(): number {
    return 4;
  }

  protected override build(inputShape: Shape): void {
    const c = inputShape[3];
    if (c === null) throw new ShapeError(`${this.className} '${this.name}': the channel dim of input ${fmtShapeN(inputShape)} must be known`);
    const a = this.args;
    this.depthwiseKernel = this.addWeight('depthwise_kernel', [...this.window.kernelSize, c, this.depthMultiplier], a.depthwiseInitializer ?? 'glorotUniform', {
      regularizer: a.depthwiseRegularizer,
      seed: a.seed,
    });
    this.buildRest(c * this.depthMultiplier);
  }

  /** The weights after the depthwise kernel, for `channels` depthwise outputs: here the bias. */
  protected buildRest(channels: number): void {
    if (this.useBias) this.bias = this.addWeight('bias', [channels], this.args.biasInitializer ?? 'zeros', { regularizer: this.args.biasRegularizer });
  }

  /** The depthwise convolution alone. */
  protected depthwise(x: Tensor): Tensor {
    const { strides, padding, dilationRate } = this.window;
    return depthwiseConv2d(x, this.depthwiseKernel!, { strides, padding, dilations: dilationRate });
  }

  protected forward(x: Tensor): Tensor {
    const y = this.depthwise(x);
    return this.bias ? add(y, this.bias) : y;
  }

  /** Output channels for inputs of `c` channels. */
  protected outputChannels(c: number | null): number | null {
    return c === null ? null : c * this.depthMultiplier;
  }

  computeOutputShape(inputShape: Shape): Shape {
    const { kernelSize, strides, padding, dilationRate } = this.window;
    return [
      inputShape[0],
      outputLength(inputShape[1], kernelSize[0], strides[0], padding, dilationRate[0]),
      outputLength(inputShape[2], kernelSize[1], strides[1], padding, dilationRate[1]),
      this.outputChannels(inputShape[3]),
    ];
  }

  protected layerConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      ...convWindowConfig(this.window),
      depth_multiplier: this.depthMultiplier,
      activation: this.activation,
      use_bias: this.useBias,
      depthwise_initializer: initializerJson(a.depthwiseInitializer ?? 'glorotUniform', a.seed),
      bias_initializer: initializerJson(a.biasInitializer ?? 'zeros', undefined),
      depthwise_regularizer: regularizerJson(a.depthwiseRegularizer),
      bias_regularizer: regularizerJson(a.biasRegularizer),
      activity_regularizer: null,
      depthwise_constraint: null,
      bias_constraint: null,
    };
  }

  /** Options read from a Keras config (DepthwiseConv2D's and SeparableConv2D's). */
  static argsFromConfig(c: ConfigReader): DepthwiseConv2DArgs {
    return {
      ...c.base(),
      ...readConvWindow(c),
      depthMultiplier: c.int('depth_multiplier', 1),
      activation: c.str('activation', 'linear') as ActivationName,
      useBias: c.bool('use_bias', true),
      depthwiseInitializer: c.initializer('depthwise_initializer', 'glorotUniform'),
      biasInitializer: c.initializer('bias_initializer', 'zeros'),
      depthwiseRegularizer: c.regularizer('depthwise_regularizer'),
      biasRegularizer: c.regularizer('bias_regularizer'),
    };
  }
}

/** Options of `layers.separableConv2d`. */
export interface SeparableConv2DArgs extends DepthwiseConv2DArgs {
  /** Output channels of the pointwise (1×1) convolution. */
  filters: number;
  /** Default 'glorotUniform'. */
  pointwiseInitializer?: InitializerSpec;
  pointwiseRegularizer?: RegularizerLike | null;
}

/** Depthwise-separable 2-D convolution: depthwise, then a 1×1 conv2d to `filters` channels (+ bias, activation). */
export class SeparableConv2D extends DepthwiseConv2D {
  override readonly className: string = 'SeparableConv2D';
  readonly filters: number;
  pointwiseKernel: Variable | null = null;

  constructor(args: SeparableConv2DArgs) {
    super(args, 'SeparableConv2D');
    this.filters = positiveInt(args.filters, `SeparableConv2D '${this.name}': filters`);
  }

  private get separableArgs(): SeparableConv2DArgs {
    return this.args as SeparableConv2DArgs;
  }

  protected override buildRest(channels: number): void {
    const a = this.separableArgs;
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, 1, channels, this.filters], a.pointwiseInitializer ?? 'glorotUniform', {
      regularizer: a.pointwiseRegularizer,
      seed: a.seed === undefined ? undefined : a.seed + 1,
    });
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], a.biasInitializer ?? 'zeros', { regularizer: a.biasRegularizer });
  }

  protected override forward(x: Tensor): Tensor {
    return this.forwardFused(x, 'linear');
  }

  /** activation(conv2d(depthwise(x), pointwise) + bias), the 1×1 conv with its bias and activation fused. */
  protected override forwardFused(x: Tensor, activation: FusedActivation): Tensor {
    return fusedConv2d(this.depthwise(x), this.pointwiseKernel!, { bias: this.bias ?? undefined, activation });
  }

  protected override outputChannels(): number {
    return this.filters;
  }

  protected override layerConfig(): Record<string, unknown> {
    const a = this.separableArgs;
    return {
      filters: this.filters,
      ...super.layerConfig(),
      pointwise_initializer: initializerJson(a.pointwiseInitializer ?? 'glorotUniform', a.seed === undefined ? undefined : a.seed + 1),
      pointwise_regularizer: regularizerJson(a.pointwiseRegularizer),
      pointwise_constraint: null,
    };
  }
}

registerLayer('DepthwiseConv2D', (c) => new DepthwiseConv2D(DepthwiseConv2D.argsFromConfig(c)));
registerLayer('SeparableConv2D', (c) =>
  new SeparableConv2D({
    ...DepthwiseConv2D.argsFromConfig(c),
    filters: c.int('filters'),
    pointwiseInitializer: c.initializer('pointwise_initializer', 'glorotUniform'),
    pointwiseRegularizer: c.regularizer('pointwise_regularizer'),
  }),
);
