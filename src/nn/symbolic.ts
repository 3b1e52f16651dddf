// Symbolic tensors, the placeholders a functional model is wired from: `input()` makes one, and
// `layer.apply(symbolic)` records a node (the layer and the tensors it was applied to) and
// returns the node's output. Models walk these nodes in topological order; nothing below nn/ knows them.
import type { DType } from '../dtype.js';
import { fmtShapeN } from '../errors.js';
import type { Layer, Shape } from './layers/layer.js';

/** One application of a layer to symbolic inputs (Keras's "node"); a shared layer has several. */
export interface LayerNode {
  readonly layer: Layer;
  /** The tensors the layer was applied to. */
  readonly inputs: readonly SymbolicTensor[];
  /** What the application produced (one tensor per output of the layer). */
  readonly outputs: SymbolicTensor[];
  /** Position among the layer's inbound nodes (Keras's node index in `inbound_nodes`). */
  readonly index: number;
}

/** A placeholder for a batch of values: its shape (batch dim null) and the node that makes it. */
export class SymbolicTensor {
  constructor(
    /** Shape with the batch dim (null when free). */
    readonly shape: Shape,
    readonly dtype: DType,
    /** The node that produces this tensor. */
    readonly node: LayerNode,
    /** Which of the node's outputs this is. */
    readonly outputIndex: number,
  ) {}

  /** The layer whose application produced this tensor. */
  get sourceLayer(): Layer {
    return this.node.layer;
  }

  /** Rank including the batch dim. */
  get rank(): number {
    return this.shape.length;
  }

  /** A readable name: `<layer>/<node>:<output>`. */
  get name(): string {
    return `${this.node.layer.name}/${this.node.index}:${this.outputIndex}`;
  }

  toString(): string {
    return `SymbolicTensor ${this.name} ${fmtShapeN(this.shape)} ${this.dtype}`;
  }
}

/** True for a symbolic tensor or a non-empty list of them. */
export function isSymbolic(x: unknown): x is SymbolicTensor | readonly SymbolicTensor[] {
  return x instanceof SymbolicTensor || (Array.isArray(x) && x.length > 0 && x.every((t) => t instanceof SymbolicTensor));
}
