// What matMul's and conv2d's kernels do with each output before storing it: nothing for the plain
// ops; for fusedMatMul and fusedConv2d, add bias[col] (col: the output column / channel) and apply an activation. The activation is one expression of the elementwise DSL,
// rendered to WGSL for both GPU kernels and to a JS closure for the CPU loop, so they cannot drift.
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { E, WGSL_PRELUDE, toJs, toWgsl, type Expr } from './elementwise/expr.js';
import { map } from './elementwise/map.js';
import type { EpilogueWgsl } from './matmul-wgsl.js';
import { UNARY } from './unary.js';

/** Activations fusedMatMul and fusedConv2d apply in their kernel's epilogue. */
export const FUSED_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh'] as const;

/** One activation the fused ops can apply. */
export type FusedActivation = (typeof FUSED_ACTIVATIONS)[number];

/** True when `name` is an activation the fused ops apply themselves. */
export function isFusedActivation(name: string): name is FusedActivation {
  return (FUSED_ACTIVATIONS as readonly string[]).includes(name);
}

/** Checks an activation option, throwing ArgumentError naming `op`. */
export function checkFusedActivation(op: string, name: unknown): FusedActivation {
  if (typeof name === 'string' && isFusedActivation(name)) return name;
  throw new ArgumentError(`${op}: unsupported activation ${JSON.stringify(name)} (expected one of ${FUSED_ACTIVATIONS.join(', ')})`);
}

/** act(x) with x = E.input(0): the unary op's own forward expression, so fused and unfused agree. */
function activationExpr(act: FusedActivation): Expr {
  return act === 'linear' ? E.input(0) : UNARY[act].forward;
}

/** The WGSL epilogue: identity without bias and activation (plain matMul). `name` renames the function (matMul wraps it). */
export function epilogueWgsl(act: FusedActivation, hasBias: boolean, name = 'epilogue'): EpilogueWgsl {
  const pre = hasBias ? 'v + bias[col]' : 'v';
  const body = toWgsl(activationExpr(act), () => 'x', () => '0.0');
  const prelude = act === 'linear' ? '' : WGSL_PRELUDE;
  return { hasBias, wgsl: `${prelude}fn ${name}(v: f32, col: u32) -> f32 { let x = ${pre}; return ${body}; }` };
}

/** The CPU epilogue over `rows` full rows of width N starting at `out[offset]`, in place. */
export function cpuEpilogue(act: FusedActivation, bias: Float32Array | null): (out: Float32Array, offset: number, rows: number, N: number) => void {
  const f = toJs(activationExpr(act), []);
  const x = new Float64Array(1);
  return (out, offset, rows, N) => {
    for (let i = 0, o = offset; i < rows; i++) {
      for (let j = 0; j < N; j++, o++) {
        x[0] = bias ? out[o] + bias[j] : out[o];
        out[o] = f(x);
      }
    }
  };
}

/**
 * dz = dy ⊙ act'(z) written with the output y = act(z), in one fused map:
 * relu' = [y > 0] (y > 0 ⇔ z > 0); σ' = y(1 − y); tanh' = 1 − y²; linear' = 1 (dz = dy).
 */
export function activationBackprop(dy: Tensor, y: Tensor, act: FusedActivation, op = 'fusedMatMul'): Tensor {
  const [g, out, zero, one] = [E.input(0), E.input(1), E.const(0), E.const(1)];
  switch (act) {
    case 'linear':
      return dy;
    case 'relu':
      return map(`${op}.relu backprop`, E.select(E.gt(out, zero), g, zero), [dy, y]);
    case 'sigmoid':
      return map(`${op}.sigmoid backprop`, E.mul(g, E.mul(out, E.sub(one, out))), [dy, y]);
    case 'tanh':
      return map(`${op}.tanh backprop`, E.mul(g, E.sub(one, E.mul(out, out))), [dy, y]);
  }
}
