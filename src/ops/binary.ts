// Binary elementwise ops with NumPy broadcasting. Each row holds the forward expression and
// the two partial derivatives as expressions of (dy, a, b, y); gradients are summed back over
// broadcast dims by `unbroadcast`.
import { DTypeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { broadcastShapes, broadcastStrides, shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { E, substitute, type Expr } from './elementwise/expr.js';
import { contiguousInput, elementwiseCall } from './elementwise/kernel.js';
import { map } from './elementwise/map.js';
import type { OpDef } from './op.js';
import { toTensor, type TensorLike } from './create.js';
import { reshape } from './transform.js';
import { sum } from './reduce.js';

const a = E.input(0);
const b = E.input(1);
const dy = E.input(0);
const ga = E.input(1);
const gb = E.input(2);
const gy = E.input(3);
const zero = E.const(0);

/** One binary op: forward and the partials dL/da, dL/db written with (dy, a, b, y). */
interface BinarySpec {
  readonly name: string;
  readonly forward: Expr;
  readonly da: Expr | null;
  readonly db: Expr | null;
  /** Comparisons return 0/1 as float32 and have no gradient. */
  readonly comparison?: boolean;
}

/** The binary ops, one row each. */
export const BINARY: Record<string, BinarySpec> = {
  // ∂(a+b) = (1, 1)
  add: { name: 'add', forward: E.add(a, b), da: dy, db: dy },
  // ∂(a−b) = (1, −1)
  sub: { name: 'sub', forward: E.sub(a, b), da: dy, db: E.neg(dy) },
  // ∂(ab) = (b, a)
  mul: { name: 'mul', forward: E.mul(a, b), da: E.mul(dy, gb), db: E.mul(dy, ga) },
  // ∂(a/b) = (1/b, −a/b²)
  div: { name: 'div', forward: E.div(a, b), da: E.div(dy, gb), db: E.neg(E.div(E.mul(dy, ga), E.mul(gb, gb))) },
  // ∂(aᵇ) = (b·aᵇ⁻¹, aᵇ·ln a), the latter taken as 0 where a ≤ 0
  pow: {
    name: 'pow',
    forward: E.pow(a, b),
    da: E.mul(dy, E.mul(gb, E.pow(ga, E.sub(gb, E.const(1))))),
    db: E.select(E.gt(ga, zero), E.mul(dy, E.mul(gy, E.log(ga))), zero),
  },
  // ∂max(a,b) goes to the larger input (to a on ties)
  maximum: { name: 'maximum', forward: E.max(a, b), da: E.select(E.ge(ga, gb), dy, zero), db: E.select(E.lt(ga, gb), dy, zero) },
  // ∂min(a,b) goes to the smaller input (to a on ties)
  minimum: { name: 'minimum', forward: E.min(a, b), da: E.select(E.le(ga, gb), dy, zero), db: E.select(E.gt(ga, gb), dy, zero) },
  greater: { name: 'greater', forward: E.gt(a, b), da: null, db: null, comparison: true },
  greaterEqual: { name: 'greaterEqual', forward: E.ge(a, b), da: null, db: null, comparison: true },
  less: { name: 'less', forward: E.lt(a, b), da: null, db: null, comparison: true },
  lessEqual: { name: 'lessEqual', forward: E.le(a, b), da: null, db: null, comparison: true },
  equal: { name: 'equal', forward: E.eq(a, b), da: null, db: null, comparison: true },
  notEqual: { name: 'notEqual', forward: E.ne(a, b), da: null, db: null, comparison: true },
};

/** Sums `g` over the dims that were broadcast to reach it, giving a gradient of `shape`. */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || shape[i - lead] === 1) axes.push(i);
  return reshape(sum(g, { axis: axes }), shape);
}

function binaryDef(spec: BinarySpec): OpDef<Record<string, never>> {
  const { da, db } = spec;
  return {
    name: spec.name,
    outputs([x, y]) {
      if (x.dtype !== y.dtype) {
        throw new DTypeError(
          `${spec.name}: inputs have dtypes ${x.dtype} ${fmtShape(x.shape)} and ${y.dtype} ${fmtShape(y.shape)}; expected the same dtype (cast() one of them)`,
        );
      }
      const shape = broadcastShapes(spec.name, x.shape, y.shape);
      return [{ shape, dtype: spec.comparison ? 'float32' : x.dtype }];
    },
    kernel(inputs, [out]) {
      const strided = inputs.map((t) => ({ dtype: t.dtype, strides: broadcastStrides(t.shape, out.shape), offset: 0 }));
      return elementwiseCall(spec.name, spec.forward, strided, out.shape, out.dtype);
    },
    grad:
      da && db
        ? ([g], [x, y], [out], _attrs, needs) => [
            needs[0] ? unbroadcast(map(`${spec.name}GradA`, da, [g, x, y, out]), x.shape) : null,
            needs[1] ? unbroadcast(map(`${spec.name}GradB`, db, [g, x, y, out]), y.shape) : null,
          ]
        : null,
  };
}

/** OpDefs of the binary ops, by name. */
export const BINARY_OPS: Record<string, OpDef<Record<string, never>>> = Object.fromEntries(
  Object.values(BINARY).map((spec) => [spec.name, binaryDef(spec)]),
);

interface ScalarAttrs {
  /** The number operand. */
  readonly value: number;
  /** Which side the number is on: 'b' for op(x, value), 'a' for op(value, x). */
  readonly side: 'a' | 'b';
}

/**
 * The op with one operand a number, baked into the kernel as a uniform: no scalar tensor is
 * uploaded, and pipelines are shared across values. The same row's expressions are reused by
 * substituting the number for its input.
 */
function scalarDef(spec: BinarySpec): OpDef<ScalarAttrs> {
  // Forward inputs: [tensor]; gradient inputs: [dy, tensor, y]; the number is attr 0.
  const forward = (side: 'a' | 'b') => substitute(spec.forward, (i) => (i === (side === 'a' ? 0 : 1) ? E.attr(0) : E.input(0)));
  const gradOf = (partial: Expr, side: 'a' | 'b') =>
    substitute(partial, (i) => {
      if (i === 0) return E.input(0);
      if (i === 3) return E.input(2);
      return (i === 1) === (side === 'a') ? E.attr(0) : E.input(1);
    });
  const forwards = { a: forward('a'), b: forward('b') };
  return {
    name: spec.name,
    outputs: ([x]) => [{ shape: x.shape.slice(), dtype: spec.comparison ? 'float32' : x.dtype }],
    kernel: ([x], [out], { value, side }) =>
      elementwiseCall(spec.name, forwards[side], [contiguousInput(x.dtype, out.shape)], out.shape, out.dtype, [value]),
    grad:
      spec.da && spec.db
        ? ([g], [x], [out], { value, side }) => [map(`${spec.name}Grad`, gradOf(side === 'a' ? spec.db! : spec.da!, side), [g, x, out], [value])]
        : null,
  };
}

const SCALAR_OPS: Record<string, OpDef<ScalarAttrs>> = Object.fromEntries(
  Object.values(BINARY).map((spec) => [spec.name, scalarDef(spec)]),
);

function binary(name: string, x: TensorLike, y: TensorLike): Tensor {
  // A float operand with a number: bake the number into the kernel.
  if (typeof y === 'number' && typeof x !== 'number' && x.dtype === 'float32') {
    return engine.runOp(SCALAR_OPS[name], [toTensor(name, x)], { value: y, side: 'b' })[0];
  }
  if (typeof x === 'number' && typeof y !== 'number' && y.dtype === 'float32') {
    return engine.runOp(SCALAR_OPS[name], [toTensor(name, y)], { value: x, side: 'a' })[0];
  }
  const [tx, ty] = pairOf(name, x, y);
  return engine.runOp(BINARY_OPS[name], [tx, ty], {})[0];
}

/** Numbers become scalars of the other operand's dtype, so `mul(x, 2)` works for int32 too. */
function pairOf(op: string, x: TensorLike, y: TensorLike): [Tensor, Tensor] {
  const dx = typeof x === 'number' ? undefined : x.dtype;
  const dy_ = typeof y === 'number' ? undefined : y.dtype;
  return [toTensor(op, x, dy_), toTensor(op, y, dx)];
}

/** a + b, broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a − b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a · b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/**
 * a / b, broadcasting. On int32 the quotient is truncated toward zero; x/0 gives −2³¹ or
 * 2³¹ − 128 (the ends of the int32 range in float32) and 0/0 gives 0, on every backend.
 */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** aᵇ, broadcasting. */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** Elementwise maximum, broadcasting. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** Elementwise minimum, broadcasting. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
/** 1 where a > b, else 0 (float32). */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('greater', a, b);
/** 1 where a ≥ b, else 0 (float32). */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('greaterEqual', a, b);
/** 1 where a < b, else 0 (float32). */
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('less', a, b);
/** 1 where a ≤ b, else 0 (float32). */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('lessEqual', a, b);
/** 1 where a = b, else 0 (float32). */
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('equal', a, b);
/** 1 where a ≠ b, else 0 (float32). */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binary('notEqual', a, b);
