// Functional models: `model({ inputs, outputs })` over a graph of symbolic tensors that
// `input()` and `layer.apply` recorded. Several inputs and outputs, shared layers and merge
// layers; execution walks the graph's nodes in topological order. Training, evaluation,
// prediction and saving are BaseModel's, as for Sequential.
import { ArgumentError, ShapeError, fmtShape } from '../errors.js';
import { cast } from '../ops/create.js';
import type { Tensor } from '../tensor.js';
import { InputLayer } from './layers/input.js';
import { fmtShapeN, type Layer, type Shape } from './layers/layer.js';
import { BaseModel, uniqueModelName, type ModelInputs } from './model-base.js';
import type { DataSource } from './data.js';
import { formatCount, type SummaryRow } from './summary.js';
import { SymbolicTensor, type LayerNode } from './symbolic.js';

/** Options of `model()`. */
export interface ModelArgs {
  /** The model's inputs: symbolic tensors made by `input()`. */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The model's outputs: symbolic tensors computed from the inputs by applying layers. */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  name?: string;
}

/** A reference to a node's output as Keras writes it: [layer name, node index, tensor index]. */
export type TensorRef = [string, number, number];

/** A model over a graph of layers (Keras's functional API; TF.js's LayersModel). */
export class LayersModel extends BaseModel {
  readonly className = 'Model';
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  /** Every layer of the graph once, in Keras's order (by depth from the outputs, deepest first), which is also the weights' order. */
  readonly layers: Layer[];
  /** The nodes to run, in topological order (input layers' nodes excluded). */
  private readonly nodes: LayerNode[];

  constructor({ inputs, outputs, name }: ModelArgs) {
    super(name ?? uniqueModelName('model'));
    this.inputs = listOf(inputs, 'inputs', this.name);
    this.outputs = listOf(outputs, 'outputs', this.name);
    this.inputs.forEach((t, i) => {
      if (!(t.sourceLayer instanceof InputLayer)) {
        throw new ArgumentError(`model '${this.name}': inputs[${i}] is the output of ${t.sourceLayer.className} '${t.sourceLayer.name}'; model inputs should come from input()`);
      }
    });
    if (new Set(this.inputs).size !== this.inputs.length) throw new ArgumentError(`model '${this.name}': an input is listed twice`);
    const { nodes, layerIndex } = this.traverse();
    this.nodes = nodes.filter((n) => !(n.layer instanceof InputLayer));
    this.layers = kerasLayerOrder(nodes, layerIndex, this.inputs);
    const names = new Map<string, Layer>();
    for (const layer of this.layers) {
      const other = names.get(layer.name);
      if (other && other !== layer) throw new ArgumentError(`model '${this.name}': two layers are named '${layer.name}' (layer names must be unique)`);
      names.set(layer.name, layer);
    }
  }

  get inputCount(): number {
    return this.inputs.length;
  }

  get outputCount(): number {
    return this.outputs.length;
  }

  /** The first input's shape with the batch dim (as Sequential's inputShape). */
  get inputShape(): Shape {
    return [...this.inputs[0].shape];
  }

  /** Predictions for `x` (one tensor per input): one tensor per output, a list when there are several. */
  override predict(x: ModelInputs | DataSource, args: { batchSize?: number } = {}): Tensor | Tensor[] {
    return super.predict(x, args);
  }

  /** @internal Runs the graph: each node once, in topological order. */
  forward(inputs: readonly Tensor[], training: boolean, preActivation: readonly boolean[] = []): Tensor[] {
    if (inputs.length !== this.inputs.length) throw new ArgumentError(`model '${this.name}': got ${inputs.length} input tensor(s) for ${this.inputs.length} input(s)`);
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((t, i) => values.set(t, this.checkInput(t, inputs[i])));
    const pre = new Set(this.outputs.filter((_, i) => preActivation[i]));
    for (const node of this.nodes) {
      const args = node.inputs.map((t) => values.get(t)!);
      if (node.outputs.length === 1) values.set(node.outputs[0], node.layer.call(args, { training, preActivation: pre.has(node.outputs[0]) }));
      else node.layer.callAll(args, { training }).forEach((y, i) => values.set(node.outputs[i], y));
    }
    return this.outputs.map((t) => values.get(t)!);
  }

  /** How a node's inputs are written in model.json and the summary: references to nodes of this model. */
  tensorRef(t: SymbolicTensor): TensorRef {
    return [t.sourceLayer.name, this.nodeIndex(t.node), t.outputIndex];
  }

  /**
   * A node's index among its layer's nodes that belong to this model (Keras renumbers them so,
   * so that a layer also applied outside the model keeps indices from 0 in its file).
   */
  nodeIndex(node: LayerNode): number {
    const own = node.layer.inboundNodes.filter((n) => n.layer instanceof InputLayer || this.nodes.includes(n));
    return own.indexOf(node);
  }

  /** The model's nodes, in topological order (for serialisation). */
  get graphNodes(): readonly LayerNode[] {
    return this.nodes;
  }

  protected outputNames(): string[] {
    const names = this.outputs.map((t) => t.sourceLayer.name);
    return names.map((n, i) => (names.indexOf(n) === i ? n : `${n}_${i}`));
  }

  /** Output i may end before its activation only when nothing else in the graph reads that tensor. */
  protected fusableOutputLayers(): (Layer | null)[] {
    const read = new Set(this.nodes.flatMap((n) => n.inputs));
    const alone = (t: SymbolicTensor) => !read.has(t) && t.node.outputs.length === 1 && this.outputs.indexOf(t) === this.outputs.lastIndexOf(t);
    return this.outputs.map((t) => (t.sourceLayer instanceof InputLayer || !alone(t) ? null : t.sourceLayer));
  }

  /** Layers were built when applied to the symbolic inputs. */
  protected prepare(): void {}

  protected buildIfKnown(): void {}

  protected buildDeclared(): void {}

  /** One row per layer: name (type), output shape, parameters, and the tensors it receives. */
  protected summaryRows(): { header: string[]; rows: SummaryRow[] } {
    const rows = this.layers.map((layer) => {
      const nodes = layer.inboundNodes.filter((n) => n.layer instanceof InputLayer || this.nodes.includes(n));
      const shapes = [...new Set(nodes.map((n) => fmtShapeN(n.outputs[0].shape)))];
      const receives = nodes.flatMap((n) => n.inputs.map((t) => this.tensorRef(t)).map(([l, i, j]) => `${l}[${i}][${j}]`));
      return [`${layer.name} (${layer.className})`, shapes.length === 1 ? shapes[0] : 'multiple', formatCount(layer.countParams()), receives.join(', ')];
    });
    return { header: ['Layer (type)', 'Output shape', 'Param #', 'Receives inputs'], rows };
  }

  /** The Keras config: `{ class_name: 'Model', config: { name, layers (with inbound_nodes), input_layers, output_layers } }`. */
  getConfig(): { class_name: string; config: object } {
    const layers = this.layers.map((layer) => {
      const nodes = this.nodes.filter((n) => n.layer === layer).sort((a, b) => a.index - b.index);
      const inbound = nodes.map((n) => n.inputs.map((t) => [...this.tensorRef(t), {}]));
      return { ...layer.getConfig(), name: layer.name, inbound_nodes: inbound };
    });
    return {
      class_name: this.className,
      config: { name: this.name, layers, input_layers: this.inputs.map((t) => this.tensorRef(t)), output_layers: this.outputs.map((t) => this.tensorRef(t)) },
    };
  }

  override toString(): string {
    return `Model '${this.name}' (${this.inputs.length} input(s) ${this.inputs.map((t) => fmtShapeN(t.shape)).join(', ')} → ${this.outputs.length} output(s), ${this.layers.length} layers)`;
  }

  /** The input tensor for symbolic input `t`, checked against its shape, in its dtype. */
  private checkInput(t: SymbolicTensor, x: Tensor): Tensor {
    x.use(`model '${this.name}'`);
    if (x.rank !== t.rank || t.shape.some((d, i) => i > 0 && d !== null && d !== x.shape[i])) {
      throw new ShapeError(`model '${this.name}': input '${t.sourceLayer.name}' expects ${fmtShapeN(t.shape)}, got ${fmtShape(x.shape)}`);
    }
    // Token ids may arrive as float32 (data sources upload float32); integers are exact there.
    return x.dtype === t.dtype ? x : cast(x, t.dtype);
  }

  /**
   * Every node the outputs depend on, each after the nodes it reads (depth-first from the
   * outputs, post-order, input layers' nodes included), and each layer's position in that
   * traversal on first visit (Keras breaks ties in its layer order with it).
   */
  private traverse(): { nodes: LayerNode[]; layerIndex: Map<Layer, number> } {
    const order: LayerNode[] = [];
    const layerIndex = new Map<Layer, number>();
    const done = new Set<LayerNode>();
    const visit = (t: SymbolicTensor, path: string): void => {
      const node = t.node;
      if (node.layer instanceof InputLayer && !this.inputs.includes(t)) {
        throw new ArgumentError(`model '${this.name}': the graph is disconnected: ${path} depends on input '${node.layer.name}', which is not among the model's inputs`);
      }
      if (done.has(node)) return;
      if (!layerIndex.has(node.layer)) layerIndex.set(node.layer, layerIndex.size);
      for (const input of node.inputs) visit(input, path);
      done.add(node);
      order.push(node);
    };
    this.outputs.forEach((t, i) => visit(t, `output ${i} ('${t.sourceLayer.name}')`));
    return { nodes: order, layerIndex };
  }
}

/**
 * The layers in Keras's (and TF.js's) order: each node's depth is its longest distance from an
 * output, a layer's the largest of its nodes'; deeper layers first, ties by traversal order.
 * Inputs no output depends on come last.
 */
function kerasLayerOrder(postOrder: readonly LayerNode[], layerIndex: Map<Layer, number>, inputs: readonly SymbolicTensor[]): Layer[] {
  const nodeDepth = new Map<LayerNode, number>();
  const layerDepth = new Map<Layer, number>();
  for (const node of [...postOrder].reverse()) {
    const depth = Math.max(nodeDepth.get(node) ?? 0, layerDepth.get(node.layer) ?? 0);
    nodeDepth.set(node, depth);
    layerDepth.set(node.layer, depth);
    for (const t of node.inputs) nodeDepth.set(t.node, Math.max(depth + 1, nodeDepth.get(t.node) ?? 0));
  }
  const layers = [...layerDepth.keys()].sort((a, b) => layerDepth.get(b)! - layerDepth.get(a)! || layerIndex.get(a)! - layerIndex.get(b)!);
  const unused = inputs.map((t) => t.sourceLayer).filter((l) => !layerDepth.has(l));
  return [...layers, ...unused];
}

/** A list of symbolic tensors from one or a list, checked. */
function listOf(x: SymbolicTensor | readonly SymbolicTensor[], what: string, model: string): SymbolicTensor[] {
  const list = x instanceof SymbolicTensor ? [x] : Array.isArray(x) ? [...x] : [];
  if (list.length === 0 || list.some((t) => !(t instanceof SymbolicTensor))) {
    throw new ArgumentError(`model '${model}': ${what} should be a symbolic tensor (from input() or layer.apply) or a non-empty list of them`);
  }
  return list;
}

/**
 * A functional model from symbolic inputs to outputs:
 * `model({ inputs: x, outputs: layers.dense({ units: 1 }).apply(x) })`.
 */
export function model(args: ModelArgs): LayersModel {
  return new LayersModel(args);
}
