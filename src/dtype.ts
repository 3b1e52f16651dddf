// The two dtypes Neurite stores: float32 for values and int32 for labels and indices.

/** Element type of a tensor. */
export type DType = 'float32' | 'int32';

/** The typed array that holds a tensor's values on the CPU. */
export type TypedArray = Float32Array | Int32Array;

/** Array type of each dtype, as returned by `tensor.data()`. */
export interface DataTypeMap {
  float32: Float32Array;
  int32: Int32Array;
}

/** Allocates a zeroed typed array of `size` elements of `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

/** The dtype a typed array stands for, or undefined for other array types. */
export function dtypeOfArray(a: unknown): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  return undefined;
}

/** Bytes per element; both dtypes are 32-bit, which keeps WGSL bindings uniform. */
export const BYTES_PER_ELEMENT = 4;
