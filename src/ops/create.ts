// Making tensors: from values, filled with one value, cast, and variables (random values come from
// ops/random.ts and the initializers). Values are checked against the shape with clear errors.
import { dtypeOfArray, type DType, type TypedArray } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { assertValidShape, sizeOf } from '../shape.js';
import { Tensor, Variable, type NestedArray } from '../tensor.js';
import { E } from './elementwise/expr.js';
import { map } from './elementwise/map.js';

/** A tensor, or a number that becomes a scalar. */
export type TensorLike = Tensor | number;

/** Values accepted by `tensor()`. */
export type TensorValues = number | NestedArray | readonly number[] | TypedArray | Uint8Array;

/**
 * Makes a tensor from values. The shape is inferred from nested arrays when omitted;
 * the dtype is int32 for an Int32Array, float32 otherwise.
 */
export function tensor(values: TensorValues, shape?: readonly number[], dtype?: DType): Tensor {
  const inferred = inferShape(values);
  const flat = flatten(values);
  const finalShape = shape ? [...shape] : inferred;
  assertValidShape('tensor', finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(
      `tensor: ${flat.length} values cannot fill shape ${fmtShape(finalShape)} (expected ${sizeOf(finalShape)} values)`,
    );
  }
  const finalDtype = dtype ?? dtypeOfArray(values) ?? 'float32';
  if (finalDtype !== 'float32' && finalDtype !== 'int32') {
    throw new DTypeError(`tensor: unsupported dtype '${finalDtype}' (expected 'float32' or 'int32')`);
  }
  const array = finalDtype === 'int32' ? Int32Array.from(flat as ArrayLike<number>) : Float32Array.from(flat as ArrayLike<number>);
  return engine.fromArray(array, finalShape, finalDtype);
}

/** A rank-0 tensor. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return tensor(value, [], dtype);
}

/** A tensor of `shape` with every element `value` (filled on the device, no host array). */
export function fill(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  assertValidShape('fill', shape);
  return map('fill', E.attr(0), [], [value], dtype === 'int32' ? 'int32' : 'float32', shape);
}

/** Zeros of `shape`. */
export const zeros = (shape: readonly number[], dtype: DType = 'float32'): Tensor => fill(shape, 0, dtype);
/** Ones of `shape`. */
export const ones = (shape: readonly number[], dtype: DType = 'float32'): Tensor => fill(shape, 1, dtype);
/** Zeros shaped like `x`. */
export const zerosLike = (x: Tensor): Tensor => fill(x.shape, 0, x.dtype);
/** Ones shaped like `x`. */
export const onesLike = (x: Tensor): Tensor => fill(x.shape, 1, x.dtype);

/** Converts int32 ↔ float32 (float → int truncates toward zero). No gradient flows through int32; a float32 → float32 cast passes it on. */
export function cast(x: Tensor, dtype: DType): Tensor {
  x.use('cast');
  if (x.dtype === dtype) {
    // Same dtype: a new tensor over the same storage (no copy; disposing one leaves the other),
    // through which the gradient flows unchanged, as TF's float → float cast does.
    const out = engine.view(x, x.shape, 'cast');
    engine.record('cast', [x], [out], ([dy]) => [dy]);
    return out;
  }
  return map('cast', E.input(0), [x], [], dtype);
}

/** A trainable (by default) variable initialised with a copy of `initial`'s value. */
export function variable(initial: Tensor, { trainable = true, name }: { trainable?: boolean; name?: string } = {}): Variable {
  return engine.makeVariable(initial, trainable, name);
}

/** @internal Numbers become scalars (of `dtype` when given); tensors pass through after a disposal check. */
export function toTensor(op: string, x: TensorLike, dtype?: DType): Tensor {
  if (typeof x === 'number') return scalar(x, dtype ?? 'float32');
  if (!(x instanceof Tensor)) throw new ArgumentError(`${op}: expected a Tensor or a number, got ${describe(x)}`);
  x.use(op);
  return x;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array (wrap it with tensor())';
  return typeof x === 'object' ? (x.constructor?.name ?? 'an object') : typeof x;
}

function inferShape(values: TensorValues): number[] {
  if (typeof values === 'number') return [];
  if (ArrayBuffer.isView(values)) return [(values as TypedArray).length];
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(values: TensorValues): ArrayLike<number> {
  if (typeof values === 'number') return [values];
  if (ArrayBuffer.isView(values)) return values as ArrayLike<number>;
  const out: number[] = [];
  const walk = (v: unknown, depth: number, shape: number[]): void => {
    if (Array.isArray(v)) {
      if (depth >= shape.length || v.length !== shape[depth]) {
        const expected = depth >= shape.length ? 'a number' : `${shape[depth]} items`;
        throw new ShapeError(`tensor: ragged nested array (a row of ${v.length} items at depth ${depth} where ${expected} was expected)`);
      }
      for (const item of v) walk(item, depth + 1, shape);
    } else if (typeof v === 'number') {
      // A number above the innermost level is as ragged as a short row: [[1, 2], 3].
      if (depth < shape.length) throw new ShapeError(`tensor: ragged nested array (a number at depth ${depth} where a row of ${shape[depth]} was expected)`);
      out.push(v);
    } else {
      throw new DTypeError(`tensor: expected numbers, found ${typeof v}`);
    }
  };
  walk(values, 0, inferShape(values));
  return out;
}
