// The wasm version of elementwise kernels: the same expression (expr.ts) compiled to a wasm loop
// over rows and columns of the output. It computes in f64 and imports the JS closures' own
// exp/log/tanh/pow/sign, so both CPU kernel sets give identical results.
import type { KernelCall } from '../../backend/kernel.js';
import { Code } from '../../backend/cpu/wasm/code.js';
import { ValType, type FunctionDef } from '../../backend/cpu/wasm/module.js';
import { callWithFloats, type Calls, type HostFunction } from '../../backend/cpu/wasm/runtime.js';
import { sizeOf, stridesOf } from '../../shape.js';
import { jsFunction, type Expr, type FnName } from './expr.js';
import type { ElementwiseSpec } from './kernel.js';

const { i32, f64 } = ValType;

/** Math functions the JS reference calls, imported so wasm calls the very same ones. */
const HOST: readonly HostFunction[] = (['exp', 'log', 'tanh', 'sign', 'pow'] as const).map((name) => ({
  name,
  params: name === 'pow' ? [f64, f64] : [f64],
  results: [f64],
  fn: jsFunction(name),
}));
const hostIndex = (name: string): number => HOST.findIndex((h) => h.name === name);

/** Emits one expression; `input(i)` pushes input i as f64, `attr(i)` attribute i; `temp()` a fresh f64 local. */
function emitExpr(code: Code, e: Expr, input: (i: number) => void, attr: (i: number) => void, temp: () => number): void {
  if (e.kind === 'input') return input(e.index);
  if (e.kind === 'attr') return attr(e.index);
  if (e.kind === 'const') {
    code.f64_const(Math.fround(e.value));
    return;
  }
  const args = e.args.map((a) => () => emitExpr(code, a, input, attr, temp));
  const fn: FnName = e.fn;
  switch (fn) {
    case 'max':
    case 'min': {
      // (a > b || a is NaN) ? a : b, as the JS reference (min with <).
      const [ta, tb] = [temp(), temp()];
      args[0]();
      code.local_set(ta);
      args[1]();
      code.local_set(tb);
      code.local_get(ta).local_get(tb).local_get(ta).local_get(tb);
      if (fn === 'max') code.f64_gt();
      else code.f64_lt();
      code.local_get(ta).local_get(ta).f64_ne().i32_or().select();
      return;
    }
    case 'select': {
      const [tc, ta, tb] = [temp(), temp(), temp()];
      args[0]();
      code.local_set(tc);
      args[1]();
      code.local_set(ta);
      args[2]();
      code.local_set(tb);
      code.local_get(ta).local_get(tb).local_get(tc).f64_const(0).f64_gt().select();
      return;
    }
    case 'isFinite': {
      // a − a is 0 for finite a and NaN for ±Infinity and NaN.
      const t = temp();
      args[0]();
      code.local_tee(t).local_get(t).f64_sub().f64_const(0).f64_eq().f64_convert_i32_u();
      return;
    }
    default:
      for (const a of args) a();
      emitCall(code, fn);
  }
}

const BINARY: Partial<Record<FnName, (c: Code) => Code>> = {
  add: (c) => c.f64_add(), sub: (c) => c.f64_sub(), mul: (c) => c.f64_mul(), div: (c) => c.f64_div(),
  gt: (c) => c.f64_gt().f64_convert_i32_u(), ge: (c) => c.f64_ge().f64_convert_i32_u(),
  lt: (c) => c.f64_lt().f64_convert_i32_u(), le: (c) => c.f64_le().f64_convert_i32_u(),
  eq: (c) => c.f64_eq().f64_convert_i32_u(), ne: (c) => c.f64_ne().f64_convert_i32_u(),
  neg: (c) => c.f64_neg(), abs: (c) => c.f64_abs(), sqrt: (c) => c.f64_sqrt(), floor: (c) => c.f64_floor(),
};

function emitCall(code: Code, fn: FnName): void {
  const op = BINARY[fn];
  if (op) op(code);
  else code.call(hostIndex(fn));
}

/**
 * run(out0…, in0…, colStride0…, rowStride0… (bytes), rows, cols, attr0… (f64)): rows × cols
 * elements of each output, contiguous, from inputs that advance by their column stride within a
 * row and by their row stride between rows (0 where broadcast).
 */
function rowFunction(spec: ElementwiseSpec): FunctionDef {
  const nOut = spec.exprs.length;
  const nIn = spec.inputs.length;
  const outP = (o: number) => o;
  const inP = (j: number) => nOut + j;
  const colS = (j: number) => nOut + nIn + j;
  const rowS = (j: number) => nOut + 2 * nIn + j;
  const rows = nOut + 3 * nIn;
  const cols = rows + 1;
  const attr0 = cols + 1;
  const nParams = attr0 + spec.values.length;
  const locals: ValType[] = [];
  const local = (t: ValType) => nParams + locals.push(t) - 1;
  const n = local(i32);
  const cur = spec.inputs.map(() => local(i32));
  const temp = () => local(f64);
  const code = new Code().block().loop().local_get(rows).i32_eqz().br_if(1)
    .local_get(cols).local_set(n);
  for (let j = 0; j < nIn; j++) code.local_get(inP(j)).local_set(cur[j]);
  code.block().loop().local_get(n).i32_eqz().br_if(1);
  const input = (j: number) => {
    code.local_get(cur[j]);
    if (spec.inputs[j].dtype === 'int32') code.i32_load().f64_convert_i32_s();
    else code.f32_load().f64_promote_f32();
  };
  spec.exprs.forEach((e, o) => {
    code.local_get(outP(o));
    emitExpr(code, e, input, (i) => code.local_get(attr0 + i), temp);
    code.f32_demote_f64().f32_store()
      .local_get(outP(o)).i32_const(4).i32_add().local_set(outP(o));
  });
  for (let j = 0; j < nIn; j++) code.local_get(cur[j]).local_get(colS(j)).i32_add().local_set(cur[j]);
  code.local_get(n).i32_const(1).i32_sub().local_set(n).br(0).end().end();
  for (let j = 0; j < nIn; j++) code.local_get(inP(j)).local_get(rowS(j)).i32_add().local_set(inP(j));
  code.local_get(rows).i32_const(1).i32_sub().local_set(rows).br(0).end().end();
  const params = [...Array<ValType>(cols + 1).fill(i32), ...Array<ValType>(spec.values.length).fill(f64)];
  return { name: 'run', params, results: [], locals, body: code };
}

/**
 * The output's dims with neighbours merged where every input steps through both as through one
 * (so most broadcasts become two dims), and each input's strides over the merged dims.
 */
function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const dims: number[] = [];
  const out: number[][] = strides.map(() => []);
  shape.forEach((d, i) => {
    const last = dims.length - 1;
    if (d === 1 && shape.length > 1) return;
    if (last >= 0 && strides.every((s, j) => out[j][last] === s[i] * d)) {
      dims[last] *= d;
      strides.forEach((s, j) => { out[j][last] = s[i]; });
    } else {
      dims.push(d);
      strides.forEach((s, j) => out[j].push(s[i]));
    }
  });
  if (!dims.length) return { dims: [1], strides: strides.map(() => [0]) };
  return { dims, strides: out };
}

/** Outputs of at least this many elements are split across threads (each thread a range of rows, or of columns). */
export const ELEMENTWISE_PARALLEL_MIN = 1 << 15;
/**
 * …whose blocks (the two innermost dims after coalescing) hold at least this many: a worker's
 * call costs about a microsecond of JS, so a transpose made of thousands of 16-element blocks
 * ran 10× slower split than on one thread (an upsampling autoencoder's step: 80 → 317 ms).
 */
export const ELEMENTWISE_BLOCK_MIN = 1 << 10;

/** `threads` even ranges [a, b) of n. */
function ranges(n: number, threads: number): [number, number][] {
  return Array.from({ length: threads }, (_, t) => [Math.floor((t * n) / threads), Math.floor(((t + 1) * n) / threads)]);
}

/**
 * The `wasm` member of an elementwise KernelCall, or undefined where the JS kernel must run: int32
 * outputs (a JS store wraps modulo 2³², which wasm's conversions do not). The output is walked as
 * rows × columns of its last two merged dims per call, with an odometer over the dims before them.
 */
export function elementwiseWasm(spec: ElementwiseSpec, contiguous: readonly boolean[]): KernelCall['wasm'] {
  if (spec.dtypes.some((d) => d !== 'float32')) return undefined;
  const { shape, inputs, values } = spec;
  const total = sizeOf(shape);
  // Built on first run only: most elementwise calls are fused away before they run.
  let key: string | undefined;
  let layout: { dims: number[]; strides: number[][]; offsets: number[] } | undefined;
  return (rt, ins, outs) => {
    key ??= `elementwise:${JSON.stringify([spec.exprs, spec.inputs.map((i) => i.dtype), spec.values.length])}`;
    const { run } = rt.kernel(key, () => [rowFunction(spec)], HOST) as { run: (...args: number[]) => void };
    if (total === 0) return;
    layout ??= {
      ...coalesce(shape.length ? shape : [1], inputs.map((inp, j) => (contiguous[j] || !shape.length ? stridesOf(shape.length ? shape : [1]) : inp.strides))),
      offsets: inputs.map((inp, j) => (contiguous[j] ? 0 : inp.offset)),
    };
    const { dims, strides, offsets } = layout;
    const r = dims.length;
    const cols = dims[r - 1];
    const rows = r > 1 ? dims[r - 2] : 1;
    const colStrides = strides.map((s) => 4 * s[r - 1]);
    const rowStrides = strides.map((s) => (r > 1 ? 4 * s[r - 2] : 0));
    const block = rows * cols;
    const outer = total / block;
    const coord = new Int32Array(Math.max(r - 2, 0));
    const offs = offsets.slice();
    // With threads, each block's rows (or, for fewer rows than threads, its columns) are split:
    // every element is computed by the same code either way.
    const threads = total >= ELEMENTWISE_PARALLEL_MIN && block >= ELEMENTWISE_BLOCK_MIN ? rt.threads : 1;
    const id = threads > 1 ? rt.threadModule(key, () => [rowFunction(spec)], HOST) : -1;
    const lists: Calls[] = Array.from({ length: threads }, () => []);
    for (let b = 0; b < outer; b++) {
      if (threads === 1) run(...outs.map((o) => o + 4 * b * block), ...ins.map((p, j) => p + 4 * offs[j]), ...colStrides, ...rowStrides, rows, cols, ...values);
      else {
        const byRows = rows >= threads;
        ranges(byRows ? rows : cols, threads).forEach(([a, e], t) => {
          if (e <= a) return;
          const [outStep, inStep] = byRows ? [4 * cols, rowStrides] : [4, colStrides];
          const ints = [...outs.map((o) => o + 4 * b * block + a * outStep), ...ins.map((p, j) => p + 4 * offs[j] + a * inStep[j]), ...colStrides, ...rowStrides, byRows ? e - a : rows, byRows ? cols : e - a];
          callWithFloats(lists[t], id, 0, ints, values);
        });
      }
      // The next block: an odometer over the outer dims, moving each input's offset.
      for (let d = r - 3; d >= 0; d--) {
        coord[d]++;
        strides.forEach((s, j) => { offs[j] += s[d]; });
        if (coord[d] < dims[d]) break;
        strides.forEach((s, j) => { offs[j] -= s[d] * dims[d]; });
        coord[d] = 0;
      }
    }
    if (threads > 1) rt.run(lists);
  };
}
