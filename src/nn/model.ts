// Sequential: a stack of layers with the Keras/TF.js model API — add, summary, compile, fit,
// evaluate, predict, trainOnBatch, save (shared with functional models in model-base.ts) —
// and the forward pass training differentiates.
import { ArgumentError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Layer, fmtShapeN, type Shape } from './layers/layer.js';
import { BaseModel, uniqueModelName, type ModelInputs } from './model-base.js';
import type { DataSource } from './data.js';
import { input } from './layers/input.js';
import type { SymbolicTensor } from './symbolic.js';
import { formatCount, type SummaryRow } from './summary.js';

export type { ModelCompileArgs, CompiledMetric } from './model-base.js';

/** Options of `sequential()`. */
export interface SequentialArgs {
  layers?: readonly Layer[];
  name?: string;
}

/** A linear stack of layers. */
export class Sequential extends BaseModel {
  readonly className = 'Sequential';
  readonly layers: Layer[] = [];

  constructor({ layers = [], name }: SequentialArgs = {}) {
    super(name ?? uniqueModelName('sequential'));
    for (const layer of layers) this.add(layer);
  }

  get inputCount(): number {
    return 1;
  }

  get outputCount(): number {
    return 1;
  }

  /**
   * The model as a graph: a symbolic input of the declared shape with every layer applied to it
   * in turn (made once, on first use). With `outputs` and each layer's `output`, a Sequential
   * model's layers feed functional models: `model({ inputs: seq.inputs, outputs: seq.getLayer('dense_1').output })`.
   */
  get inputs(): SymbolicTensor[] {
    return [this.graph().input];
  }

  /** The symbolic output of the last layer (see `inputs`). */
  get outputs(): SymbolicTensor[] {
    return [this.graph().output];
  }

  /** The layer named `name`; its `output` is the symbolic one of `inputs`' graph (made here if the input shape is known). */
  override getLayer(name: string): Layer {
    if (this.inputShape && this.layers.length > 0) this.graph();
    return super.getLayer(name);
  }

  private symbolicGraph: { input: SymbolicTensor; output: SymbolicTensor; layers: number } | null = null;

  /** The symbolic graph, made on first use and extended by layers added since (each layer applied once). */
  private graph(): { input: SymbolicTensor; output: SymbolicTensor } {
    if (!this.symbolicGraph) {
      const shape = this.inputShape;
      if (!shape) throw new ShapeError(`${this.name}.inputs: the input shape is unknown; give the first layer an inputShape`);
      if (this.layers.length === 0) throw new ArgumentError(`${this.name}: the model has no layers`);
      const x = input({ batchShape: shape, name: `${this.name}_input` });
      this.symbolicGraph = { input: x, output: x, layers: 0 };
    }
    const g = this.symbolicGraph;
    for (; g.layers < this.layers.length; g.layers++) g.output = this.layers[g.layers].apply(g.output);
    return g;
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
    return this.forward([x], training)[0];
  }

  /** Predictions for `x` (a tensor or data source), computed `batchSize` examples at a time (default 32). */
  override predict(x: ModelInputs | DataSource, args: { batchSize?: number } = {}): Tensor {
    return super.predict(x, args) as Tensor;
  }

  /** @internal The layers in order on `inputs[0]`; the last before its activation when asked. */
  forward(inputs: readonly Tensor[], training: boolean, preActivation: readonly boolean[] = []): Tensor[] {
    if (this.layers.length === 0) throw new ArgumentError(`${this.name}: the model has no layers`);
    if (inputs.length !== 1) throw new ArgumentError(`${this.name}: a Sequential model takes one input, got ${inputs.length}`);
    const last = this.layers[this.layers.length - 1];
    let h = inputs[0];
    for (const layer of this.layers.slice(0, -1)) h = layer.apply(h, { training });
    return [last.apply(h, { training, preActivation: preActivation[0] ?? false })];
  }

  protected outputNames(): string[] {
    return this.layers.length ? [this.layers[this.layers.length - 1].name] : [];
  }

  protected fusableOutputLayers(): (Layer | null)[] {
    return [this.layers[this.layers.length - 1] ?? null];
  }

  protected prepare(exampleShape: readonly number[]): void {
    this.build([null, ...exampleShape]);
  }

  protected buildDeclared(): void {
    this.build();
  }

  /** One row per layer: name (type), output shape, parameters. */
  protected summaryRows(): { header: string[]; rows: SummaryRow[] } {
    const rows: SummaryRow[] = [];
    let shape: Shape = this.inputShape ?? [];
    for (const layer of this.layers) {
      shape = layer.computeOutputShape(shape);
      rows.push([`${layer.name} (${layer.className})`, fmtShapeN(shape), formatCount(layer.countParams())]);
    }
    return { header: ['Layer (type)', 'Output Shape', 'Param #'], rows };
  }

  /** The Keras config of the model: `{ class_name: 'Sequential', config: { name, layers } }`. */
  getConfig(): { class_name: 'Sequential'; config: { name: string; layers: object[] } } {
    return { class_name: 'Sequential', config: { name: this.name, layers: this.layers.map((l) => l.getConfig()) } };
  }

  /** Builds the layers when the input shape is declared and they are not built yet. */
  protected buildIfKnown(): void {
    if (this.inputShape && this.layers.some((l) => !l.built)) this.build();
  }

  override toString(): string {
    return `Sequential '${this.name}' (${this.layers.map((l) => l.className).join(' → ')}) input ${this.inputShape ? fmtShapeN(this.inputShape) : '?'}`;
  }
}

/** A sequential model: `sequential({ layers: [layers.dense({ units: 10, inputShape: [4] })] })`. */
export function sequential(args: SequentialArgs = {}): Sequential {
  return new Sequential(args);
}
