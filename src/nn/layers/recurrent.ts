// SimpleRNN: h_t = activation(x_t·W + h_{t−1}·U + b), unrolled over the time steps so that
// backpropagation through time is plain autograd over the recorded steps. The input
// projection x·W + b is computed for all steps in one matMul before the loop.
import { ArgumentError, ShapeError } from '../../errors.js';
import { add } from '../../ops/binary.js';
import { matMul } from '../../ops/matmul.js';
import { concat, reshape, slice } from '../../ops/transform.js';
import type { Tensor, Variable } from '../../tensor.js';
import { activationFn, activationName, type ActivationName } from '../activations.js';
import { ConfigReader, initializerJson, positiveInt, regularizerJson, type InitializerSpec, type RegularizerLike } from './config.js';
import { Layer, fmtShapeN, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.simpleRNN`. */
export interface SimpleRNNArgs extends LayerArgs {
  /** Size of the hidden state. */
  units: number;
  /** Applied at every step (default 'tanh'). */
  activation?: ActivationName;
  useBias?: boolean;
  /** Return the hidden state of every step ([batch, steps, units]) rather than the last ([batch, units]). Default false. */
  returnSequences?: boolean;
  /** Input-to-hidden weights, default 'glorotUniform'. */
  kernelInitializer?: InitializerSpec;
  /** Hidden-to-hidden weights, default 'orthogonal' (as Keras). */
  recurrentInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerLike | null;
  recurrentRegularizer?: RegularizerLike | null;
  biasRegularizer?: RegularizerLike | null;
  seed?: number;
}

/** A fully connected recurrent layer over [batch, steps, features] inputs. */
export class SimpleRNN extends Layer {
  readonly className = 'SimpleRNN';
  readonly units: number;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  /** The per-step activation (the layer's output has no further activation). */
  readonly stepActivation: ActivationName;
  private readonly args: SimpleRNNArgs;
  kernel: Variable | null = null;
  recurrentKernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(args: SimpleRNNArgs) {
    super(args, 'SimpleRNN');
    const where = `SimpleRNN '${this.name}'`;
    this.units = positiveInt(args.units, `${where}: units`);
    this.useBias = args.useBias ?? true;
    this.returnSequences = args.returnSequences ?? false;
    this.stepActivation = activationName(args.activation ?? 'tanh', where);
    if (this.stepActivation === 'softmax') throw new ArgumentError(`${where}: a softmax step activation is not supported`);
    this.args = args;
  }

  protected override get inputRank(): number {
    return 3;
  }

  protected override build(inputShape: Shape): void {
    const features = inputShape[2];
    if (features === null) throw new ShapeError(`SimpleRNN '${this.name}': the feature dim of input ${fmtShapeN(inputShape)} must be known`);
    const seed = this.args.seed;
    this.kernel = this.addWeight('kernel', [features, this.units], this.args.kernelInitializer ?? 'glorotUniform', {
      regularizer: this.args.kernelRegularizer,
      seed,
    });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, this.units], this.args.recurrentInitializer ?? 'orthogonal', {
      regularizer: this.args.recurrentRegularizer,
      seed: seed === undefined ? undefined : seed + 1,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.units], this.args.biasInitializer ?? 'zeros', { regularizer: this.args.biasRegularizer });
    }
  }

  protected forward(x: Tensor): Tensor {
    const [batch, steps, features] = x.shape;
    const act = activationFn(this.stepActivation);
    let projected = reshape(matMul(reshape(x, [batch * steps, features]), this.kernel!), [batch, steps, this.units]);
    if (this.bias) projected = add(projected, this.bias);
    let h: Tensor | null = null;
    const outputs: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const xt = reshape(slice(projected, { begin: [0, t, 0], size: [batch, 1, this.units] }), [batch, this.units]);
      // h_0 = 0, so the first step has no recurrent term.
      h = act(h ? add(xt, matMul(h, this.recurrentKernel!)) : xt);
      if (this.returnSequences) outputs.push(reshape(h, [batch, 1, this.units]));
    }
    if (this.returnSequences) return concat(outputs, { axis: 1 });
    return h!;
  }

  computeOutputShape(inputShape: Shape): Shape {
    return this.returnSequences ? [inputShape[0], inputShape[1], this.units] : [inputShape[0], this.units];
  }

  protected layerConfig(): Record<string, unknown> {
    const seed = this.args.seed;
    return {
      units: this.units,
      activation: this.stepActivation,
      use_bias: this.useBias,
      kernel_initializer: initializerJson(this.args.kernelInitializer ?? 'glorotUniform', seed),
      recurrent_initializer: initializerJson(this.args.recurrentInitializer ?? 'orthogonal', seed === undefined ? undefined : seed + 1),
      bias_initializer: initializerJson(this.args.biasInitializer ?? 'zeros', undefined),
      kernel_regularizer: regularizerJson(this.args.kernelRegularizer),
      recurrent_regularizer: regularizerJson(this.args.recurrentRegularizer),
      bias_regularizer: regularizerJson(this.args.biasRegularizer),
      activity_regularizer: null,
      kernel_constraint: null,
      recurrent_constraint: null,
      bias_constraint: null,
      dropout: 0,
      recurrent_dropout: 0,
      return_sequences: this.returnSequences,
      return_state: false,
      go_backwards: false,
      stateful: false,
      unroll: false,
    };
  }

  static fromConfig(c: ConfigReader): SimpleRNN {
    for (const flag of ['return_state', 'go_backwards', 'stateful']) {
      if (c.bool(flag, false)) throw new ArgumentError(`${flag}: true is not supported`);
    }
    return new SimpleRNN({
      ...c.base(),
      units: c.int('units'),
      activation: c.str('activation', 'tanh') as ActivationName,
      useBias: c.bool('use_bias', true),
      returnSequences: c.bool('return_sequences', false),
      kernelInitializer: c.initializer('kernel_initializer', 'glorotUniform'),
      recurrentInitializer: c.initializer('recurrent_initializer', 'orthogonal'),
      biasInitializer: c.initializer('bias_initializer', 'zeros'),
      kernelRegularizer: c.regularizer('kernel_regularizer'),
      recurrentRegularizer: c.regularizer('recurrent_regularizer'),
      biasRegularizer: c.regularizer('bias_regularizer'),
    });
  }
}

registerLayer('SimpleRNN', (c) => SimpleRNN.fromConfig(c));
