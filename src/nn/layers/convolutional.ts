// Conv2D: a 2-D convolution over NHWC images with a [kh, kw, inChannels, filters] kernel,
// plus bias and activation. The output size follows TF's 'valid'/'same' rules. Bias and a
// relu/sigmoid/tanh/linear activation run inside the conv kernel (fusedConv2d): one dispatch.
import { ArgumentError, ShapeError } from '../../errors.js';
import { fusedConv2d } from '../../ops/conv.js';
import type { FusedActivation } from '../../ops/epilogue.js';
import type { Tensor } from '../../tensor.js';
import { outputLength, pairOption, paddingOption, type Padding } from '../../ops/windows.js';
import { ConfigReader, positiveInt } from './config.js';
import { KernelLayer, readKernelLayerArgs, type KernelLayerArgs } from './kernel-layer.js';
import { fmtShapeN, registerLayer, type Shape } from './layer.js';

/** Options of `layers.conv2d`. */
export interface Conv2DArgs extends KernelLayerArgs {
  /** Output channels. */
  filters: number;
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

/** 2-D convolution layer over NHWC inputs. */
export class Conv2D extends KernelLayer {
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];

  constructor(args: Conv2DArgs) {
    super(args, 'Conv2D');
    const where = `Conv2D '${this.name}'`;
    this.filters = positiveInt(args.filters, `${where}: filters`);
    this.kernelSize = pairOption(where, 'kernelSize', args.kernelSize);
    this.strides = pairOption(where, 'strides', args.strides ?? 1);
    this.dilationRate = pairOption(where, 'dilationRate', args.dilationRate ?? 1);
    this.padding = paddingOption(where, args.padding ?? 'valid');
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') {
      throw new ArgumentError(`${where}: dataFormat '${args.dataFormat}' is not supported (only 'channelsLast', NHWC)`);
    }
  }

  protected override get inputRank(): number {
    return 4;
  }

  protected override build(inputShape: Shape): void {
    const inC = inputShape[3];
    if (inC === null) throw new ShapeError(`Conv2D '${this.name}': the channel dim of input ${fmtShapeN(inputShape)} must be known`);
    const [kh, kw] = this.kernelSize;
    this.addKernelAndBias([kh, kw, inC, this.filters], this.filters);
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
      kernel_size: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      data_format: 'channels_last',
      dilation_rate: [...this.dilationRate],
      ...this.kernelConfig(),
    };
  }

  static fromConfig(c: ConfigReader): Conv2D {
    const format = c.str('data_format', 'channels_last');
    if (format !== 'channels_last') throw new ArgumentError(`data_format '${format}' is not supported (only channels_last)`);
    return new Conv2D({
      ...readKernelLayerArgs(c),
      filters: c.int('filters'),
      kernelSize: c.ints('kernel_size', 2) as [number, number],
      strides: c.ints('strides', 2, [1, 1]) as [number, number],
      dilationRate: c.ints('dilation_rate', 2, [1, 1]) as [number, number],
      padding: c.str('padding', 'valid') as Padding,
    });
  }
}

registerLayer('Conv2D', (c) => Conv2D.fromConfig(c));
