// sum's and max's WebAssembly kernel over float32: for each outer index, the reduced slices are
// added (or max-ed) into the output row in order, four inner elements at a time. Each output sees
// the same sequence of f32 operations as the JS kernel (a running f32 sum; max's NaN rule), so
// the two agree bit for bit.
import type { KernelCall } from '../backend/kernel.js';
import { Code } from '../backend/cpu/wasm/code.js';
import { ValType, type FunctionDef } from '../backend/cpu/wasm/module.js';
import { call, type Calls } from '../backend/cpu/wasm/runtime.js';

/** Inputs of at least this many elements are split across threads by outer index. */
const REDUCE_PARALLEL_MIN = 1 << 15;

const { i32, v128, f32 } = ValType;

/** reduce(x, out, outer, reduced, inner): out[o][k] op= x[o][r][k] for r from `first` (the row starts as 0, or as x[o][0] for max). */
function reduceFunction(kind: 'sum' | 'max'): FunctionDef {
  const [x, out, outer, reduced, inner] = [0, 1, 2, 3, 4];
  const [o, r, k, src, dst, va, vb, sa, sb] = [5, 6, 7, 8, 9, 10, 11, 12, 13];
  const c = new Code();
  // acc ∘ v with acc and v in locals, leaving the result on the stack.
  const combine = (vec: boolean, acc: number, v: number) => {
    if (kind === 'sum') {
      c.local_get(acc).local_get(v);
      if (vec) c.f32x4_add();
      else c.f32_add();
      return;
    }
    // v where v > acc or v is NaN, else acc (the JS rule).
    c.local_get(v).local_get(acc).local_get(v).local_get(acc);
    if (vec) c.f32x4_gt().local_get(v).local_get(v).f32x4_ne().v128_or().v128_bitselect();
    else c.f32_gt().local_get(v).local_get(v).f32_ne().i32_or().select();
  };
  c.i32_const(0).local_set(o)
    .block().loop().local_get(o).local_get(outer).i32_ge_s().br_if(1)
    .i32_const(kind === 'max' ? 1 : 0).local_set(r)
    .block().loop().local_get(r).local_get(reduced).i32_ge_s().br_if(1)
    .local_get(x).local_get(o).local_get(reduced).i32_mul().local_get(r).i32_add().local_get(inner).i32_mul().i32_const(2).i32_shl().i32_add().local_set(src)
    .local_get(out).local_get(o).local_get(inner).i32_mul().i32_const(2).i32_shl().i32_add().local_set(dst)
    .i32_const(0).local_set(k)
    .block().loop().local_get(k).i32_const(4).i32_add().local_get(inner).i32_gt_s().br_if(1)
    .local_get(dst).v128_load().local_set(va).local_get(src).v128_load().local_set(vb)
    .local_get(dst);
  combine(true, va, vb);
  c.v128_store()
    .local_get(dst).i32_const(16).i32_add().local_set(dst).local_get(src).i32_const(16).i32_add().local_set(src)
    .local_get(k).i32_const(4).i32_add().local_set(k).br(0).end().end()
    .block().loop().local_get(k).local_get(inner).i32_ge_s().br_if(1)
    .local_get(dst).f32_load().local_set(sa).local_get(src).f32_load().local_set(sb)
    .local_get(dst);
  combine(false, sa, sb);
  c.f32_store()
    .local_get(dst).i32_const(4).i32_add().local_set(dst).local_get(src).i32_const(4).i32_add().local_set(src)
    .local_get(k).i32_const(1).i32_add().local_set(k).br(0).end().end()
    .local_get(r).i32_const(1).i32_add().local_set(r).br(0).end().end()
    .local_get(o).i32_const(1).i32_add().local_set(o).br(0).end().end();
  return { name: 'reduce', params: [i32, i32, i32, i32, i32], results: [], locals: [i32, i32, i32, i32, i32, v128, v128, f32, f32], body: c };
}

/** The `wasm` member of a float32 sum or max over [outer, reduced, inner]; undefined for other kinds and dtypes (the JS kernel runs). */
export function reduceWasm(kind: string, dtype: string, outer: number, reduced: number, inner: number): KernelCall['wasm'] {
  if ((kind !== 'sum' && kind !== 'max') || dtype !== 'float32' || reduced === 0) return undefined;
  return (rt, [x], [out]) => {
    const id = rt.threadModule(`reduce:${kind}`, () => [reduceFunction(kind)]);
    const f32 = rt.heap.f32();
    for (let o = 0; o < outer; o++) {
      const row = out / 4 + o * inner;
      if (kind === 'sum' || reduced === 0) f32.fill(0, row, row + inner);
      else f32.copyWithin(row, x / 4 + o * reduced * inner, x / 4 + o * reduced * inner + inner);
    }
    // With threads, each takes a range of outer indices (an output's sum runs in the same order).
    const threads = outer * reduced * inner >= REDUCE_PARALLEL_MIN ? Math.min(rt.threads, outer) : 1;
    rt.run(Array.from({ length: threads }, (_, t) => {
      const [o0, o1] = [Math.floor((t * outer) / threads), Math.floor(((t + 1) * outer) / threads)];
      const calls: Calls = [];
      if (o1 > o0) call(calls, id, 0, x + 4 * o0 * reduced * inner, out + 4 * o0 * inner, o1 - o0, reduced, inner);
      return calls;
    }));
  };
}
