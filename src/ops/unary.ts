// Unary elementwise ops and activations. Each is one row: its forward expression and its
// derivative as an expression of (dy, x, y), so the backward pass is one fused kernel too.
import { ArgumentError, DTypeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { E, type Expr } from './elementwise/expr.js';
import { elementwiseCall, contiguousInput } from './elementwise/kernel.js';
import { map } from './elementwise/map.js';
import type { OpDef } from './op.js';

const x = E.input(0);
const dy = E.input(0);
const gx = E.input(1); // x, as seen by the gradient expression
const gy = E.input(2); // y, as seen by the gradient expression
const zero = E.const(0);
const one = E.const(1);
const a0 = E.attr(0);
const a1 = E.attr(1);

/** One unary op: forward f(x) and backward dy·f'(x) written with (dy, x, y). */
interface UnarySpec {
  readonly name: string;
  readonly forward: Expr;
  /** dL/dx given dL/dy; null where the op is piecewise constant. */
  readonly backward: Expr | null;
  /** Names of the float attributes (read with E.attr(i)). */
  readonly attrs?: readonly string[];
}

/** The unary ops, one row each. */
export const UNARY: Record<string, UnarySpec> = {
  // d(-x) = -1
  neg: { name: 'neg', forward: E.neg(x), backward: E.neg(dy) },
  // d exp(x) = exp(x) = y
  exp: { name: 'exp', forward: E.exp(x), backward: E.mul(dy, gy) },
  // d log(x) = 1/x
  log: { name: 'log', forward: E.log(x), backward: E.div(dy, gx) },
  // d sqrt(x) = 1/(2 sqrt(x)) = 1/(2y)
  sqrt: { name: 'sqrt', forward: E.sqrt(x), backward: E.div(dy, E.mul(E.const(2), gy)) },
  // d x² = 2x
  square: { name: 'square', forward: E.mul(x, x), backward: E.mul(dy, E.mul(E.const(2), gx)) },
  // d |x| = sign(x)
  abs: { name: 'abs', forward: E.abs(x), backward: E.mul(dy, E.sign(gx)) },
  // d relu(x) = [x > 0]
  relu: { name: 'relu', forward: E.max(x, zero), backward: E.select(E.gt(gx, zero), dy, zero) },
  // d leakyRelu(x) = 1 if x > 0 else alpha
  leakyRelu: {
    name: 'leakyRelu',
    forward: E.select(E.gt(x, zero), x, E.mul(a0, x)),
    backward: E.select(E.gt(gx, zero), dy, E.mul(a0, dy)),
    attrs: ['alpha'],
  },
  // d elu(x) = 1 if x > 0 else alpha·exp(x) = y + alpha
  elu: {
    name: 'elu',
    forward: E.select(E.gt(x, zero), x, E.mul(a0, E.sub(E.exp(x), one))),
    backward: E.select(E.gt(gx, zero), dy, E.mul(dy, E.add(gy, a0))),
    attrs: ['alpha'],
  },
  // σ(x) = 1/(1+e^-x); dσ = σ(1-σ) = y(1-y)
  sigmoid: {
    name: 'sigmoid',
    forward: E.div(one, E.add(one, E.exp(E.neg(x)))),
    backward: E.mul(dy, E.mul(gy, E.sub(one, gy))),
  },
  // d tanh(x) = 1 - tanh² = 1 - y²
  tanh: { name: 'tanh', forward: E.tanh(x), backward: E.mul(dy, E.sub(one, E.mul(gy, gy))) },
  // d clip(x, lo, hi) = [lo <= x <= hi]
  clipByValue: {
    name: 'clipByValue',
    forward: E.min(E.max(x, a0), a1),
    backward: E.select(E.ge(gx, a0), E.select(E.le(gx, a1), dy, zero), zero),
    attrs: ['clipValueMin', 'clipValueMax'],
  },
  // sign and floor are piecewise constant: no gradient flows.
  sign: { name: 'sign', forward: E.sign(x), backward: null },
  floor: { name: 'floor', forward: E.floor(x), backward: null },
};

interface UnaryAttrs {
  readonly values: readonly number[];
}

function unaryDef(spec: UnarySpec): OpDef<UnaryAttrs> {
  const backward = spec.backward;
  return {
    name: spec.name,
    outputs([input]) {
      if (input.dtype !== 'float32') {
        throw new DTypeError(`${spec.name}: expected a float32 tensor, got ${input.dtype} ${fmtShape(input.shape)}`);
      }
      return [{ shape: input.shape.slice(), dtype: 'float32' }];
    },
    kernel(_inputs, [out], { values }) {
      return elementwiseCall(spec.name, spec.forward, [contiguousInput('float32', out.shape)], out.shape, 'float32', values);
    },
    grad: backward
      ? ([g], [input], [output], { values }) => [map(`${spec.name}Grad`, backward, [g, input, output], values)]
      : null,
  };
}

/** OpDefs of the unary ops, by name (walked by the parity and gradient tests). */
export const UNARY_OPS: Record<string, OpDef<UnaryAttrs>> = Object.fromEntries(
  Object.values(UNARY).map((spec) => [spec.name, unaryDef(spec)]),
);

function unary(name: string, input: Tensor, values: number[] = []): Tensor {
  return engine.runOp(UNARY_OPS[name], [input], { values })[0];
}

/** -x */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** eˣ */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** x² */
export const square = (x: Tensor): Tensor => unary('square', x);
/** |x| */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** x for x > 0, alpha·x otherwise (TF.js default alpha 0.2). */
export const leakyRelu = (x: Tensor, { alpha = 0.2 }: { alpha?: number } = {}): Tensor => unary('leakyRelu', x, [alpha]);
/** x for x > 0, alpha·(eˣ − 1) otherwise. */
export const elu = (x: Tensor, { alpha = 1 }: { alpha?: number } = {}): Tensor => unary('elu', x, [alpha]);
/** 1 / (1 + e⁻ˣ) */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** -1, 0 or 1. */
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** Rounds down. */
export const floor = (x: Tensor): Tensor => unary('floor', x);
/** Clamps every value to [min, max]; the gradient is zero outside. */
export function clipByValue(x: Tensor, min: number, max: number): Tensor {
  if (!(min <= max)) throw new ArgumentError(`clipByValue: min ${min} must not exceed max ${max}`);
  return unary('clipByValue', x, [min, max]);
}
