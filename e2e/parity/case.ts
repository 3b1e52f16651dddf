// What a parity case is: one call of one exported op with seeded random inputs, run on WebGPU
// and on the CPU, forward and (through `grads`) backward. Cases name their op by its export
// name; a case whose op is not exported (yet) is simply left out of the run.
import type * as Neurite from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

/** The library's module namespace, as the page imports it. */
export type NT = typeof Neurite;

/** An exported op, called loosely: cases may name ops that are not exported yet. */
export type OpFn = (...args: any[]) => Tensor;

/** How one input is drawn: float32 uniform in [lo, hi) (default [-1, 1)), or int32 in [0, ints). */
export type InputSpec = { shape: number[]; lo?: number; hi?: number } | { shape: number[]; ints: number };

/** A check on one backend's results in place of parity (ops that draw random numbers). */
export type PropertyCheck = (r: { inputs: Float32Array[]; output: ArrayLike<number>; grads: ArrayLike<number>[]; dy: Float32Array | null }) => number;

/** One call of one op. */
export interface ParityCase {
  /** The export name in src/index.ts (the case runs only when it is a function there). */
  op: string;
  /** What varies between cases of the same op: shapes and attributes. */
  label: string;
  inputs: InputSpec[];
  /** Calls the op: `f` is nt[op]; `nt` offers the other ops a case needs. */
  run: (f: OpFn, xs: Tensor[], nt: NT) => Tensor;
  /** Inputs to differentiate w.r.t. (float32 ones); omitted for ops without a gradient. */
  wrt?: number[];
  /** Largest accepted error relative to the norm (default 1e-4; long sums such as matMul 1e-3). */
  tol?: number;
  /** For random ops: measures how far each backend's result is from valid, instead of comparing them. */
  property?: PropertyCheck;
}

/** Shorthand for a float32 input of `shape` drawn from [lo, hi). */
export const f32 = (shape: number[], lo = -1, hi = 1): InputSpec => ({ shape, lo, hi });

/** Shorthand for an int32 input of `shape` drawn from [0, ints). */
export const i32 = (shape: number[], ints: number): InputSpec => ({ shape, ints });
