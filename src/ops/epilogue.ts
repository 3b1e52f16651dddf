// What matMul's and conv2d's kernels do with each output before storing it: nothing for the plain
// ops; for fusedMatMul and fusedConv2d (and the Dense and Conv2D layers that use them), add
// bias[col] (col: the output column / channel) and apply an activation. The activation and its
// gradient are the unary table's expressions, rendered to WGSL for the GPU kernels and to a JS
// closure for the CPU loops, so fused and unfused cannot drift.
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { E, WGSL_PRELUDE, toJs, toWgsl, type Expr } from './elementwise/expr.js';
import { map } from './elementwise/map.js';
import { UNARY } from './unary.js';

/** An epilogue as WGSL: `fn epilogue(v: f32, col: u32) -> f32`, and whether it reads a `bias` binding. */
export interface EpilogueWgsl {
  readonly hasBias: boolean;
  readonly wgsl: string;
}

/** Activations fusedMatMul and fusedConv2d apply in their kernel's epilogue. */
const FUSED_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh'] as const;

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
 * dz = dy ⊙ act'(z), from the output y = act(z) (z is not kept): the unary op's own backward
 * expression over (dy, x, y) with y standing in for x. That is exact for these activations:
 * relu's derivative reads x only as x > 0, which is y > 0; sigmoid's and tanh's read y alone.
 */
export function activationBackprop(dy: Tensor, y: Tensor, act: FusedActivation, op = 'fusedMatMul'): Tensor {
  if (act === 'linear') return dy;
  return map(`${op}.${act} backprop`, UNARY[act].backward!, [dy, y, y]);
}
