// Recurrent layers over [batch, steps, features], unrolled over the time steps so that
// backpropagation through time is plain autograd over the recorded steps. The base class holds
// what SimpleRNN, LSTM and GRU share: the kernel [features, gates·units], recurrent kernel
// [units, gates·units] and bias (gate blocks side by side, in TF.js's column order), the input
// projection x·W + b of all steps in one matMul before the loop, goBackwards, returnSequences,
// returnState, and the Keras config. A subclass defines one step.
import { ArgumentError, ShapeError } from '../../errors.js';
import { add } from '../../ops/binary.js';
import { matMul } from '../../ops/matmul.js';
import { concat, reshape, slice } from '../../ops/transform.js';
import type { Tensor, Variable } from '../../tensor.js';
import { activationFn, activationName, type ActivationName } from '../activations.js';
import { ConfigReader, initializerJson, positiveInt, regularizerJson, type InitializerSpec, type RegularizerLike } from './config.js';
import { Layer, fmtShapeN, registerLayer, type ApplyArgs, type LayerArgs, type Shape } from './layer.js';
import { SymbolicTensor } from '../symbolic.js';

/** Options of every recurrent layer. */
export interface RecurrentArgs extends LayerArgs {
  /** Size of the hidden state. */
  units: number;
  /** Applied to the candidate state and the output (default 'tanh'). */
  activation?: ActivationName;
  useBias?: boolean;
  /** Return the output of every step ([batch, steps, units]) rather than the last ([batch, units]). Default false. */
  returnSequences?: boolean;
  /** `applyWithState` also returns the final states (h, and c for LSTM). Default false. */
  returnState?: boolean;
  /** Run over the steps last to first; a returned sequence is in that order too (as Keras). Default false. */
  goBackwards?: boolean;
  /** Input-to-hidden weights, default 'glorotUniform'. */
  kernelInitializer?: InitializerSpec;
  /** Hidden-to-hidden weights, default 'orthogonal' (as Keras). */
  recurrentInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  kernelRegularizer?: RegularizerLike | null;
  recurrentRegularizer?: RegularizerLike | null;
  biasRegularizer?: RegularizerLike | null;
  /** Seed of the kernel initializer (the recurrent one uses seed + 1). */
  seed?: number;
}

/** The states a step reads: null before the first step, where every state is zero. */
export type States = Tensor[] | null;

/** A recurrent layer: the loop over time around a subclass's step. */
export abstract class Recurrent extends Layer {
  readonly units: number;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  /** The per-step activation (the layer's output has no further activation). */
  readonly stepActivation: ActivationName;
  protected readonly args: RecurrentArgs;
  kernel: Variable | null = null;
  recurrentKernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(
    args: RecurrentArgs,
    className: string,
    /** Blocks of `units` columns in the kernels: 1 (SimpleRNN), 3 (GRU: z, r, h), 4 (LSTM: i, f, c, o). */
    protected readonly gates: number,
  ) {
    super(args, className);
    const where = `${className} '${this.name}'`;
    this.units = positiveInt(args.units, `${where}: units`);
    this.useBias = args.useBias ?? true;
    this.returnSequences = args.returnSequences ?? false;
    this.returnState = args.returnState ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.stepActivation = activationName(args.activation ?? 'tanh', where);
    if (this.stepActivation === 'softmax') throw new ArgumentError(`${where}: a softmax step activation is not supported`);
    this.args = args;
  }

  protected override get inputRank(): number {
    return 3;
  }

  /** One step: the new states (h first) from this step's projected input x·W (+ input bias) and the previous states. */
  protected abstract step(projected: Tensor, states: States): Tensor[];

  /** The bias's shape (GRU with resetAfter has two rows). */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  /** The bias initializer (LSTM's adds 1 to the forget gate). */
  protected biasInit(): InitializerSpec {
    return this.args.biasInitializer ?? 'zeros';
  }

  /** The part of the bias added to the input projection (all of it, except GRU with resetAfter). */
  protected inputBias(): Tensor | null {
    return this.bias;
  }

  protected override build(inputShape: Shape): void {
    const features = inputShape[2];
    if (features === null) throw new ShapeError(`${this.className} '${this.name}': the feature dim of input ${fmtShapeN(inputShape)} must be known`);
    const { seed } = this.args;
    const width = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [features, width], this.args.kernelInitializer ?? 'glorotUniform', { regularizer: this.args.kernelRegularizer, seed });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, width], this.args.recurrentInitializer ?? 'orthogonal', {
      regularizer: this.args.recurrentRegularizer,
      seed: seed === undefined ? undefined : seed + 1,
    });
    if (this.useBias) this.bias = this.addWeight('bias', this.biasShape(), this.biasInit(), { regularizer: this.args.biasRegularizer });
  }

  protected forward(x: Tensor): Tensor {
    return this.run(x)[0];
  }

  /**
   * Runs the layer and returns its output followed by the final states (h, and c for LSTM),
   * as TF.js's `apply` does with returnState.
   */
  applyWithState(x: SymbolicTensor): SymbolicTensor[];
  applyWithState(x: Tensor): Tensor[];
  applyWithState(x: Tensor | SymbolicTensor): Tensor[] | SymbolicTensor[] {
    if (x instanceof SymbolicTensor) {
      if (!this.returnState) throw new ArgumentError(`${this.className} '${this.name}'.applyWithState: the layer was made without returnState: true`);
      return this.applySymbolicAll([x]);
    }
    x.use(`${this.className} '${this.name}'`);
    this.ensureBuilt(x.shape);
    return this.run(x);
  }

  /** Final states: h, and c for LSTM. */
  protected get stateCount(): number {
    return 1;
  }

  /** With returnState, an application in a functional graph gives the output and the final states ([batch, units] each). */
  override symbolicOutputShapes(shapes: readonly Shape[]): Shape[] {
    const out = this.symbolicOutputShape(shapes);
    return this.returnState ? [out, ...Array.from({ length: this.stateCount }, (): Shape => [null, this.units])] : [out];
  }

  override callAll(inputs: readonly Tensor[], args: ApplyArgs = {}): Tensor[] {
    if (!this.returnState) return super.callAll(inputs, args);
    if (inputs.length !== 1) throw new ArgumentError(`${this.className} '${this.name}' takes one input, got a list of ${inputs.length}`);
    return this.applyWithState(inputs[0]);
  }

  /** [output, ...final states]. */
  private run(x: Tensor): Tensor[] {
    const [batch, steps, features] = x.shape;
    const width = this.gates * this.units;
    let projected = reshape(matMul(reshape(x, [batch * steps, features]), this.kernel!), [batch, steps, width]);
    const b = this.inputBias();
    if (b) projected = add(projected, b);
    let states: States = null;
    const outputs: Tensor[] = [];
    for (let i = 0; i < steps; i++) {
      const t = this.goBackwards ? steps - 1 - i : i;
      const xt = reshape(slice(projected, { begin: [0, t, 0], size: [batch, 1, width] }), [batch, width]);
      states = this.step(xt, states);
      if (this.returnSequences) outputs.push(reshape(states[0], [batch, 1, this.units]));
    }
    return [this.returnSequences ? concat(outputs, { axis: 1 }) : states![0], ...states!];
  }

  /** Columns [k·units, (k+1)·units) of a [rows, gates·units] tensor: gate block k. */
  protected gate(z: Tensor, k: number, count = 1): Tensor {
    return slice(z, { begin: [0, k * this.units], size: [z.shape[0], count * this.units] });
  }

  /** The step activation. */
  protected act(x: Tensor): Tensor {
    return activationFn(this.stepActivation)(x);
  }

  computeOutputShape(inputShape: Shape): Shape {
    return this.returnSequences ? [inputShape[0], inputShape[1], this.units] : [inputShape[0], this.units];
  }

  /** Config entries of the subclass (recurrent_activation, …). */
  protected cellConfig(): Record<string, unknown> {
    return {};
  }

  protected layerConfig(): Record<string, unknown> {
    const { seed } = this.args;
    return {
      units: this.units,
      activation: this.stepActivation,
      ...this.cellConfig(),
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
      return_state: this.returnState,
      go_backwards: this.goBackwards,
      stateful: false,
      unroll: false,
    };
  }
}

/** The options Recurrent's config wrote, read back (with the layer's base options). */
export function readRecurrentArgs(c: ConfigReader): RecurrentArgs {
  if (c.bool('stateful', false)) throw new ArgumentError('stateful: true is not supported');
  for (const rate of ['dropout', 'recurrent_dropout']) {
    if (c.num(rate, 0) !== 0) throw new ArgumentError(`${rate} ${c.num(rate, 0)} is not supported (only 0)`);
  }
  return {
    ...c.base(),
    units: c.int('units'),
    activation: c.str('activation', 'tanh') as ActivationName,
    useBias: c.bool('use_bias', true),
    returnSequences: c.bool('return_sequences', false),
    returnState: c.bool('return_state', false),
    goBackwards: c.bool('go_backwards', false),
    kernelInitializer: c.initializer('kernel_initializer', 'glorotUniform'),
    recurrentInitializer: c.initializer('recurrent_initializer', 'orthogonal'),
    biasInitializer: c.initializer('bias_initializer', 'zeros'),
    kernelRegularizer: c.regularizer('kernel_regularizer'),
    recurrentRegularizer: c.regularizer('recurrent_regularizer'),
    biasRegularizer: c.regularizer('bias_regularizer'),
  };
}

/** Options of the gated layers (LSTM, GRU). */
export interface GatedRecurrentArgs extends RecurrentArgs {
  /** The gates' activation (default 'hardSigmoid', as TF.js). */
  recurrentActivation?: ActivationName;
}

/** A recurrent layer with gates (LSTM, GRU): their activation and its config. */
export abstract class GatedRecurrent extends Recurrent {
  readonly recurrentActivation: ActivationName;

  constructor(args: GatedRecurrentArgs, className: string, gates: number) {
    super(args, className, gates);
    this.recurrentActivation = activationName(args.recurrentActivation ?? 'hardSigmoid', `${className} '${this.name}'`);
  }

  /** The gate activation σ. */
  protected sigma(x: Tensor): Tensor {
    return activationFn(this.recurrentActivation)(x);
  }

  protected override cellConfig(): Record<string, unknown> {
    return { recurrent_activation: this.recurrentActivation, implementation: 1 };
  }
}

/** The options GatedRecurrent's config wrote, read back. */
export function readGatedRecurrentArgs(c: ConfigReader): GatedRecurrentArgs {
  return { ...readRecurrentArgs(c), recurrentActivation: c.str('recurrent_activation', 'hardSigmoid') as ActivationName };
}

/** Options of `layers.simpleRNN`. */
export type SimpleRNNArgs = RecurrentArgs;

/** A fully connected recurrent layer: h_t = activation(x_t·W + h_{t−1}·U + b). */
export class SimpleRNN extends Recurrent {
  readonly className = 'SimpleRNN';

  constructor(args: SimpleRNNArgs) {
    super(args, 'SimpleRNN', 1);
  }

  protected step(projected: Tensor, states: States): Tensor[] {
    // h_0 = 0, so the first step has no recurrent term.
    return [this.act(states ? add(projected, matMul(states[0], this.recurrentKernel!)) : projected)];
  }

  static fromConfig(c: ConfigReader): SimpleRNN {
    return new SimpleRNN(readRecurrentArgs(c));
  }
}

registerLayer('SimpleRNN', (c) => SimpleRNN.fromConfig(c));
