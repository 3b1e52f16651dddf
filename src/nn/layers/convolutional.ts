// Conv2D: a 2-D convolution over NHWC images with a [kh, kw, inChannels, filters] kernel,
// plus bias and activation. The output size follows TF's 'valid'/'same' rules. Bias and a
// relu/sigmoid/tanh/linear activation run inside the conv kernel (fusedConv2d): one dispatch.
import { ArgumentError, ShapeError } from '../../errors.js';
import { fusedConv2d } from '../../ops/conv.js';
import type { FusedActivation } from '../../ops/epilogue.js';
import { outputLength, pairOption, paddingOption, type Padding } from '../../ops/windows.js';
import type { Tensor } from '../../tensor.js';
import { ConfigReader, positiveInt } from './config.js';
import { KernelLayer, readKernelLayerArgs, type KernelLayerArgs } from './kernel-layer.js';
import { fmtShapeN, registerLayer, type Shape } from './layer.js';

/** The window options of every 2-D convolution layer. */
export interface ConvWindowArgs {
  /** Kernel height and width (one number for both). */
  kernelSize: number | [number, number];
  /** Default 1. */
  strides?: number | [number, number];
  /** Default 'valid'. */
  padding?: Padding;
  /** Default 1. */
  dilationRate?: number | [number, number];
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

/** The window of a 2-D convolution layer, checked. */
export interface ConvWindow {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
}

/** Checks the window options of the layer named in `where`. */
export function convWindow(args: ConvWindowArgs, where: string): ConvWindow {
  if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') {
    throw new ArgumentError(`${where}: dataFormat '${args.dataFormat}' is not supported (only 'channelsLast', NHWC)`);
  }
  return {
    kernelSize: pairOption(where, 'kernelSize', args.kernelSize),
    strides: pairOption(where, 'strides', args.strides ?? 1),
    dilationRate: pairOption(where, 'dilationRate', args.dilationRate ?? 1),
    padding: paddingOption(where, args.padding ?? 'valid'),
  };
}

/** The Keras config entries of a window. */
export function convWindowConfig(w: ConvWindow): Record<string, unknown> {
  return { kernel_size: [...w.kernelSize], strides: [...w.strides], padding: w.padding, data_format: 'channels_last', dilation_rate: [...w.dilationRate] };
}

/** The window options read from a Keras config. */
export function readConvWindow(c: ConfigReader): ConvWindowArgs {
  const format = c.str('data_format', 'channels_last');
  if (format !== 'channels_last') throw new ArgumentError(`data_format '${format}' is not supported (only channels_last)`);
  return {
    kernelSize: c.ints('kernel_size', 2) as [number, number],
    strides: c.ints('strides', 2, [1, 1]) as [number, number],
    dilationRate: c.ints('dilation_rate', 2, [1, 1]) as [number, number],
    padding: c.str('padding', 'valid') as Padding,
  };
}

/** Options of `layers.conv2d`. */
export interface Conv2DArgs extends KernelLayerArgs, ConvWindowArgs {
  /** Output channels. */
  filters: number;
}

/** 2-D convolution layer over NHWC inputs. */
export class Conv2D extends KernelLayer {
  readonly className: string = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];

  constructor(args: Conv2DArgs, className = 'Conv2D') {
    super(args, className);
    const where = `${className} '${this.name}'`;
    this.filters = positiveInt(args.filters, `${where}: filters`);
    ({ kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding } = convWindow(args, where));
  }

  protected override get inputRank(): number {
    return 4;
  }

  protected override build(inputShape: Shape): void {
    const inC = inputShape[3];
    if (inC === null) throw new ShapeError(`${this.className} '${this.name}': the channel dim of input ${fmtShapeN(inputShape)} must be known`);
    this.addKernelAndBias(this.kernelShape(inC), this.filters);
  }

  /** The kernel's shape for inputs of `inC` channels: [kh, kw, inC, filters]. */
  protected kernelShape(inC: number): number[] {
    return [...this.kernelSize, inC, this.filters];
  }

  protected forward(x: Tensor): Tensor {
    return this.forwardFused(x, 'linear');
  }

  /** activation(conv2d(x, kernel) + bias) as one fusedConv2d. */
  protected override forwardFused(x: Tensor, activation: FusedActivation): Tensor {
    const options = { strides: this.strides, padding: this.padding, dilations: this.dilationRate };
    return fusedConv2d(x, this.kernel!, { ...options, bias: this.bias ?? undefined, activation });
  }

  computeOutputShape(inputShape: Shape): Shape {
    const [kh, kw] = this.kernelSize;
    return [
      inputShape[0],
      outputLength(inputShape[1], kh, this.strides[0], this.padding, this.dilationRate[0]),
      outputLength(inputShape[2], kw, this.strides[1], this.padding, this.dilationRate[1]),
      this.filters,
    ];
  }

  protected layerConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      ...convWindowConfig(this),
      ...this.kernelConfig(),
    };
  }

  /** Options read from a Keras config (Conv2D's and Conv2DTranspose's). */
  static argsFromConfig(c: ConfigReader): Conv2DArgs {
    return { ...readKernelLayerArgs(c), ...readConvWindow(c), filters: c.int('filters') };
  }
}

registerLayer('Conv2D', (c) => new Conv2D(Conv2D.argsFromConfig(c)));
