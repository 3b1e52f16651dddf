// Sequential: a stack of layers with the Keras/TF.js model API — add, summary, compile, fit,
// evaluate, predict, trainOnBatch, save — and the forward pass training differentiates.
import { engine } from '../engine.js';
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { assignWeights } from './assign-weights.js';
import type { IOHandler } from '../io/artifacts.js';
import { getMetric, type Metric } from './metrics.js';
import { getOptimizer, type Optimizer } from '../optim/index.js';
import { add, mul } from '../ops/binary.js';
import { concat } from '../ops/transform.js';
import { Tensor, type Variable } from '../tensor.js';
import { activationFn, type ActivationName } from './activations.js';
import type { CallbackModel } from './callbacks.js';
import { isDataSource, subset, tensors, type DataSource } from './data.js';
import { Layer, fmtShapeN, type Shape } from './layers/layer.js';
import { getLoss, type Loss, type LossFn } from './losses.js';
import { saveModel, type SaveResult } from './serialize.js';
import { summaryLines } from './summary.js';
import { evaluateSums, fitLoop, guardedStep, NonFiniteLossError, StepState, type FitArgs, type History } from './training.js';
import { StepPlans } from '../graph/step-plans.js';
import { objectId } from '../graph/object-id.js';
import { moveHostWeightsToCurrentBackend, moveToCurrentBackend } from './relocate.js';
import { scalar, variable } from '../ops/create.js';

/** Options of `model.compile`. */
export interface ModelCompileArgs {
  /** An optimizer, or a name ('adam', 'sgd', 'rmsprop', 'adagrad') with default settings. */
  optimizer: string | Optimizer;
  /** A loss name (camelCase or snake_case) or function. */
  loss: string | LossFn;
  /** Metric names ('accuracy'/'acc', 'sparseCategoricalAccuracy', …, or a loss name) or functions. */
  metrics?: string | Metric | readonly (string | Metric)[];
}

/** A compiled metric: its log key ('acc' for accuracy, as TF.js) and function. */
export interface CompiledMetric {
  key: string;
  /** The identifier as given (written into the training config). */
  identifier: string;
  fn: Metric;
}

/** Options of `sequential()`. */
export interface SequentialArgs {
  layers?: readonly Layer[];
  name?: string;
}

let modelCount = 0;

/** A linear stack of layers. */
export class Sequential implements CallbackModel {
  readonly name: string;
  readonly layers: Layer[] = [];
  /** Set by callbacks to end fit. */
  stopTraining = false;
  /** Set by compile. */
  optimizer: Optimizer | null = null;
  /** Set by compile. */
  lossSpec: Loss | null = null;
  compiledMetrics: CompiledMetric[] = [];
  /** @internal Recorded steps of fit/evaluate/predict/trainOnBatch, replayed per batch. */
  readonly stepPlans = new StepPlans();
  private ownsOptimizer = false;
  private state: StepState | null = null;
  private evalSums: Variable[] = [];

  constructor({ layers = [], name }: SequentialArgs = {}) {
    this.name = name ?? `sequential_${++modelCount}`;
    for (const layer of layers) this.add(layer);
  }

  /** Appends a layer. The first layer needs an `inputShape` (or `batchInputShape`) for summary/build. */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new ArgumentError(`${this.name}.add: expected a layer (e.g. layers.dense({ units: 10 })), got ${typeof layer}`);
    if (this.layers.includes(layer)) throw new ArgumentError(`${this.name}.add: layer '${layer.name}' is already in the model`);
    if (this.layers.some((l) => l.name === layer.name)) {
      throw new ArgumentError(`${this.name}.add: a layer named '${layer.name}' is already in the model (layer names must be unique)`);
    }
    this.layers.push(layer);
  }

  /** The input shape with batch dim (from the first layer), or null when not declared. */
  get inputShape(): Shape | null {
    return this.layers[0]?.batchInputShape ?? null;
  }

  /** Builds every layer for inputs of `inputShape` (default: the first layer's declared shape); returns the output shape. */
  build(inputShape?: readonly (number | null)[]): Shape {
    if (this.layers.length === 0) throw new ArgumentError(`${this.name}: the model has no layers`);
    let shape: Shape | null = inputShape ? [...inputShape] : this.inputShape;
    if (!shape) {
      throw new ShapeError(`${this.name}: the input shape is unknown; give the first layer an inputShape (e.g. layers.dense({ units: 10, inputShape: [784] }))`);
    }
    for (const layer of this.layers) {
      layer.ensureBuilt(shape);
      shape = layer.computeOutputShape(shape);
    }
    return shape;
  }

  /** The output shape (batch dim null). */
  get outputShape(): Shape {
    let shape: Shape | null = this.inputShape;
    if (!shape) throw new ShapeError(`${this.name}: the input shape is unknown; give the first layer an inputShape`);
    for (const layer of this.layers) shape = layer.computeOutputShape(shape);
    return shape;
  }

  /** Runs the layers on `x` (not in training mode unless asked). Intermediates are the caller's tidy's. */
  apply(x: Tensor, { training = false }: { training?: boolean } = {}): Tensor {
    if (this.layers.length === 0) throw new ArgumentError(`${this.name}: the model has no layers`);
    let h = x;
    for (const layer of this.layers) h = layer.apply(h, { training });
    return h;
  }

  /** Predictions for `x` (a tensor or data source), computed `batchSize` examples at a time (default 32). */
  predict(x: Tensor | DataSource, { batchSize = 32 }: { batchSize?: number } = {}): Tensor {
    checkBatchSize('predict', batchSize);
    moveHostWeightsToCurrentBackend(this, 'predict');
    if (x instanceof Tensor && x.shape[0] <= batchSize) return this.predictBatch(x);
    const source = isDataSource(x) ? x : tensors(x);
    try {
      const parts: Tensor[] = [];
      for (let start = 0; start < source.size; start += batchSize) {
        // In a tidy: making a batch may leave intermediates (a slice's view, a cast), which it disposes.
        const batch = engine.tidy(() => source.range(start, Math.min(source.size, start + batchSize))());
        parts.push(this.predictBatch(batch.xs));
        batch.xs.dispose();
        batch.ys?.dispose();
      }
      if (parts.length === 0) throw new ArgumentError(`${this.name}.predict: no examples`);
      return concatTree(parts);
    } finally {
      if (source !== x) source.dispose();
    }
  }

  /** The model's output for one batch, through the step plans. */
  private predictBatch(x: Tensor): Tensor {
    return this.stepPlans.run('predict', this.planSignature(), [x], () => [this.apply(x)])[0];
  }

  /**
   * @internal What a recorded step depends on besides its batch shape: the backend, fusion, the
   * layers, their trainable flags and variables, the optimizer with its hyperparameters, the loss
   * and metrics. Plans recorded under another signature are dropped.
   */
  planSignature(): string {
    const layers = this.layers.map((l) => `${objectId(l)}${l.trainable ? '' : 'f'}:${l.weights.map((v) => v.id).join(',')}`).join(';');
    const optimizer = this.optimizer ? `${objectId(this.optimizer)}${JSON.stringify(this.optimizer.getConfig().config)}` : '-';
    const loss = this.lossSpec ? objectId(this.lossSpec) : '-';
    const metrics = this.compiledMetrics.map((m) => objectId(m.fn)).join(',');
    return `${objectId(engine.backend)}|${engine.graph.enabled ? 1 : 0}|${layers}|${optimizer}|${loss}|${metrics}`;
  }

  /** @internal The device-side state of fit and trainOnBatch (made once per metric count). */
  trainingState(): StepState {
    const metrics = this.compiledMetrics.length;
    if (this.state?.metrics !== metrics || this.state.ok.isDisposed || this.state.ok.backend !== engine.backend) {
      this.state?.dispose();
      this.state = new StepState(metrics);
    }
    return this.state;
  }

  /** @internal The device-side sums of evaluate: [loss, ...metrics]. */
  evaluationSums(): Variable[] {
    const n = 1 + this.compiledMetrics.length;
    if (this.evalSums.length !== n || this.evalSums[0].isDisposed || this.evalSums[0].backend !== engine.backend) {
      this.evalSums.forEach((v) => v.dispose());
      this.evalSums = engine.tidy(() => Array.from({ length: n }, () => variable(scalar(0), { trainable: false })));
    }
    return this.evalSums;
  }

  /** Configures training. */
  compile({ optimizer, loss, metrics = [] }: ModelCompileArgs): void {
    const lossSpec = getLoss(loss);
    const list = typeof metrics === 'string' || typeof metrics === 'function' ? [metrics] : [...metrics];
    const compiled = list.map(compileMetric);
    const opt = getOptimizer(optimizer);
    if (this.ownsOptimizer && this.optimizer !== opt) this.optimizer?.dispose();
    this.optimizer = opt;
    this.ownsOptimizer = typeof optimizer === 'string';
    this.lossSpec = lossSpec;
    this.compiledMetrics = compiled;
  }

  /**
   * @internal The loss of a batch (plus the layers' regularisation penalties) and the model's
   * output. When the loss absorbs the last layer's activation (softmax with a categorical
   * cross-entropy, sigmoid with binary cross-entropy), `output` is the pre-activation.
   */
  computeLoss(xs: Tensor, ys: Tensor, training: boolean): { loss: Tensor; output: Tensor } {
    const loss = this.requireCompiled('fit');
    const last = this.layers[this.layers.length - 1];
    const fused = this.fusedActivation() !== null;
    let h = xs;
    for (const layer of this.layers.slice(0, -1)) h = layer.apply(h, { training });
    const output = last.apply(h, { training, preActivation: fused });
    let value = fused ? loss.fused!.fromLogits(ys, output) : loss.fn(ys, output);
    for (const layer of this.layers) {
      const penalty = layer.regularizationLoss();
      if (penalty) value = add(value, penalty);
    }
    return { loss: value, output };
  }

  /** @internal Predictions from computeLoss's output (applies the activation the loss absorbed). */
  predictionsFromOutput(output: Tensor): Tensor {
    const act = this.fusedActivation();
    return act ? activationFn(act)(output) : output;
  }

  /** The activation the compiled loss absorbs, if the last layer ends with it. */
  private fusedActivation(): ActivationName | null {
    const fused = this.lossSpec?.fused;
    const last = this.layers[this.layers.length - 1];
    return fused && last && last.activation === fused.activation ? fused.activation : null;
  }

  /**
   * Trains the model. `x`/`y` are tensors, or pass a data source (e.g. `data.arrays(...)`) as
   * `x` and the options second. Resolves with the per-epoch history.
   */
  async fit(x: Tensor | DataSource, y?: Tensor | FitArgs, args: FitArgs = {}): Promise<History> {
    this.requireCompiled('fit');
    let source: DataSource;
    let ownsSource = false;
    if (isDataSource(x)) {
      if (y !== undefined && !(y instanceof Tensor)) args = y;
      source = x;
    } else {
      if (!(y instanceof Tensor)) throw new ArgumentError(`${this.name}.fit: expected labels y as a tensor after x (or pass a data source as x)`);
      source = tensors(x, y);
      ownsSource = true;
    }
    if (!source.hasLabels) throw new ArgumentError(`${this.name}.fit: the data has no labels`);
    this.build([null, ...source.exampleShape]);
    let train = source;
    let val: DataSource | null = null;
    let ownsVal = false;
    if (args.validationData) {
      const vd = args.validationData;
      val = isDataSource(vd) ? vd : tensors(vd[0], vd[1]);
      ownsVal = !isDataSource(vd);
    } else if (args.validationSplit !== undefined) {
      const split = args.validationSplit;
      if (!(split > 0 && split < 1)) throw new ArgumentError(`${this.name}.fit: validationSplit should be in (0, 1), got ${split}`);
      const at = Math.floor(source.size * (1 - split));
      train = subset(source, 0, at);
      val = subset(source, at, source.size);
    }
    try {
      return await fitLoop(this, train, val, args);
    } finally {
      if (ownsSource) source.dispose();
      if (ownsVal) val?.dispose();
    }
  }

  /**
   * Loss and metrics over `x`/`y` (or a data source), averaged over examples, as scalar tensors:
   * the loss alone, or [loss, ...metrics] when metrics were compiled. Nothing is read back.
   */
  async evaluate(x: Tensor | DataSource, y?: Tensor | { batchSize?: number }, args: { batchSize?: number } = {}): Promise<Tensor | Tensor[]> {
    this.requireCompiled('evaluate');
    let source: DataSource;
    if (isDataSource(x)) {
      if (y !== undefined && !(y instanceof Tensor)) args = y;
      source = x;
    } else {
      if (!(y instanceof Tensor)) throw new ArgumentError(`${this.name}.evaluate: expected labels y as a tensor after x`);
      source = tensors(x, y);
    }
    const batchSize = args.batchSize ?? 32;
    checkBatchSize('evaluate', batchSize);
    try {
      if (source.size === 0) throw new ArgumentError(`${this.name}.evaluate: no examples`);
      this.build([null, ...source.exampleShape]);
      await moveToCurrentBackend(this, 'evaluate');
      const sums = this.evaluationSums();
      evaluateSums(this, source, batchSize, sums);
      const means = engine.tidy(() => sums.map((s) => mul(s, 1 / source.size)));
      return means.length === 1 ? means[0] : means;
    } finally {
      if (source !== x) source.dispose();
    }
  }

  /** One gradient step on one batch; resolves with the loss (or [loss, ...metrics]) of that batch. */
  async trainOnBatch(x: Tensor, y: Tensor): Promise<number | number[]> {
    this.requireCompiled('trainOnBatch');
    this.build([null, ...x.shape.slice(1)]);
    await moveToCurrentBackend(this, 'trainOnBatch');
    const state = this.trainingState();
    state.reset();
    guardedStep(this, { xs: x, ys: y }, state);
    const { values } = await state.read();
    const n = x.shape[0];
    if (values[values.length - 1] < 1) {
      throw new NonFiniteLossError(`${this.name}.trainOnBatch: the loss is non-finite (NaN or ±Infinity); the weights were left unchanged`, 0, 0, 0);
    }
    const out = Array.from(values.slice(0, -1), (v) => v / n);
    return out.length === 1 ? out[0] : out;
  }

  /** Every weight, layer by layer (trainable then non-trainable within a layer). */
  get weights(): Variable[] {
    return this.layers.flatMap((l) => l.weights);
  }

  /** Weights updated by training. */
  get trainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  /** Weights not updated by gradients (batch-norm statistics, frozen layers). */
  get nonTrainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }

  /** Total number of weights' scalars. */
  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** The weights' current values (views sharing storage; the caller disposes them). Builds the model if needed. */
  getWeights(): Tensor[] {
    this.buildIfKnown();
    return this.layers.flatMap((l) => l.getWeights());
  }

  /** Sets every weight, in `weights` order, after checking all shapes (a mismatch changes nothing). */
  setWeights(values: readonly Tensor[]): void {
    this.buildIfKnown();
    assignWeights(`Sequential '${this.name}'`, this.weights, values);
  }

  /**
   * Prints the Keras summary table (layer, output shape, parameters, totals). Accepts TF.js's
   * (lineLength?, positions?, printFn?) or just a printFn; prints with console.log by default.
   */
  summary(lineLength?: number | ((line: string) => void), positions?: number[], printFn?: (line: string) => void): void {
    const print = typeof lineLength === 'function' ? lineLength : (printFn ?? console.log);
    const length = typeof lineLength === 'number' ? lineLength : undefined;
    this.build();
    for (const line of summaryLines(this, length, positions)) print(line);
  }

  /** The Keras config of the model: `{ class_name: 'Sequential', config: { name, layers } }`. */
  getConfig(): { class_name: 'Sequential'; config: { name: string; layers: object[] } } {
    return { class_name: 'Sequential', config: { name: this.name, layers: this.layers.map((l) => l.getConfig()) } };
  }

  /** The training configuration saved with the model (TF.js's training_config), or undefined before compile. */
  getTrainingConfig(): object | undefined {
    if (!this.lossSpec || !this.optimizer) return undefined;
    const { className, config } = this.optimizer.getConfig();
    return {
      loss: this.lossSpec.name,
      metrics: this.compiledMetrics.map((m) => m.identifier),
      optimizer_config: { class_name: className, config },
      loss_weights: null,
      sample_weight_mode: null,
    };
  }

  /**
   * Saves the model in the TF.js LayersModel format to 'file://DIR' (Node), 'indexeddb://NAME',
   * 'downloads://NAME' (browser), or any IOHandler.
   */
  save(target: string | IOHandler): Promise<SaveResult> {
    this.build();
    return saveModel(this, target);
  }

  /** Frees the weights (and an optimizer compile() created from a name). */
  dispose(): void {
    this.stepPlans.dispose();
    this.state?.dispose();
    this.state = null;
    this.evalSums.forEach((v) => v.dispose());
    this.evalSums = [];
    for (const layer of this.layers) layer.dispose();
    if (this.ownsOptimizer) this.optimizer?.dispose();
  }

  /** Builds the layers when the input shape is declared and they are not built yet. */
  private buildIfKnown(): void {
    if (this.inputShape && this.layers.some((l) => !l.built)) this.build();
  }

  private requireCompiled(op: string): Loss {
    if (!this.lossSpec || !this.optimizer) throw new ArgumentError(`${this.name}.${op}: call compile({ optimizer, loss }) first`);
    return this.lossSpec;
  }

  toString(): string {
    return `Sequential '${this.name}' (${this.layers.map((l) => l.className).join(' → ')}) input ${this.inputShape ? fmtShapeN(this.inputShape) : '?'}`;
  }
}

/** A sequential model: `sequential({ layers: [layers.dense({ units: 10, inputShape: [4] })] })`. */
export function sequential(args: SequentialArgs = {}): Sequential {
  return new Sequential(args);
}

function compileMetric(m: string | Metric): CompiledMetric {
  if (typeof m === 'function') return { key: m.name || 'metric', identifier: m.name || 'metric', fn: m };
  // TF.js logs 'accuracy' as 'acc'.
  const key = m === 'accuracy' || m === 'acc' ? 'acc' : m;
  try {
    return { key, identifier: m, fn: getMetric(m) };
  } catch (e) {
    // A loss name works as a metric too ('mse', 'categoricalCrossentropy').
    try {
      return { key, identifier: m, fn: getLoss(m).fn };
    } catch {
      throw e;
    }
  }
}

function checkBatchSize(op: string, batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`${op}: batchSize should be a positive integer, got ${batchSize}`);
}

/** Concatenates along axis 0 pairwise, so k parts cost O(n log k) copies rather than O(n·k). */
function concatTree(parts: Tensor[]): Tensor {
  let level = parts;
  while (level.length > 1) {
    const next: Tensor[] = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        next.push(level[i]);
        continue;
      }
      next.push(concat([level[i], level[i + 1]], { axis: 0 }));
      level[i].dispose();
      level[i + 1].dispose();
    }
    level = next;
  }
  return level[0];
}
