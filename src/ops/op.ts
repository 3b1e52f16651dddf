// The op definition: each op is described once — its shape rule, its kernel (which carries
// both the WGSL and the CPU implementation) and its gradient written with other ops.
import type { KernelCall, KernelPreferences, OutputSpec } from '../backend/kernel.js';
import type { Tensor } from '../tensor.js';

/**
 * Gradient of an op: given the gradient of each output, returns one gradient per input
 * (null where the input needs none: `needs[i]` is false, or the input is not differentiable).
 */
type GradFn<A> = (
  dys: Tensor[],
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  attrs: A,
  needs: readonly boolean[],
) => (Tensor | null)[];

/** One primitive op. */
export interface OpDef<A = Record<string, never>> {
  /** The public name, used in errors and stats. */
  readonly name: string;
  /** Shape rule: validates inputs and attrs (throwing ShapeError/DTypeError naming the op), returns the outputs. */
  outputs(inputs: readonly Tensor[], attrs: A): OutputSpec[];
  /** The kernel call computing the outputs from the inputs, as the backend running it prefers (`prefs`). */
  kernel(inputs: readonly Tensor[], outputs: readonly OutputSpec[], attrs: A, prefs: KernelPreferences): KernelCall;
  /** The gradient, or null for ops whose output is piecewise constant (argMax, comparisons, oneHot). */
  readonly grad: GradFn<A> | null;
  /** The op a call runs as, where one def serves many ops (elementwise expressions); else `name`. */
  opName?(attrs: A): string;
}
