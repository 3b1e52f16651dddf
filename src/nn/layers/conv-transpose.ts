// Conv2DTranspose: the transposed convolution (conv2d's gradient w.r.t. its input) over NHWC
// images, with a [kh, kw, filters, inChannels] kernel as TF.js stores it, plus bias and
// activation; it upsamples by the strides. The output size follows TF.js's deconvLength.
import { ArgumentError } from '../../errors.js';
import { add } from '../../ops/binary.js';
import { conv2dTranspose } from '../../ops/conv.js';
import type { FusedActivation } from '../../ops/epilogue.js';
import type { Tensor } from '../../tensor.js';
import { activationFn } from '../activations.js';
import { Conv2D, type Conv2DArgs } from './convolutional.js';
import { registerLayer, type Shape } from './layer.js';

/** Output length of one spatial dim of a transposed convolution (TF.js's deconvLength). */
export function deconvLength(size: number | null, kernel: number, stride: number, padding: 'valid' | 'same'): number | null {
  if (size === null) return null;
  return padding === 'same' ? size * stride : size * stride + Math.max(kernel - stride, 0);
}

/** Options of `layers.conv2dTranspose` (no dilation, as TF.js). */
export type Conv2DTransposeArgs = Conv2DArgs;

/** Transposed 2-D convolution layer over NHWC inputs. */
export class Conv2DTranspose extends Conv2D {
  override readonly className: string = 'Conv2DTranspose';

  constructor(args: Conv2DTransposeArgs) {
    super(args, 'Conv2DTranspose');
    if (this.dilationRate.some((d) => d !== 1)) {
      throw new ArgumentError(`Conv2DTranspose '${this.name}': dilationRate ${JSON.stringify(args.dilationRate)} is not supported (only 1, as TF.js)`);
    }
  }

  protected override kernelShape(inC: number): number[] {
    return [...this.kernelSize, this.filters, inC];
  }

  /** activation(conv2dTranspose(x, kernel) + bias); the activation runs as its own op. */
  protected override forwardFused(x: Tensor, activation: FusedActivation): Tensor {
    const outputShape = this.computeOutputShape([...x.shape]) as number[];
    const y = conv2dTranspose(x, this.kernel!, outputShape, { strides: this.strides, padding: this.padding });
    return activationFn(activation)(this.bias ? add(y, this.bias) : y);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    const [kh, kw] = this.kernelSize;
    return [
      inputShape[0],
      deconvLength(inputShape[1], kh, this.strides[0], this.padding),
      deconvLength(inputShape[2], kw, this.strides[1], this.padding),
      this.filters,
    ];
  }
}

registerLayer('Conv2DTranspose', (c) => new Conv2DTranspose(Conv2D.argsFromConfig(c)));
