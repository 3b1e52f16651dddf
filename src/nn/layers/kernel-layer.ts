// What Dense and Conv2D share: a kernel and an optional bias, each with an initializer and a
// regularizer, an activation fused into the layer's one kernel, and the Keras config of all that.
import type { Variable } from '../../tensor.js';
import type { ActivationName } from '../activations.js';
import { ConfigReader, initializerJson, regularizerJson, type InitializerSpec, type RegularizerLike } from './config.js';
import { Layer, type LayerArgs } from './layer.js';

/** Options of a layer with a kernel and a bias. */
export interface KernelLayerArgs extends LayerArgs {
  /** Applied to the layer's output (default 'linear'). */
  activation?: ActivationName;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Default 'glorotUniform'. */
  kernelInitializer?: InitializerSpec;
  /** Default 'zeros'. */
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerLike | null;
  biasRegularizer?: RegularizerLike | null;
  /** Seed of the kernel initializer, for reproducible models. */
  seed?: number;
}

/** A layer computing activation(f(x, kernel) + bias). */
export abstract class KernelLayer extends Layer {
  readonly useBias: boolean;
  kernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(
    private readonly kernelArgs: KernelLayerArgs,
    className: string,
  ) {
    super(kernelArgs, className);
    this.useBias = kernelArgs.useBias ?? true;
    this.setActivation(kernelArgs.activation);
  }

  /** Creates the kernel of `kernelShape` and, with useBias, a bias of `units`. */
  protected addKernelAndBias(kernelShape: number[], units: number): void {
    const a = this.kernelArgs;
    this.kernel = this.addWeight('kernel', kernelShape, a.kernelInitializer ?? 'glorotUniform', { regularizer: a.kernelRegularizer, seed: a.seed });
    if (this.useBias) this.bias = this.addWeight('bias', [units], a.biasInitializer ?? 'zeros', { regularizer: a.biasRegularizer });
  }

  /** The Keras config entries of the activation, the kernel and the bias. */
  protected kernelConfig(): Record<string, unknown> {
    const a = this.kernelArgs;
    return {
      activation: this.activation,
      use_bias: this.useBias,
      kernel_initializer: initializerJson(a.kernelInitializer ?? 'glorotUniform', a.seed),
      bias_initializer: initializerJson(a.biasInitializer ?? 'zeros', undefined),
      kernel_regularizer: regularizerJson(a.kernelRegularizer),
      bias_regularizer: regularizerJson(a.biasRegularizer),
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    };
  }
}

/** The options kernelConfig wrote, read back from a Keras config (with the layer's base options). */
export function readKernelLayerArgs(c: ConfigReader): KernelLayerArgs {
  return {
    ...c.base(),
    activation: c.str('activation', 'linear') as ActivationName,
    useBias: c.bool('use_bias', true),
    kernelInitializer: c.initializer('kernel_initializer', 'glorotUniform'),
    biasInitializer: c.initializer('bias_initializer', 'zeros'),
    kernelRegularizer: c.regularizer('kernel_regularizer'),
    biasRegularizer: c.regularizer('bias_regularizer'),
  };
}
