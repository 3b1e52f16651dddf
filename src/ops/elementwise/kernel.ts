// Builds the KernelCall of an elementwise expression: every input is read through strides and
// an offset relative to the output's coordinates, which covers broadcasting, transposes, slices
// and plain copies with one generated kernel. Pipelines are keyed by expression, dtypes, rank
// and which inputs are contiguous; sizes and strides go in uniforms. A kernel may write several
// outputs of the same shape (the engine packs fused elementwise values that way).
import { linearWorkgroups, type BindingWindow, type KernelCall, type SplitLimits, type Uniform } from '../../backend/kernel.js';
import { kernelParams, perDimFields, perDimValues, type KernelParams, type ParamFields, type ParamType, type StorageBinding } from '../../backend/skeleton.js';
import { ranges, searchParts, stridedSpan, windowOver } from '../../backend/split.js';
import type { DType, TypedArray } from '../../dtype.js';
import { sizeOf, stridesOf } from '../../shape.js';
import { toJs, toWgsl, WGSL_PRELUDE, type Expr } from './expr.js';
import { elementwiseWasm } from './wasm.js';

/** How one input is read, relative to the output's coordinates. */
export interface StridedInput {
  readonly dtype: DType;
  /** One stride per output dim (0 where the input is broadcast). */
  readonly strides: readonly number[];
  /** Element offset of the output's origin in the input. */
  readonly offset: number;
}

/** An input read in the same order as the output, element for element. */
export function contiguousInput(dtype: DType, outShape: readonly number[]): StridedInput {
  return { dtype, strides: stridesOf(outShape), offset: 0 };
}

/** True if `input` is read element for element in the output's order (dims of size 1 may have any stride). */
export function isContiguous(input: StridedInput, outShape: readonly number[]): boolean {
  const own = stridesOf(outShape);
  return input.offset === 0 && outShape.every((d, i) => d === 1 || input.strides[i] === own[i]);
}

const wgslType = (d: DType): string => (d === 'int32' ? 'i32' : 'f32');

/**
 * An elementwise kernel as data: one expression per output, all over the same strided inputs and
 * output shape. Kept on the KernelCall so the engine can fuse chains of them before they run.
 */
export interface ElementwiseSpec {
  /** Name in errors and stats. */
  readonly label: string;
  /** One expression per output. */
  readonly exprs: readonly Expr[];
  readonly inputs: readonly StridedInput[];
  readonly shape: readonly number[];
  /** One dtype per output. */
  readonly dtypes: readonly DType[];
  /** Float attributes the expressions read with `E.attr(i)`. */
  readonly values: readonly number[];
}

/**
 * 32-bit uniform words a spec needs: the end, first and base of the dispatch's range (see
 * splitElementwise), dims, strides and offset of each strided input, attributes.
 */
export function uniformWords(spec: Pick<ElementwiseSpec, 'inputs' | 'shape' | 'values'>): number {
  const rank = spec.shape.length;
  const strided = spec.inputs.filter((inp) => !isContiguous(inp, spec.shape)).length;
  return 3 + rank + strided * (rank + 1) + spec.values.length;
}

/** The kernel computing `out = expr(inputs…)` elementwise over `outShape`. */
export function elementwiseCall(
  name: string,
  expr: Expr,
  inputs: readonly StridedInput[],
  outShape: readonly number[],
  outDtype: DType,
  attrs: readonly number[] = [],
): KernelCall {
  return elementwiseKernel({ label: name, exprs: [expr], inputs, shape: outShape, dtypes: [outDtype], values: attrs });
}

/** The kernel of a spec: each invocation reads its inputs once and writes every output. */
export function elementwiseKernel(spec: ElementwiseSpec): KernelCall {
  const { exprs, inputs, shape, dtypes, values } = spec;
  const rank = shape.length;
  const n = sizeOf(shape);
  const contiguous = inputs.map((inp) => isContiguous(inp, shape));

  // One dispatch covers outputs [first, end); bindings may be windows from `base` (output and
  // contiguous inputs) and `bases[k]` (strided input k): see splitElementwise.
  let params: KernelParams<ParamFields> | undefined;
  const uniformsOf = (first: number, end: number, base: number, bases: readonly number[]): Uniform[] => {
    const v: Record<string, number> = { n: end, first, base, ...perDimValues('d', shape) };
    inputs.forEach((inp, k) => {
      if (contiguous[k]) return;
      // The offset may wrap below zero: WGSL's u32 arithmetic is modular, so the sum still lands in the window.
      Object.assign(v, perDimValues(`s${k}_`, inp.strides), { [`o${k}`]: (inp.offset - bases[k]) >>> 0 });
    });
    values.forEach((x, a) => (v[`a${a}`] = x));
    return (params ??= elementwiseParams(spec, contiguous)).uniforms(v);
  };

  // Four elements per invocation when every input is read in the output's order or is one
  // broadcast value: vec4 loads and stores cost SwiftShader a quarter of the scalar ones (a relu
  // gradient over 1.4M elements: 11 → 5 ms). Parts of a split dispatch stay scalar: their ranges
  // need not start on a multiple of 4.
  const vectorized = n % 4 === 0 && inputs.every((inp, k) => contiguous[k] || isSingleValue(inp, shape));

  // The key and uniforms are built on first use: most elementwise calls are folded into a fused
  // kernel (src/graph/fusion.ts) and never dispatched, and the key's JSON was a leading JS cost.
  const scalarKey = () => `ew:${JSON.stringify(exprs)}:${inputs.map((x, i) => x.dtype[0] + (contiguous[i] ? 'c' : 's')).join('')}>${dtypes.map((d) => d[0]).join('')}:r${rank}:a${values.length}`;
  const scalarWgsl = () => renderWgsl(spec, contiguous, (params ??= elementwiseParams(spec, contiguous)));
  let key: string | undefined;
  let uniforms: Uniform[] | undefined;
  const call: KernelCall = {
    name: spec.label,
    get key() {
      return (key ??= vectorized ? `${scalarKey()}:v4` : scalarKey());
    },
    get uniforms() {
      return (uniforms ??= uniformsOf(0, n, 0, inputs.map(() => 0)));
    },
    workgroups: linearWorkgroups(vectorized ? n / 4 : n),
    wgsl: vectorized ? () => renderVec4Wgsl(spec, contiguous, (params ??= elementwiseParams(spec, contiguous))) : scalarWgsl,
    cpu: (ins, outs) => runCpu(spec, contiguous, ins, outs),
    wasm: elementwiseWasm(spec, contiguous),
    elementwise: spec,
    split: (limits) => {
      const scalar: KernelCall = vectorized ? { ...call, key: scalarKey(), workgroups: linearWorkgroups(n), wgsl: scalarWgsl } : call;
      return splitElementwise(scalar, spec, contiguous, limits, uniformsOf);
    },
  };
  return call;
}

/** True if `input` reads one element for the whole output (every dim of size > 1 has stride 0). */
function isSingleValue(input: StridedInput, outShape: readonly number[]): boolean {
  return outShape.every((d, i) => d === 1 || input.strides[i] === 0);
}

/**
 * For tensors larger than one binding: cuts the outputs into ranges, each dispatch binding every
 * output's range (they share the shape), the same range of contiguous inputs, and of strided
 * inputs (broadcast, transposed, sliced) the span of elements that range reads.
 */
function splitElementwise(
  call: KernelCall,
  { inputs, shape, dtypes }: ElementwiseSpec,
  contiguous: readonly boolean[],
  limits: SplitLimits,
  uniformsOf: (first: number, end: number, base: number, bases: readonly number[]) => Uniform[],
): KernelCall[] {
  return searchParts(call.name, limits, (parts) => {
    const calls: KernelCall[] = [];
    for (const [first, end] of ranges(sizeOf(shape), parts)) {
      const outWindow = windowOver([first, end], limits);
      if (!outWindow) return null;
      const windows: BindingWindow[] = [];
      for (let k = 0; k < inputs.length; k++) {
        const { strides, offset } = inputs[k];
        const w = contiguous[k] ? outWindow : windowOver(stridedSpan(shape, strides, offset, first, end), limits);
        if (!w) return null;
        windows.push(w);
      }
      const uniforms = uniformsOf(first, end, outWindow.offset, windows.map((w) => w.offset));
      calls.push({ ...call, uniforms, workgroups: linearWorkgroups(end - first), windows: [...windows, ...dtypes.map(() => outWindow)] });
    }
    return calls;
  });
}

/**
 * The uniforms of a spec's kernel: the range (n, first, base), the output's dims, each strided
 * input's strides s{k}_{d} and offset o{k}, and the attributes a{a}.
 */
function elementwiseParams({ inputs, shape, values }: ElementwiseSpec, contiguous: readonly boolean[]): KernelParams<ParamFields> {
  const rank = shape.length;
  const fields: Record<string, ParamType> = { n: 'u32', first: 'u32', base: 'u32', ...perDimFields('d', rank) };
  inputs.forEach((_, k) => {
    if (!contiguous[k]) Object.assign(fields, perDimFields(`s${k}_`, rank), { [`o${k}`]: 'u32' });
  });
  values.forEach((_, a) => (fields[`a${a}`] = 'f32'));
  return kernelParams(fields);
}

function renderWgsl({ exprs, inputs, shape, dtypes }: ElementwiseSpec, contiguous: readonly boolean[], params: KernelParams<ParamFields>): string {
  const rank = shape.length;
  const storages: StorageBinding[] = [
    ...inputs.map((inp, k) => ({ name: `in${k}`, type: wgslType(inp.dtype) })),
    ...dtypes.map((d, o) => ({ name: `out${o}`, type: wgslType(d), write: true })),
  ];
  const needCoords = contiguous.some((c) => !c);
  const body: string[] = [];
  if (needCoords) {
    body.push('  var rem = i;');
    for (let d = rank - 1; d >= 1; d--) body.push(`  let c${d} = rem % p.d${d}; rem = rem / p.d${d};`);
    if (rank > 0) body.push('  let c0 = rem;');
  }
  inputs.forEach((_, k) => {
    let index = 'i - p.base';
    if (!contiguous[k]) {
      const terms = [`p.o${k}`];
      for (let d = 0; d < rank; d++) terms.push(`c${d} * p.s${k}_${d}`);
      index = terms.join(' + ');
    }
    body.push(`  let x${k} = f32(in${k}[${index}]);`);
  });
  exprs.forEach((e, o) => body.push(`  out${o}[i - p.base] = ${dtypes[o] === 'int32' ? 'nt_to_i32' : 'f32'}(${toWgsl(e, (k) => `x${k}`, (a) => `p.a${a}`)});`));
  return params.wgsl({ storages, prelude: WGSL_PRELUDE, index: { from: 'first', below: 'n' }, body: body.join('\n') });
}

/**
 * The four-lane kernel (see elementwiseKernel): invocation v takes elements 4v … 4v + 3 of an
 * unsplit dispatch, loading each contiguous input as one vec4 and each single-value input once.
 * Every output's expression is one function, applied to each lane's values.
 */
function renderVec4Wgsl({ exprs, inputs, dtypes }: ElementwiseSpec, contiguous: readonly boolean[], params: KernelParams<ParamFields>): string {
  const storages: StorageBinding[] = [
    ...inputs.map((inp, k) => ({ name: `in${k}`, type: contiguous[k] ? `vec4<${wgslType(inp.dtype)}>` : wgslType(inp.dtype) })),
    ...dtypes.map((d, o) => ({ name: `out${o}`, type: `vec4<${wgslType(d)}>`, write: true })),
  ];
  const args = inputs.map((_, k) => `x${k}: f32`).join(', ');
  const functions = exprs.map((e, o) => `fn value${o}(${args}) -> f32 { return ${toWgsl(e, (k) => `x${k}`, (a) => `p.a${a}`)}; }`);
  const body = ['  if (i * 4u >= p.n) { return; }'];
  inputs.forEach((_, k) => body.push(contiguous[k] ? `  let x${k} = vec4<f32>(in${k}[i]);` : `  let x${k} = f32(in${k}[p.o${k}]);`));
  const lane = (c: string) => inputs.map((_, k) => (contiguous[k] ? `x${k}.${c}` : `x${k}`)).join(', ');
  exprs.forEach((_, o) => {
    const lanes = ['x', 'y', 'z', 'w'].map((c) => (dtypes[o] === 'int32' ? `nt_to_i32(value${o}(${lane(c)}))` : `value${o}(${lane(c)})`));
    body.push(`  out${o}[i] = vec4<${wgslType(dtypes[o])}>(${lanes.join(', ')});`);
  });
  return params.wgsl({ storages, prelude: `${WGSL_PRELUDE}\n${functions.join('\n')}`, index: {}, body: body.join('\n') });
}

/**
 * An f32 value stored into an i32 as the WGSL kernels store it (nt_to_i32): NaN becomes 0,
 * values beyond the i32 range clamp to its ends that f32 can hold (−2³¹ and 2³¹ − 128), the rest
 * truncate toward zero. A plain Int32Array store would wrap modulo 2³² instead, so x/0 and
 * overflows differed between the backends.
 */
export function f32ToI32(v: number): number {
  const f = Math.fround(v);
  if (f !== f) return 0;
  return Math.trunc(Math.min(Math.max(f, -2147483648), 2147483520));
}

function runCpu(
  { exprs, inputs, shape, values, dtypes }: ElementwiseSpec,
  contiguous: readonly boolean[],
  ins: readonly TypedArray[],
  outs: TypedArray[],
): void {
  const fs = exprs.map((e, o) => {
    const f = toJs(e, values);
    return dtypes[o] === 'int32' ? (x: Float64Array) => f32ToI32(f(x)) : f;
  });
  const k = inputs.length;
  const x = new Float64Array(Math.max(1, k));
  const n = sizeOf(shape);
  if (fs.length === 1) {
    const [f] = fs;
    const [out] = outs;
    if (contiguous.every(Boolean)) {
      if (k === 1) {
        const a = ins[0];
        for (let i = 0; i < n; i++) {
          x[0] = a[i];
          out[i] = f(x);
        }
        return;
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) x[j] = ins[j][i];
        out[i] = f(x);
      }
      return;
    }
  }
  // Walk the output in order with an odometer, moving each input's offset by its strides.
  const rank = shape.length;
  const coord = new Int32Array(rank);
  const strides = inputs.map((inp, j) => (contiguous[j] ? stridesOf(shape) : inp.strides));
  const offs = inputs.map((inp, j) => (contiguous[j] ? 0 : inp.offset));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) x[j] = ins[j][offs[j]];
    for (let o = 0; o < fs.length; o++) outs[o][i] = fs[o](x);
    for (let d = rank - 1; d >= 0; d--) {
      coord[d]++;
      for (let j = 0; j < k; j++) offs[j] += strides[j][d];
      if (coord[d] < shape[d]) break;
      for (let j = 0; j < k; j++) offs[j] -= strides[j][d] * shape[d];
      coord[d] = 0;
    }
  }
}
