// Builds the KernelCall of an elementwise expression: every input is read through strides and
// an offset relative to the output's coordinates, which covers broadcasting, transposes, slices
// and plain copies with one generated kernel. Pipelines are keyed by expression, dtypes, rank
// and which inputs are contiguous; sizes and strides go in uniforms.
import { linearWorkgroups, WORKGROUP_SIZE, type BindingWindow, type KernelCall, type SplitLimits, type Uniform } from '../../backend/kernel.js';
import { ranges, searchParts, stridedSpan, windowOver } from '../../backend/split.js';
import type { DType, TypedArray } from '../../dtype.js';
import { sizeOf, stridesOf } from '../../shape.js';
import { toJs, toWgsl, WGSL_PRELUDE, type Expr } from './expr.js';

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

function isContiguous(input: StridedInput, outShape: readonly number[]): boolean {
  const own = stridesOf(outShape);
  return input.offset === 0 && outShape.every((d, i) => d === 1 || input.strides[i] === own[i]);
}

const wgslType = (d: DType): string => (d === 'int32' ? 'i32' : 'f32');

/** The kernel computing `out = expr(inputs…)` elementwise over `outShape`. */
export function elementwiseCall(
  name: string,
  expr: Expr,
  inputs: readonly StridedInput[],
  outShape: readonly number[],
  outDtype: DType,
  attrs: readonly number[] = [],
): KernelCall {
  const rank = outShape.length;
  const n = sizeOf(outShape);
  const contiguous = inputs.map((inp) => isContiguous(inp, outShape));
  const exprKey = JSON.stringify(expr);
  const key = `ew:${exprKey}:${inputs.map((x, i) => x.dtype[0] + (contiguous[i] ? 'c' : 's')).join('')}>${outDtype[0]}:r${rank}:a${attrs.length}`;

  // One dispatch covers outputs [first, end); bindings may be windows from `base` (output and
  // contiguous inputs) and `bases[k]` (strided input k): see splitElementwise.
  const uniformsOf = (first: number, end: number, base: number, bases: readonly number[]): Uniform[] => {
    const u: Uniform[] = [{ u32: end }, { u32: first }, { u32: base }];
    for (const d of outShape) u.push({ u32: d });
    inputs.forEach((inp, k) => {
      if (contiguous[k]) return;
      for (const s of inp.strides) u.push({ u32: s });
      // May wrap below zero: WGSL's u32 arithmetic is modular, so the sum still lands in the window.
      u.push({ u32: (inp.offset - bases[k]) >>> 0 });
    });
    for (const a of attrs) u.push({ f32: a });
    return u;
  };

  const call: KernelCall = {
    name,
    key,
    uniforms: uniformsOf(0, n, 0, inputs.map(() => 0)),
    workgroups: linearWorkgroups(n),
    wgsl: () => renderWgsl(expr, inputs, contiguous, rank, outDtype, attrs.length),
    cpu: (ins, [out]) => runCpu(expr, inputs, contiguous, outShape, attrs, ins, out),
  };
  return { ...call, split: (limits) => splitElementwise(call, inputs, contiguous, outShape, limits, uniformsOf) };
}

/**
 * For tensors larger than one binding: cuts the outputs into ranges, each dispatch binding the
 * output range, the same range of contiguous inputs, and of strided inputs (broadcast,
 * transposed, sliced) the span of elements that range reads.
 */
function splitElementwise(
  call: KernelCall,
  inputs: readonly StridedInput[],
  contiguous: readonly boolean[],
  outShape: readonly number[],
  limits: SplitLimits,
  uniformsOf: (first: number, end: number, base: number, bases: readonly number[]) => Uniform[],
): KernelCall[] {
  return searchParts(call.name, limits, (parts) => {
    const calls: KernelCall[] = [];
    for (const [first, end] of ranges(sizeOf(outShape), parts)) {
      const outWindow = windowOver([first, end], limits);
      if (!outWindow) return null;
      const windows: BindingWindow[] = [];
      for (let k = 0; k < inputs.length; k++) {
        const { strides, offset } = inputs[k];
        const w = contiguous[k] ? outWindow : windowOver(stridedSpan(outShape, strides, offset, first, end), limits);
        if (!w) return null;
        windows.push(w);
      }
      const uniforms = uniformsOf(first, end, outWindow.offset, windows.map((w) => w.offset));
      calls.push({ ...call, uniforms, workgroups: linearWorkgroups(end - first), windows: [...windows, outWindow] });
    }
    return calls;
  });
}

function renderWgsl(
  expr: Expr,
  inputs: readonly StridedInput[],
  contiguous: readonly boolean[],
  rank: number,
  outDtype: DType,
  attrCount: number,
): string {
  const fields = ['n: u32', 'first: u32', 'base: u32'];
  for (let d = 0; d < rank; d++) fields.push(`d${d}: u32`);
  inputs.forEach((_, k) => {
    if (contiguous[k]) return;
    for (let d = 0; d < rank; d++) fields.push(`s${k}_${d}: u32`);
    fields.push(`o${k}: u32`);
  });
  for (let a = 0; a < attrCount; a++) fields.push(`a${a}: f32`);

  const bindings = inputs.map(
    (inp, k) => `@group(0) @binding(${k}) var<storage, read> in${k}: array<${wgslType(inp.dtype)}>;`,
  );
  bindings.push(`@group(0) @binding(${inputs.length}) var<storage, read_write> out: array<${wgslType(outDtype)}>;`);
  bindings.push(`@group(0) @binding(${inputs.length + 1}) var<uniform> p: Params;`);

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
  const value = toWgsl(expr, (k) => `x${k}`, (a) => `p.a${a}`);
  body.push(`  out[i - p.base] = ${wgslType(outDtype)}(${value});`);

  return `${WGSL_PRELUDE}
struct Params { ${fields.join(', ')} }
${bindings.join('\n')}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = p.first + gid.y * nwg.x * ${WORKGROUP_SIZE}u + gid.x;
  if (i >= p.n) { return; }
${body.join('\n')}
}
`;
}

function runCpu(
  expr: Expr,
  inputs: readonly StridedInput[],
  contiguous: readonly boolean[],
  shape: readonly number[],
  attrs: readonly number[],
  ins: readonly TypedArray[],
  out: TypedArray,
): void {
  const f = toJs(expr, attrs);
  const k = inputs.length;
  const x = new Float64Array(Math.max(1, k));
  const n = out.length;
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
  // Walk the output in order with an odometer, moving each input's offset by its strides.
  const rank = shape.length;
  const coord = new Int32Array(rank);
  const strides = inputs.map((inp, j) => (contiguous[j] ? stridesOf(shape) : inp.strides));
  const offs = inputs.map((inp, j) => (contiguous[j] ? 0 : inp.offset));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) x[j] = ins[j][offs[j]];
    out[i] = f(x);
    for (let d = rank - 1; d >= 0; d--) {
      coord[d]++;
      for (let j = 0; j < k; j++) offs[j] += strides[j][d];
      if (coord[d] < shape[d]) break;
      for (let j = 0; j < k; j++) offs[j] -= strides[j][d] * shape[d];
      coord[d] = 0;
    }
  }
}
