// The generic elementwise op: runs an expression over broadcast inputs. Unary and binary ops
// are thin tables over it; gradients use it directly to fuse "dy times derivative" into one kernel.
import { ShapeError, fmtShape } from '../../errors.js';
import type { DType } from '../../dtype.js';
import { engine } from '../../engine.js';
import { broadcastShapes, broadcastStrides } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import type { OpDef } from '../op.js';
import { elementwiseCall } from './kernel.js';
import type { Expr } from './expr.js';

/** Attributes of a map op. */
interface MapAttrs {
  /** Name in errors and stats. */
  readonly label: string;
  readonly expr: Expr;
  /** Float attributes the expression reads with `E.attr(i)`. */
  readonly values: readonly number[];
  /** Output dtype; defaults to the inputs' dtype. */
  readonly dtype?: DType;
  /** Output shape when it is larger than the inputs' broadcast shape (broadcastTo). */
  readonly shape?: readonly number[];
}

function outShapeOf(inputs: readonly Tensor[], attrs: MapAttrs): number[] {
  let shape: number[] = [];
  for (const t of inputs) shape = broadcastShapes(attrs.label, shape, t.shape);
  if (attrs.shape) {
    const target = broadcastShapes(attrs.label, shape, attrs.shape);
    if (target.length !== attrs.shape.length || target.some((d, i) => d !== attrs.shape![i])) {
      throw new ShapeError(`${attrs.label}: cannot broadcast ${fmtShape(shape)} to ${fmtShape(attrs.shape)}`);
    }
    shape = target;
  }
  return shape;
}

/** Elementwise expression without a gradient: building block of ops and of gradients. */
export const mapOp: OpDef<MapAttrs> = {
  name: 'map',
  outputs(inputs, attrs) {
    // Inputs may mix dtypes here (gradients read int32 labels beside float32 values);
    // public ops check their own dtype rules before reaching this.
    const dtype = attrs.dtype ?? (inputs.some((t) => t.dtype === 'float32') || inputs.length === 0 ? 'float32' : 'int32');
    return [{ shape: outShapeOf(inputs, attrs), dtype }];
  },
  kernel(inputs, [out], attrs) {
    const strided = inputs.map((t) => ({ dtype: t.dtype, strides: broadcastStrides(t.shape, out.shape), offset: 0 }));
    return elementwiseCall(attrs.label, attrs.expr, strided, out.shape, out.dtype, attrs.values);
  },
  grad: null,
  opName: (attrs) => attrs.label,
};

/** Runs `expr` over `inputs` (broadcast) with no gradient recorded. */
export function map(
  label: string,
  expr: Expr,
  inputs: readonly Tensor[],
  values: readonly number[] = [],
  dtype?: DType,
  shape?: readonly number[],
): Tensor {
  return engine.runOp(mapOp, inputs, { label, expr, values, dtype, shape })[0];
}
