// MaxPooling2D and AveragePooling2D over NHWC inputs (strides default to the pool size, as
// in Keras). They share the abstract Pooling2D and differ only in the op they run.
import { ArgumentError } from '../../errors.js';
import { avgPool2d, maxPool2d, type Pool2dOptions } from '../../ops/pool.js';
import type { Tensor } from '../../tensor.js';
import { outputLength, pairOption, paddingOption, type Padding } from '../../ops/windows.js';
import type { ConfigReader } from './config.js';
import { Layer, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.maxPooling2d` and `layers.averagePooling2d`. */
export interface Pooling2DArgs extends LayerArgs {
  /** Window height and width (default 2). */
  poolSize?: number | [number, number];
  /** Default: the pool size. */
  strides?: number | [number, number];
  /** Default 'valid'. */
  padding?: Padding;
  /** Only 'channelsLast'. */
  dataFormat?: 'channelsLast';
}

/** 2-D pooling; subclasses pick the op (max or average). */
abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;

  constructor(args: Pooling2DArgs, className: string) {
    super(args, className);
    const where = `${className} '${this.name}'`;
    this.poolSize = pairOption(where, 'poolSize', args.poolSize ?? 2);
    this.strides = args.strides === undefined ? this.poolSize : pairOption(where, 'strides', args.strides);
    this.padding = paddingOption(where, args.padding ?? 'valid');
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') {
      throw new ArgumentError(`${where}: dataFormat '${args.dataFormat}' is not supported (only 'channelsLast', NHWC)`);
    }
  }

  protected override get inputRank(): number {
    return 4;
  }

  protected abstract pool(x: Tensor, options: Pool2dOptions): Tensor;

  protected forward(x: Tensor): Tensor {
    return this.pool(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [
      inputShape[0],
      outputLength(inputShape[1], this.poolSize[0], this.strides[0], this.padding),
      outputLength(inputShape[2], this.poolSize[1], this.strides[1], this.padding),
      inputShape[3],
    ];
  }

  protected layerConfig(): Record<string, unknown> {
    return { pool_size: [...this.poolSize], padding: this.padding, strides: [...this.strides], data_format: 'channels_last' };
  }

  /** Options read from a Keras config. */
  static argsFromConfig(c: ConfigReader): Pooling2DArgs {
    const format = c.str('data_format', 'channels_last');
    if (format !== 'channels_last') throw new ArgumentError(`data_format '${format}' is not supported (only channels_last)`);
    const poolSize = c.ints('pool_size', 2, [2, 2]) as [number, number];
    return {
      ...c.base(),
      poolSize,
      strides: c.ints('strides', 2, poolSize) as [number, number],
      padding: c.str('padding', 'valid') as Padding,
    };
  }
}

/** Max over each window. */
export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'MaxPooling2D');
  }
  protected pool(x: Tensor, options: Pool2dOptions): Tensor {
    return maxPool2d(x, options);
  }
}

/** Mean over each window. */
export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'AveragePooling2D');
  }
  protected pool(x: Tensor, options: Pool2dOptions): Tensor {
    return avgPool2d(x, options);
  }
}

registerLayer('MaxPooling2D', (c) => new MaxPooling2D(Pooling2D.argsFromConfig(c)));
registerLayer('AveragePooling2D', (c) => new AveragePooling2D(Pooling2D.argsFromConfig(c)));
registerLayer('MaxPool2D', (c) => new MaxPooling2D(Pooling2D.argsFromConfig(c)));
registerLayer('AvgPool2D', (c) => new AveragePooling2D(Pooling2D.argsFromConfig(c)));
