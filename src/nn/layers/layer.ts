// The Layer base class: lazy building from the first input's shape, the variables a layer
// owns (trainable first, then state such as moving averages, in Keras order), its Keras
// config for model.json, and the registry that rebuilds layers from a config when loading.
import { engine } from '../../engine.js';
import { ArgumentError, fmtShape, fmtShapeN, ShapeError } from '../../errors.js';
import { assignWeights } from '../assign-weights.js';
import { variable, zeros } from '../../ops/create.js';
import { add } from '../../ops/binary.js';
import type { Variable } from '../../tensor.js';
import type { Tensor } from '../../tensor.js';
import { activationFn, activationName, type ActivationName } from '../activations.js';
import { isFusedActivation, type FusedActivation } from '../../ops/epilogue.js';
import { resolveInitializer, resolveRegularizer, type ConfigReader, type InitializerSpec, type RegularizerLike } from './config.js';
import type { Regularizer } from '../regularizers.js';
import { SymbolicTensor, isSymbolic, type LayerNode } from '../symbolic.js';
import type { DType } from '../../dtype.js';
import { Tensor as TensorClass } from '../../tensor.js';

/** A shape whose batch (or any unknown) dim is null, as Keras writes it. */
export type Shape = (number | null)[];

/** Options every layer takes. */
export interface LayerArgs {
  /** Unique name; default `<snake_case class>_<Class><n>` as TF.js names layers (e.g. `dense_Dense1`). */
  name?: string;
  /** Whether the layer's weights are updated by training (default true). */
  trainable?: boolean;
  /** Shape of one example (no batch dim); only needed on the first layer of a model. */
  inputShape?: readonly number[];
  /** Full input shape with the batch dim (null when free). */
  batchInputShape?: readonly (number | null)[];
  /** Fixed batch size, combined with `inputShape`. */
  batchSize?: number;
  /** Only 'float32' is supported. */
  dtype?: 'float32';
}

/** Options of `layer.apply`. */
export interface ApplyArgs {
  /** Training mode: dropout drops, batch normalization uses and updates batch statistics. */
  training?: boolean;
  /**
   * Skip the layer's final activation (used by training to feed softmax/sigmoid logits to a
   * fused, numerically stable cross-entropy).
   */
  preActivation?: boolean;
}

/** One weight of a layer. */
interface LayerWeight {
  readonly name: string;
  readonly variable: Variable;
  readonly trainable: boolean;
  readonly regularizer: Regularizer | null;
}

/** A Keras config object, as written in model.json: `{ class_name, config }`. */
export interface LayerConfigJson {
  class_name: string;
  config: Record<string, unknown>;
}

const counters = new Map<string, number>();

/** TF.js's snake_case of a class name: MaxPooling2D → max_pooling2d, SimpleRNN → simple_rnn. */
function toSnakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** A fresh layer name as TF.js makes them: `dense_Dense1`, `dense_Dense2`, … */
function uniqueLayerName(className: string): string {
  const n = (counters.get(className) ?? 0) + 1;
  counters.set(className, n);
  return `${toSnakeCase(className)}_${className}${n}`;
}

let initializersSuspended = false;

/**
 * Runs `fn` with weight initialisers replaced by zeros: loading a model builds its layers
 * and then overwrites every weight, so random (or orthogonal) initialisation would be wasted.
 */
export function withoutInitializers<T>(fn: () => T): T {
  const before = initializersSuspended;
  initializersSuspended = true;
  try {
    return fn();
  } finally {
    initializersSuspended = before;
  }
}

/** Base class of every layer. Subclasses implement `build`, `forward`, `computeOutputShape` and `layerConfig`. */
export abstract class Layer {
  /** The Keras class name written in model.json ('Dense', 'Conv2D', …). */
  abstract readonly className: string;
  readonly name: string;
  trainable: boolean;
  /** The declared input shape with batch dim, if any (first layer of a model). */
  readonly batchInputShape?: Shape;
  /** The activation applied last ('linear' for layers without one). */
  activation: ActivationName = 'linear';
  /** The input shape the layer was built for (batch dim null), once built. */
  protected builtShape: Shape | null = null;
  private readonly weightList: LayerWeight[] = [];

  constructor(args: LayerArgs, className: string) {
    this.name = args.name ?? uniqueLayerName(className);
    this.trainable = args.trainable ?? true;
    if (args.dtype !== undefined && args.dtype !== 'float32') {
      throw new ArgumentError(`${className} '${this.name}': dtype '${args.dtype}' is not supported (expected 'float32')`);
    }
    if (args.batchInputShape) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
  }

  /** True once the layer has created its weights. */
  get built(): boolean {
    return this.builtShape !== null;
  }

  /** Creates the weights for inputs of `inputShape` (batch dim null). Called once, lazily. */
  protected build(_inputShape: Shape): void {}

  /** The layer's computation, before its activation. */
  protected abstract forward(x: Tensor, training: boolean): Tensor;

  /** The output shape for an input of `inputShape` (batch dim may be null). */
  abstract computeOutputShape(inputShape: Shape): Shape;

  /** The layer-specific part of the Keras config (snake_case keys, as model.json holds them). */
  protected abstract layerConfig(): Record<string, unknown>;

  /** Number of input dims the layer accepts including the batch dim (e.g. 4 for Conv2D), or null for any ≥ 2. */
  protected get inputRank(): number | null {
    return null;
  }

  /** Builds the layer for `inputShape` (with batch dim) if not built yet; checks it against the declared shape. */
  ensureBuilt(inputShape: readonly (number | null)[]): void {
    const shape: Shape = [null, ...inputShape.slice(1)];
    if (this.builtShape) {
      this.checkShape(inputShape, this.builtShape, 'was built for');
      return;
    }
    if (this.batchInputShape) this.checkShape(inputShape, this.batchInputShape, 'declares inputShape');
    const rank = this.inputRank;
    if (rank !== null ? shape.length !== rank : shape.length < 2) {
      throw new ShapeError(
        `${this.className} '${this.name}': expected input of rank ${rank ?? '≥ 2'} (with the batch dim), got ${fmtShapeN(inputShape)}`,
      );
    }
    this.build(shape);
    this.builtShape = shape;
  }

  /**
   * Runs the layer on a batch `x` (building it on first use); merge layers take a list. Applied
   * to a symbolic tensor (from `input()` or another layer's `apply`), it records the call for a
   * functional model instead and returns the symbolic output.
   */
  apply(x: SymbolicTensor | readonly SymbolicTensor[], args?: ApplyArgs): SymbolicTensor;
  apply(x: Tensor | readonly Tensor[], args?: ApplyArgs): Tensor;
  apply(x: Tensor | readonly Tensor[] | SymbolicTensor | readonly SymbolicTensor[], args: ApplyArgs = {}): Tensor | SymbolicTensor {
    if (isSymbolic(x)) return this.applySymbolic(x instanceof SymbolicTensor ? [x] : x);
    if (x instanceof TensorClass) return this.call([x], args);
    if (Array.isArray(x) && x.every((t) => t instanceof TensorClass)) return this.call(x, args);
    throw new ArgumentError(`${this.className} '${this.name}': apply expects a tensor, a symbolic tensor, or a list of either (not mixed), got ${describe(x)}`);
  }

  /**
   * @internal Runs the layer on concrete inputs. Single-input layers take exactly one; merge
   * layers override this. Intermediates are the caller's tidy's.
   */
  call(inputs: readonly Tensor[], { training = false, preActivation = false }: ApplyArgs = {}): Tensor {
    if (inputs.length !== 1) throw new ArgumentError(`${this.className} '${this.name}' takes one input, got a list of ${inputs.length}`);
    const x = inputs[0];
    x.use(`${this.className} '${this.name}'`);
    this.ensureBuilt(x.shape);
    // No tidy here: under a gradient tape the intermediates must outlive the call for the
    // backward pass; the caller's tidy (fit, predict, variableGrads) frees them.
    const act = this.activation;
    if (!preActivation && isFusedActivation(act) && this.forwardFused) return this.forwardFused(x, act);
    const y = this.forward(x, training);
    return preActivation ? y : activationFn(act)(y);
  }

  /**
   * @internal Builds the layer for symbolic inputs of `shapes` and returns its output shape.
   * Single-input layers take exactly one; merge layers override this.
   */
  symbolicOutputShape(shapes: readonly Shape[]): Shape {
    if (shapes.length !== 1) throw new ArgumentError(`${this.className} '${this.name}' takes one input, got a list of ${shapes.length}`);
    this.ensureBuilt(shapes[0]);
    return this.computeOutputShape([null, ...shapes[0].slice(1)]);
  }

  /** The dtype of the layer's output for inputs of `dtypes` (float32 for every layer but InputLayer). */
  protected outputDType(_dtypes: readonly DType[]): DType {
    return 'float32';
  }

  /**
   * @internal The shapes of every tensor one application gives, for symbolic inputs of
   * `shapes`: the output alone, but for layers that also return state (recurrent layers with
   * returnState). Builds the layer.
   */
  symbolicOutputShapes(shapes: readonly Shape[]): Shape[] {
    return [this.symbolicOutputShape(shapes)];
  }

  /** @internal Every tensor one application gives on concrete inputs (see symbolicOutputShapes). */
  callAll(inputs: readonly Tensor[], args: ApplyArgs = {}): Tensor[] {
    return [this.call(inputs, args)];
  }

  /** Records one application of the layer to symbolic inputs (a node) and returns all it gives. */
  protected applySymbolicAll(inputs: readonly SymbolicTensor[]): SymbolicTensor[] {
    const shapes = this.symbolicOutputShapes(inputs.map((t) => t.shape));
    const node: LayerNode = { layer: this, inputs: [...inputs], outputs: [], index: this.inboundNodes.length };
    const dtype = this.outputDType(inputs.map((t) => t.dtype));
    shapes.forEach((shape, i) => node.outputs.push(new SymbolicTensor(shape, dtype, node, i)));
    this.inboundNodes.push(node);
    return node.outputs;
  }

  /** Records one application of the layer to symbolic inputs and returns its (first) output. */
  private applySymbolic(inputs: readonly SymbolicTensor[]): SymbolicTensor {
    return this.applySymbolicAll(inputs)[0];
  }

  /** The layer's applications to symbolic tensors, in order (Keras's inbound nodes). */
  readonly inboundNodes: LayerNode[] = [];

  /** The symbolic output of the layer's only application (e.g. to cut a model there for transfer learning). */
  get output(): SymbolicTensor {
    return this.onlyNode('output').outputs[0];
  }

  /** The symbolic input of the layer's only application. */
  get input(): SymbolicTensor | SymbolicTensor[] {
    const inputs = this.onlyNode('input').inputs;
    return inputs.length === 1 ? inputs[0] : [...inputs];
  }

  private onlyNode(what: string): LayerNode {
    if (this.inboundNodes.length === 0) throw new ArgumentError(`${this.className} '${this.name}'.${what}: the layer has not been applied to a symbolic tensor (input()) yet`);
    if (this.inboundNodes.length > 1) {
      throw new ArgumentError(`${this.className} '${this.name}'.${what}: the layer is shared (applied ${this.inboundNodes.length} times), so it has no single ${what}; use inboundNodes[i]`);
    }
    return this.inboundNodes[0];
  }

  /**
   * Layers whose kernel can apply the activation in its epilogue (dense, conv2d) implement this;
   * `apply` then uses it for relu/sigmoid/tanh/linear, saving the separate activation dispatch.
   */
  protected forwardFused?(x: Tensor, activation: FusedActivation): Tensor;

  /** Every weight, trainable first then non-trainable (Keras order, as saved). */
  get weights(): Variable[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }

  /** Weights updated by gradients (none when `trainable` is false). */
  get trainableWeights(): Variable[] {
    return this.trainable ? this.weightList.filter((w) => w.trainable).map((w) => w.variable) : [];
  }

  /** State such as batch-norm moving averages, plus every weight of a frozen layer. */
  get nonTrainableWeights(): Variable[] {
    return this.weightList.filter((w) => !w.trainable || !this.trainable).map((w) => w.variable);
  }

  /** Weight names in `weights` order, as saved: `<layer name>/<weight name>`. */
  get weightNames(): string[] {
    return this.weights.map((v) => v.name!);
  }

  /** Number of scalars in the layer's weights. */
  countParams(): number {
    return this.weightList.reduce((n, w) => n + w.variable.size, 0);
  }

  /**
   * The weights' current values in `weights` order. Each is a new tensor sharing the
   * variable's present storage (no copy): training replaces a variable's storage rather than
   * writing into it, so the result keeps these values. The caller owns (disposes) them.
   */
  getWeights(): Tensor[] {
    return this.weights.map((v) => engine.view(v, v.shape, 'getWeights'));
  }

  /** Sets every weight (in `weights` order) after checking all the shapes, so a mismatch changes nothing. */
  setWeights(values: readonly Tensor[]): void {
    assignWeights(`${this.className} '${this.name}'`, this.weights, values);
  }

  /** The sum of the weight regularisers' penalties, or null when there are none. */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const w of this.weightList) {
      if (!w.regularizer || !this.trainable) continue;
      const r = w.regularizer.apply(w.variable);
      total = total ? add(total, r) : r;
    }
    return total;
  }

  /** The Keras config: `{ class_name, config }` with snake_case keys, as TF.js writes model.json. */
  getConfig(): LayerConfigJson {
    const config: Record<string, unknown> = { ...this.layerConfig(), name: this.name, trainable: this.trainable };
    if (this.batchInputShape) config.batch_input_shape = [...this.batchInputShape];
    config.dtype = 'float32';
    return { class_name: this.className, config };
  }

  /** Frees the layer's weights; the layer cannot be used afterwards. */
  dispose(): void {
    for (const w of this.weightList) w.variable.dispose();
  }

  /** Creates a weight `name` of `shape`, initialised by `init` (a name, function or Keras config). */
  protected addWeight(
    name: string,
    shape: number[],
    init: InitializerSpec,
    { trainable = true, regularizer = null, seed }: { trainable?: boolean; regularizer?: RegularizerLike | null; seed?: number } = {},
  ): Variable {
    const value = engine.tidy(() =>
      initializersSuspended ? zeros(shape) : resolveInitializer(init, `${this.className} '${this.name}' ${name}`)(shape, { seed }),
    );
    if (value.shape.length !== shape.length || value.shape.some((d, i) => d !== shape[i])) {
      value.dispose();
      throw new ShapeError(`${this.className} '${this.name}': the initializer of '${name}' returned ${fmtShape(value.shape)}, expected ${fmtShape(shape)}`);
    }
    const v = variable(value, { trainable, name: `${this.name}/${name}` });
    value.dispose();
    this.weightList.push({ name, variable: v, trainable, regularizer: resolveRegularizer(regularizer) });
    return v;
  }

  /** Resolves and stores the activation option. */
  protected setActivation(name: string | null | undefined): void {
    this.activation = activationName(name, `${this.className} '${this.name}'`);
  }

  private checkShape(actual: readonly (number | null)[], expected: readonly (number | null)[], what: string): void {
    const ok = actual.length === expected.length && expected.every((d, i) => i === 0 || d === null || d === actual[i]);
    const batchOk = expected[0] == null || actual[0] == null || expected[0] === actual[0] || what === 'was built for';
    if (!ok || !batchOk) {
      throw new ShapeError(`${this.className} '${this.name}' ${what} ${fmtShapeN(expected)} but got input ${fmtShapeN(actual)}`);
    }
  }
}

/** A short description of a value for error messages. */
function describe(x: unknown): string {
  if (Array.isArray(x)) return `a list of ${x.length} (${x.map((v) => (v instanceof TensorClass ? 'Tensor' : v instanceof SymbolicTensor ? 'SymbolicTensor' : typeof v)).join(', ')})`;
  return x === null ? 'null' : typeof x === 'object' ? ((x as object).constructor?.name ?? 'object') : typeof x;
}

/** Shapes with unknown dims print as symbolic tensors' do (the function lives with fmtShape). */
export { fmtShapeN };

/** Rebuilds a layer from the `config` part of its Keras JSON. */
type LayerFactory = (config: ConfigReader) => Layer;

const registry = new Map<string, LayerFactory>();

/** Registers the factory `loadModel` uses for `className`. */
export function registerLayer(className: string, factory: LayerFactory): void {
  registry.set(className, factory);
}

/** The factory for `className`, or undefined. */
export function layerFactory(className: string): LayerFactory | undefined {
  return registry.get(className);
}

/** Class names `loadModel` can rebuild. */
export function registeredLayers(): string[] {
  return [...registry.keys()];
}
