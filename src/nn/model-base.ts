// What Sequential and functional models share: compile (one loss per output), fit, evaluate,
// predict and trainOnBatch through the compiled step plans, weights, summary and save. A
// subclass says how inputs flow to outputs (`forward`) and how it describes itself.
import { engine } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { IOHandler } from '../io/artifacts.js';
import { getOptimizer, type Optimizer } from '../optim/index.js';
import { add, mul } from '../ops/binary.js';
import { scalar, variable } from '../ops/create.js';
import { concat } from '../ops/transform.js';
import { Tensor, type Variable } from '../tensor.js';
import { StepPlans } from '../graph/step-plans.js';
import { objectId } from '../graph/object-id.js';
import { activationFn, type ActivationName } from './activations.js';
import { assignWeights } from './assign-weights.js';
import type { CallbackModel } from './callbacks.js';
import { batchInputs, disposeBatch, isDataSource, subset, tensorLists, tensors, type DataSource } from './data.js';
import type { Layer } from './layers/layer.js';
import { getLoss, type Loss, type LossFn } from './losses.js';
import { getMetric, type Metric } from './metrics.js';
import { moveHostWeightsToCurrentBackend, moveToCurrentBackend } from './relocate.js';
import { saveModel, type SaveResult } from './serialize.js';
import { summaryLines, type SummaryRow } from './summary.js';
import { evaluateSums, fitLoop, guardedStep, NonFiniteLossError, StepState, type FitArgs, type History } from './training.js';

/** Options of `model.compile`. */
export interface ModelCompileArgs {
  /** An optimizer, or a name ('adam', 'sgd', 'rmsprop', 'adagrad') with default settings. */
  optimizer: string | Optimizer;
  /**
   * A loss name (camelCase or snake_case) or function. A model with several outputs takes one
   * loss, applied to every output, or a list with one per output; the training loss is their sum.
   */
  loss: string | LossFn | readonly (string | LossFn)[];
  /**
   * Metric names ('accuracy'/'acc', 'sparseCategoricalAccuracy', …, or a loss name) or
   * functions. With several outputs each metric is computed on every output.
   */
  metrics?: string | Metric | readonly (string | Metric)[];
}

/** A compiled metric: its log key ('acc' for accuracy, as TF.js) and function. */
export interface CompiledMetric {
  key: string;
  /** The identifier as given (written into the training config). */
  identifier: string;
  fn: Metric;
}

/** Model inputs: one tensor, or a list with one per model input. */
export type ModelInputs = Tensor | readonly Tensor[];

let modelCount = 0;

/** A fresh model name as TF.js makes them: `sequential_1`, `model_2`, … */
export function uniqueModelName(prefix: string): string {
  return `${prefix}_${++modelCount}`;
}

/** The base of Sequential and LayersModel (functional) models. */
export abstract class BaseModel implements CallbackModel {
  /** The Keras class name written in model.json ('Sequential', 'Model'). */
  abstract readonly className: string;
  /** Every layer, each once, in the order their weights are listed and saved. */
  abstract readonly layers: Layer[];
  /** Set by callbacks to end fit. */
  stopTraining = false;
  /** Set by compile. */
  optimizer: Optimizer | null = null;
  /** Set by compile: the loss of each output. */
  losses: Loss[] = [];
  /** Set by compile: metrics, computed on each output. */
  compiledMetrics: CompiledMetric[] = [];
  /** @internal Recorded steps of fit/evaluate/predict/trainOnBatch, replayed per batch. */
  readonly stepPlans = new StepPlans();
  private ownsOptimizer = false;
  /** Whether compile got a list of losses (saved as a list). */
  private lossList = false;
  private state: StepState | null = null;
  private evalSums: Variable[] = [];

  constructor(readonly name: string) {}

  /** Number of inputs the model takes. */
  abstract get inputCount(): number;

  /** Number of outputs the model gives. */
  abstract get outputCount(): number;

  /** The names of the outputs (their layers'), which prefix metric logs of multi-output models. */
  protected abstract outputNames(): string[];

  /** The layer whose activation ends each output, if a fused loss may absorb it (else null). */
  protected abstract fusableOutputLayers(): (Layer | null)[];

  /** Builds what is not built yet for examples of `exampleShape` (the first input's). */
  protected abstract prepare(exampleShape: readonly number[]): void;

  /** Builds the layers if their input shapes are known. */
  protected abstract buildIfKnown(): void;

  /** Builds the layers for the declared input shapes (throws a ShapeError naming what is missing). */
  protected abstract buildDeclared(): void;

  /**
   * @internal The outputs for `inputs`, output i before its final activation where
   * `preActivation[i]`. Intermediates are the caller's tidy's.
   */
  abstract forward(inputs: readonly Tensor[], training: boolean, preActivation?: readonly boolean[]): Tensor[];

  /** The summary table's rows and column headers. */
  protected abstract summaryRows(): { header: string[]; rows: SummaryRow[] };

  /** The Keras config of the model (model.json's modelTopology). */
  abstract getConfig(): { class_name: string; config: object };

  /** Predictions for `x`: one output as a tensor, several as a list. Batched `batchSize` examples at a time (default 32). */
  predict(x: ModelInputs | DataSource, { batchSize = 32 }: { batchSize?: number } = {}): Tensor | Tensor[] {
    checkBatchSize('predict', batchSize);
    moveHostWeightsToCurrentBackend(this, 'predict');
    const list = isDataSource(x) ? null : this.checkInputs('predict', x);
    const single = (outs: Tensor[]) => (outs.length === 1 ? outs[0] : outs);
    if (list && list[0].shape[0] <= batchSize) return single(this.predictBatch(list));
    const source = isDataSource(x) ? x : tensorLists(list!);
    try {
      const parts: Tensor[][] = [];
      for (let start = 0; start < source.size; start += batchSize) {
        // In a tidy: making a batch may leave intermediates (a slice's view, a cast), which it disposes.
        const batch = engine.tidy(() => source.range(start, Math.min(source.size, start + batchSize))());
        parts.push(this.predictBatch(batchInputs(batch)));
        disposeBatch(batch);
      }
      if (parts.length === 0) throw new ArgumentError(`${this.name}.predict: no examples`);
      return single(parts[0].map((_, i) => concatTree(parts.map((p) => p[i]))));
    } finally {
      if (source !== x) source.dispose();
    }
  }

  /** The model's outputs for one batch, through the step plans. */
  private predictBatch(xs: readonly Tensor[]): Tensor[] {
    return this.stepPlans.run('predict', this.planSignature(), xs, () => this.forward(xs, false));
  }

  /**
   * @internal What a recorded step depends on besides its batch shape: the backend, fusion, the
   * layers, their trainable flags and variables, the optimizer with its hyperparameters, the loss
   * and metrics. Plans recorded under another signature are dropped.
   */
  planSignature(): string {
    const layers = this.layers.map((l) => `${objectId(l)}${l.trainable ? '' : 'f'}:${l.weights.map((v) => v.id).join(',')}`).join(';');
    const optimizer = this.optimizer ? `${objectId(this.optimizer)}${JSON.stringify(this.optimizer.getConfig().config)}` : '-';
    const loss = this.losses.length ? this.losses.map((l) => objectId(l)).join(',') : '-';
    const metrics = this.compiledMetrics.map((m) => objectId(m.fn)).join(',');
    return `${objectId(engine.backend)}|${engine.graph.enabled ? 1 : 0}|${layers}|${optimizer}|${loss}|${metrics}`;
  }

  /** @internal Names of the logged values: 'loss', then each metric (per output, prefixed, when there are several). */
  logNames(): string[] {
    const keys = this.compiledMetrics.map((m) => m.key);
    if (this.outputCount === 1) return ['loss', ...keys];
    return ['loss', ...this.outputNames().flatMap((out) => keys.map((k) => `${out}_${k}`))];
  }

  /** @internal The device-side state of fit and trainOnBatch (made once per metric count). */
  trainingState(): StepState {
    const metrics = this.logNames().length - 1;
    if (this.state?.metrics !== metrics || this.state.ok.isDisposed || this.state.ok.backend !== engine.backend) {
      this.state?.dispose();
      this.state = new StepState(metrics);
    }
    return this.state;
  }

  /** @internal The device-side sums of evaluate: [loss, ...metrics]. */
  evaluationSums(): Variable[] {
    const n = this.logNames().length;
    if (this.evalSums.length !== n || this.evalSums[0].isDisposed || this.evalSums[0].backend !== engine.backend) {
      this.evalSums.forEach((v) => v.dispose());
      this.evalSums = engine.tidy(() => Array.from({ length: n }, () => variable(scalar(0), { trainable: false })));
    }
    return this.evalSums;
  }

  /** Configures training. */
  compile({ optimizer, loss, metrics = [] }: ModelCompileArgs): void {
    const lossList = Array.isArray(loss);
    const given = lossList ? [...(loss as readonly (string | LossFn)[])] : [loss as string | LossFn];
    if (lossList && given.length !== this.outputCount) {
      throw new ArgumentError(`${this.name}.compile: got ${given.length} losses for ${this.outputCount} output(s); give one loss, or one per output`);
    }
    const losses = given.map((l) => getLoss(l));
    const list = typeof metrics === 'string' || typeof metrics === 'function' ? [metrics] : [...metrics];
    const compiled = list.map(compileMetric);
    const opt = getOptimizer(optimizer);
    if (this.ownsOptimizer && this.optimizer !== opt) this.optimizer?.dispose();
    this.optimizer = opt;
    this.ownsOptimizer = typeof optimizer === 'string';
    this.losses = lossList ? losses : Array.from({ length: this.outputCount }, () => losses[0]);
    this.lossList = lossList;
    this.compiledMetrics = compiled;
  }

  /**
   * @internal The loss of a batch (the sum of the outputs' losses plus the layers'
   * regularisation penalties) and the model's outputs. Where a loss absorbs its output's final
   * activation (softmax with a categorical cross-entropy, sigmoid with binary cross-entropy),
   * that output is the pre-activation.
   */
  computeLoss(xs: readonly Tensor[], ys: readonly Tensor[], training: boolean): { loss: Tensor; outputs: Tensor[] } {
    this.requireCompiled('fit');
    if (ys.length !== this.outputCount) throw new ArgumentError(`${this.name}: got ${ys.length} target tensor(s) for ${this.outputCount} output(s)`);
    const fused = this.fusedActivations();
    const outputs = this.forward(xs, training, fused.map((a) => a !== null));
    let value: Tensor | null = null;
    outputs.forEach((out, i) => {
      const loss = this.losses[i];
      const term = fused[i] ? loss.fused!.fromLogits(ys[i], out) : loss.fn(ys[i], out);
      value = value ? add(value, term) : term;
    });
    for (const layer of this.layers) {
      const penalty = layer.regularizationLoss();
      if (penalty) value = add(value!, penalty);
    }
    return { loss: value!, outputs };
  }

  /** @internal The metrics of a batch, in logNames order, from computeLoss's outputs. */
  metricValues(ys: readonly Tensor[], outputs: readonly Tensor[]): Tensor[] {
    const fused = this.fusedActivations();
    const preds = outputs.map((out, i) => (fused[i] ? activationFn(fused[i]!)(out) : out));
    return preds.flatMap((p, i) => this.compiledMetrics.map((m) => m.fn(ys[i], p)));
  }

  /** The activation each output's compiled loss absorbs, if its layer ends with it. */
  private fusedActivations(): (ActivationName | null)[] {
    const layers = this.fusableOutputLayers();
    return this.losses.map((loss, i) => {
      const fused = loss.fused;
      return fused && layers[i]?.activation === fused.activation ? fused.activation : null;
    });
  }

  /**
   * Trains the model. `x`/`y` are tensors (lists of tensors for several inputs/outputs, in
   * the model's order), or pass a data source (e.g. `data.arrays(...)`) as `x` and the options
   * second. Resolves with the per-epoch history.
   */
  async fit(x: ModelInputs | DataSource, y?: ModelInputs | FitArgs, args: FitArgs = {}): Promise<History> {
    this.requireCompiled('fit');
    if (isDataSource(x) && y !== undefined && !isTensors(y)) args = y;
    const source = this.source('fit', x, isTensors(y) ? y : undefined);
    if (!source.hasLabels) throw new ArgumentError(`${this.name}.fit: the data has no labels`);
    this.prepare(source.exampleShape);
    let train = source;
    let val: DataSource | null = null;
    let ownsVal = false;
    try {
      if (args.validationData) {
        const vd = args.validationData;
        val = isDataSource(vd) ? vd : this.source('fit (validationData)', vd[0], vd[1]);
        ownsVal = !isDataSource(vd);
      } else if (args.validationSplit !== undefined) {
        const split = args.validationSplit;
        if (!(split > 0 && split < 1)) throw new ArgumentError(`${this.name}.fit: validationSplit should be in (0, 1), got ${split}`);
        const at = Math.floor(source.size * (1 - split));
        train = subset(source, 0, at);
        val = subset(source, at, source.size);
      }
      return await fitLoop(this, train, val, args);
    } finally {
      if (source !== x) source.dispose();
      if (ownsVal) val?.dispose();
    }
  }

  /**
   * Loss and metrics over `x`/`y` (or a data source), averaged over examples, as scalar tensors:
   * the loss alone, or [loss, ...metrics] when metrics were compiled. Nothing is read back.
   */
  async evaluate(x: ModelInputs | DataSource, y?: ModelInputs | { batchSize?: number }, args: { batchSize?: number } = {}): Promise<Tensor | Tensor[]> {
    this.requireCompiled('evaluate');
    if (isDataSource(x) && y !== undefined && !isTensors(y)) args = y;
    const source = this.source('evaluate', x, isTensors(y) ? y : undefined);
    const batchSize = args.batchSize ?? 32;
    checkBatchSize('evaluate', batchSize);
    try {
      if (source.size === 0) throw new ArgumentError(`${this.name}.evaluate: no examples`);
      this.prepare(source.exampleShape);
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
  async trainOnBatch(x: ModelInputs, y: ModelInputs): Promise<number | number[]> {
    this.requireCompiled('trainOnBatch');
    const xs = this.checkInputs('trainOnBatch', x);
    const ys = this.checkTargets('trainOnBatch', y);
    this.prepare(xs[0].shape.slice(1));
    await moveToCurrentBackend(this, 'trainOnBatch');
    const state = this.trainingState();
    state.reset();
    guardedStep(this, { xs, ys }, state);
    const { values } = await state.read();
    const n = xs[0].shape[0];
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

  /**
   * Whether training updates the model's weights. Setting it sets every layer's `trainable`
   * (freezing a whole pretrained base, for instance); read, it is true if any layer is trainable.
   */
  get trainable(): boolean {
    return this.layers.some((l) => l.trainable);
  }

  set trainable(value: boolean) {
    for (const layer of this.layers) layer.trainable = value;
  }

  /** The layer named `name` (to read its `output` for a feature extractor, or freeze it), or an ArgumentError listing the names. */
  getLayer(name: string): Layer {
    const layer = this.layers.find((l) => l.name === name);
    if (!layer) throw new ArgumentError(`${this.name}.getLayer: no layer named '${name}' (layers: ${this.layers.map((l) => l.name).join(', ')})`);
    return layer;
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
    assignWeights(`${this.className} '${this.name}'`, this.weights, values);
  }

  /**
   * Prints the Keras summary table (layer, output shape, parameters, totals). Accepts TF.js's
   * (lineLength?, positions?, printFn?) or just a printFn; prints with console.log by default.
   */
  summary(lineLength?: number | ((line: string) => void), positions?: number[], printFn?: (line: string) => void): void {
    const print = typeof lineLength === 'function' ? lineLength : (printFn ?? console.log);
    const length = typeof lineLength === 'number' ? lineLength : undefined;
    this.buildDeclared();
    const { header, rows } = this.summaryRows();
    const trainable = this.trainableWeights.reduce((n, v) => n + v.size, 0);
    for (const line of summaryLines({ name: this.name, header, rows, total: this.countParams(), trainable }, length, positions)) print(line);
  }

  /** The training configuration saved with the model (TF.js's training_config), or undefined before compile. */
  getTrainingConfig(): object | undefined {
    if (this.losses.length === 0 || !this.optimizer) return undefined;
    const { className, config } = this.optimizer.getConfig();
    return {
      loss: this.lossList ? this.losses.map((l) => l.name) : this.losses[0].name,
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
    this.buildDeclared();
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

  protected requireCompiled(op: string): void {
    if (this.losses.length === 0 || !this.optimizer) throw new ArgumentError(`${this.name}.${op}: call compile({ optimizer, loss }) first`);
  }

  /** Inputs as a list, checked against the model's input count. */
  private checkInputs(op: string, x: ModelInputs): Tensor[] {
    const list = x instanceof Tensor ? [x] : [...x];
    if (list.length !== this.inputCount || list.some((t) => !(t instanceof Tensor))) {
      throw new ArgumentError(`${this.name}.${op}: expected ${this.inputCount === 1 ? 'a tensor' : `a list of ${this.inputCount} tensors (one per input)`}, got ${describeInputs(x)}`);
    }
    return list;
  }

  /** Targets as a list, checked against the model's output count. */
  private checkTargets(op: string, y: ModelInputs): Tensor[] {
    const list = y instanceof Tensor ? [y] : [...y];
    if (list.length !== this.outputCount || list.some((t) => !(t instanceof Tensor))) {
      throw new ArgumentError(`${this.name}.${op}: expected ${this.outputCount === 1 ? 'labels y as a tensor' : `a list of ${this.outputCount} target tensors (one per output)`}, got ${describeInputs(y)}`);
    }
    return list;
  }

  /** The data source of fit/evaluate: `x` itself, or one over the tensors x and y. */
  private source(op: string, x: ModelInputs | DataSource, y: ModelInputs | undefined): DataSource {
    if (isDataSource(x)) return x;
    if (y === undefined) throw new ArgumentError(`${this.name}.${op}: expected labels y after x (or pass a data source as x)`);
    const xs = this.checkInputs(op, x);
    const ys = this.checkTargets(op, y);
    return this.inputCount === 1 && this.outputCount === 1 ? tensors(xs[0], ys[0]) : tensorLists(xs, ys);
  }
}

/** True for a tensor or a list of tensors. */
function isTensors(x: unknown): x is ModelInputs {
  return x instanceof Tensor || (Array.isArray(x) && x.length > 0 && x.every((t) => t instanceof Tensor));
}

function describeInputs(x: unknown): string {
  if (x instanceof Tensor) return 'one tensor';
  if (Array.isArray(x)) return `a list of ${x.length}`;
  return x === null ? 'null' : typeof x;
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

/** Checks a batchSize option. */
export function checkBatchSize(op: string, batchSize: number): void {
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
