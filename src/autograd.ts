// Reverse-mode autodiff over a tape, readable in one sitting: ops record a closure from output
// gradients to input gradients while a gradient is being taken; backward walks the tape in
// reverse, summing gradients per tensor. Gradients are themselves ops, so they run on the GPU.
import { ArgumentError, DTypeError, ShapeError, fmtShape } from './errors.js';
import { engine, type Tape } from './engine.js';
import { add } from './ops/binary.js';
import { onesLike, zerosLike } from './ops/create.js';
import { Tensor, Variable } from './tensor.js';

/** Runs `f` while recording, and returns f's value and the gradients of its (scalar) value w.r.t. `xs`. */
function differentiate(
  op: string,
  f: () => Tensor,
  xs: readonly Tensor[],
  dy?: Tensor,
): { value: Tensor; grads: Tensor[] } {
  for (const x of xs) {
    x.use(op);
    if (x.dtype !== 'float32') throw new DTypeError(`${op}: can only differentiate w.r.t. float32 tensors, got ${x.dtype} ${fmtShape(x.shape)}`);
  }
  const outer = engine.tape;
  const tape: Tape = { watched: new Set(xs.map((x) => x.id)), nodes: [], saved: new Set() };
  engine.tape = tape;
  let value: Tensor;
  try {
    value = f();
  } finally {
    engine.tape = outer;
  }
  if (!(value instanceof Tensor)) throw new ArgumentError(`${op}: the function must return a Tensor, got ${typeof value}`);
  if (dy === undefined && value.size !== 1) {
    throw new ShapeError(`${op}: the function returned shape ${fmtShape(value.shape)}; expected a scalar (or pass dy of that shape)`);
  }
  if (dy !== undefined && (dy.shape.length !== value.shape.length || dy.shape.some((d, i) => d !== value.shape[i]))) {
    throw new ShapeError(`${op}: dy has shape ${fmtShape(dy.shape)}, expected the value's shape ${fmtShape(value.shape)}`);
  }
  const grads = backward(tape, value, dy ?? onesLike(value));
  return { value, grads: xs.map((x) => grads.get(x.id) ?? zerosLike(x)) };
}

/** Walks the tape backwards from `value`, returning the gradient of every watched tensor it reached. */
function backward(tape: Tape, value: Tensor, seed: Tensor): Map<number, Tensor> {
  const grads = new Map<number, Tensor>([[value.id, seed]]);
  for (let n = tape.nodes.length - 1; n >= 0; n--) {
    const node = tape.nodes[n];
    if (!node.outputs.some((o) => grads.has(o.id))) continue;
    const dys = node.outputs.map((o) => grads.get(o.id) ?? zerosLike(o));
    const needs = node.inputs.map((t) => tape.watched.has(t.id));
    const inputGrads = node.backward(dys, needs);
    node.inputs.forEach((input, i) => {
      const g = inputGrads[i];
      if (!needs[i] || !g) return;
      if (g.shape.length !== input.shape.length || g.shape.some((d, k) => d !== input.shape[k])) {
        throw new ShapeError(`${node.name}: gradient has shape ${fmtShape(g.shape)} but its input has ${fmtShape(input.shape)} (a bug in the op's gradient)`);
      }
      const prev = grads.get(input.id);
      grads.set(input.id, prev ? add(prev, g) : g);
    });
  }
  return grads;
}

/** The result of `valueAndGrads`. */
export interface ValueAndGrads {
  value: Tensor;
  grads: Tensor[];
}

/**
 * Returns a function computing f's value and its gradients w.r.t. every argument.
 * Intermediates are disposed; the value and the gradients are the caller's to dispose.
 */
export function valueAndGrads(f: (...xs: Tensor[]) => Tensor): (xs: Tensor[], dy?: Tensor) => ValueAndGrads {
  return (xs, dy) => engine.tidy(() => differentiate('valueAndGrads', () => f(...xs), xs, dy));
}

/** Like `valueAndGrads` for a function of one tensor. */
export function valueAndGrad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => { value: Tensor; grad: Tensor } {
  return (x, dy) => {
    const { value, grads } = engine.tidy(() => differentiate('valueAndGrad', () => f(x), [x], dy));
    return { value, grad: grads[0] };
  };
}

/** Returns a function computing the gradients of f w.r.t. every argument. */
export function grads(f: (...xs: Tensor[]) => Tensor): (xs: Tensor[], dy?: Tensor) => Tensor[] {
  return (xs, dy) =>
    engine.tidy(() => {
      const r = differentiate('grads', () => f(...xs), xs, dy);
      return r.grads;
    });
}

/** Returns a function computing the gradient of f w.r.t. its argument. */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  return (x, dy) => engine.tidy(() => differentiate('grad', () => f(x), [x], dy).grads[0]);
}

/**
 * Computes f() and the gradients of its scalar value w.r.t. `vars`, in the same order.
 * The value and gradients are the caller's to dispose; intermediates are freed.
 */
export function variableGrads(f: () => Tensor, vars: readonly Variable[]): ValueAndGrads {
  return engine.tidy(() => differentiate('variableGrads', f, vars));
}
