// GlobalAveragePooling2D and GlobalMaxPooling2D: the mean or max of each channel over an NHWC
// image's height and width, [batch, h, w, c] → [batch, c]. Reductions with their own gradients.
import { ArgumentError } from '../../errors.js';
import { max, mean } from '../../ops/reduce.js';
import type { Tensor } from '../../tensor.js';
import { ConfigReader } from './config.js';
import { Layer, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.globalAveragePooling2d` and `layers.globalMaxPooling2d`. */
export interface GlobalPooling2DArgs extends LayerArgs {
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

/** A reduction of each channel over the image's height and width. */
export abstract class GlobalPooling2D extends Layer {
  constructor(args: GlobalPooling2DArgs, className: string) {
    super(args, className);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channelsLast') {
      throw new ArgumentError(`${className} '${this.name}': dataFormat '${args.dataFormat}' is not supported (only 'channelsLast', NHWC)`);
    }
  }

  protected override get inputRank(): number {
    return 4;
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [inputShape[0], inputShape[3]];
  }

  protected layerConfig(): Record<string, unknown> {
    return { data_format: 'channels_last' };
  }

  /** Options read from a Keras config. */
  static argsFromConfig(c: ConfigReader): GlobalPooling2DArgs {
    const format = c.str('data_format', 'channels_last');
    if (format !== 'channels_last') throw new ArgumentError(`data_format '${format}' is not supported (only channels_last)`);
    return c.base();
  }
}

/** The mean of each channel over height and width. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  readonly className = 'GlobalAveragePooling2D';
  constructor(args: GlobalPooling2DArgs = {}) {
    super(args, 'GlobalAveragePooling2D');
  }
  protected forward(x: Tensor): Tensor {
    return mean(x, { axis: [1, 2] });
  }
}

/** The max of each channel over height and width (ties share the gradient, as in TF). */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  readonly className = 'GlobalMaxPooling2D';
  constructor(args: GlobalPooling2DArgs = {}) {
    super(args, 'GlobalMaxPooling2D');
  }
  protected forward(x: Tensor): Tensor {
    return max(x, { axis: [1, 2] });
  }
}

registerLayer('GlobalAveragePooling2D', (c) => new GlobalAveragePooling2D(GlobalPooling2D.argsFromConfig(c)));
registerLayer('GlobalMaxPooling2D', (c) => new GlobalMaxPooling2D(GlobalPooling2D.argsFromConfig(c)));
registerLayer('GlobalAvgPool2D', (c) => new GlobalAveragePooling2D(GlobalPooling2D.argsFromConfig(c)));
registerLayer('GlobalMaxPool2D', (c) => new GlobalMaxPooling2D(GlobalPooling2D.argsFromConfig(c)));
