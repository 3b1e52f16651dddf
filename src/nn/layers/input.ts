// InputLayer and `input()`: the entry points of a functional model. `input({ shape })` makes the
// layer and returns its symbolic output, which other layers are applied to.
import { ArgumentError, ShapeError } from '../../errors.js';
import type { DType } from '../../dtype.js';
import type { Tensor } from '../../tensor.js';
import { SymbolicTensor, type LayerNode } from '../symbolic.js';
import { Layer, fmtShapeN, type Shape } from './layer.js';

/** Options of `input()`. */
export interface InputArgs {
  /** Shape of one example (no batch dim). Give this or `batchShape`. */
  shape?: readonly number[];
  /** Full shape with the batch dim (null when free). */
  batchShape?: readonly (number | null)[];
  /** Fixed batch size, combined with `shape`. */
  batchSize?: number;
  /** 'float32' (default) or 'int32' (e.g. token ids). */
  dtype?: 'float32' | 'int32';
  name?: string;
}

/** The layer behind `input()`: it holds the input's shape and dtype and computes nothing. */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';
  readonly dtype: DType;
  /** The symbolic tensor the layer stands for. */
  readonly symbolic: SymbolicTensor;

  constructor(args: InputArgs) {
    super({ name: args.name, batchInputShape: fullShape(args) }, 'InputLayer');
    const dtype = args.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'int32') throw new ArgumentError(`input '${this.name}': dtype should be 'float32' or 'int32', got ${JSON.stringify(dtype)}`);
    this.dtype = dtype;
    const full = this.batchInputShape!;
    const node: LayerNode = { layer: this, inputs: [], outputs: [], index: 0 };
    this.symbolic = new SymbolicTensor(full, dtype, node, 0);
    node.outputs.push(this.symbolic);
    this.inboundNodes.push(node);
  }

  protected forward(x: Tensor): Tensor {
    return x;
  }

  computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  protected layerConfig(): Record<string, unknown> {
    return { sparse: false };
  }

  /** Keras writes the input's own dtype (float32 or int32). */
  override getConfig(): { class_name: string; config: Record<string, unknown> } {
    const json = super.getConfig();
    json.config.dtype = this.dtype;
    delete json.config.trainable;
    return json;
  }
}

/** The input's shape with the batch dim, checked. */
function fullShape({ shape, batchShape, batchSize, name = 'input' }: InputArgs): Shape {
  if ((shape === undefined) === (batchShape === undefined)) throw new ArgumentError(`input '${name}': give exactly one of shape and batchShape`);
  const full: Shape = batchShape ? [...batchShape] : [batchSize ?? null, ...shape!];
  if (full.length < 2 || full.some((d) => d !== null && (!Number.isInteger(d) || d < 1))) {
    throw new ShapeError(`input '${name}': expected a shape of positive integers (null where free) of rank ≥ 1 besides the batch, got ${fmtShapeN(full)}`);
  }
  return full;
}

/**
 * A symbolic input of a functional model: `input({ shape: [28, 28, 1] })`. Apply layers to it
 * and pass it to `model({ inputs, outputs })`.
 */
export function input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).symbolic;
}
