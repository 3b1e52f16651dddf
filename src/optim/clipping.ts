// Gradient clipping with Keras semantics, applied per gradient tensor before the update:
// `clipValue` clamps every element to [-clipValue, clipValue]; `clipNorm` rescales a gradient
// whose own L2 norm exceeds clipNorm (per variable, not the global norm over all gradients).
import { E } from '../ops/elementwise/expr.js';
import { map } from '../ops/elementwise/map.js';
import { sum } from '../ops/reduce.js';
import { clipByValue, square } from '../ops/unary.js';
import type { Tensor } from '../tensor.js';

/** Clipping options shared by every optimizer. */
export interface ClipOptions {
  /** Rescale each gradient tensor so its L2 norm is at most this (Keras `clipnorm`, per variable). */
  clipNorm?: number;
  /** Clamp each gradient element to [-clipValue, clipValue] (Keras `clipvalue`). */
  clipValue?: number;
}

/**
 * `g` clipped as the options say; `g` itself when neither is set. With both, values are clamped
 * first and the norm is taken of the clamped gradient (the order Keras 2 applies them in).
 */
export function clipGradient(g: Tensor, { clipNorm, clipValue }: ClipOptions): Tensor {
  let out = g;
  if (clipValue !== undefined) out = clipByValue(out, -clipValue, clipValue);
  if (clipNorm !== undefined) {
    // tf.clip_by_norm: g · c / max(‖g‖, c) — unchanged when ‖g‖ ≤ c (and when g is all zeros).
    const c = E.attr(0);
    out = map('clipNorm', E.div(E.mul(E.input(0), c), E.max(E.sqrt(E.input(1)), c)), [out, sum(square(out))], [clipNorm]);
  }
  return out;
}
