// A tiny scalar expression language for elementwise ops. One expression is rendered both to
// WGSL (for the GPU) and to a tree of JS closures (for the CPU, no eval), so the two backends
// compute the same formula by construction.

/** A scalar expression over the op's inputs (read as f32) and its float attributes. */
export type Expr =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'attr'; readonly index: number }
  | { readonly kind: 'call'; readonly fn: FnName; readonly args: readonly Expr[] };

interface FnSpec {
  readonly wgsl: (a: string[]) => string;
  readonly js: (...a: number[]) => number;
}

const bool = (c: boolean): number => (c ? 1 : 0);
const wgslBool = (c: string): string => `select(0.0, 1.0, ${c})`;

/** WGSL helpers the functions below rely on. Kept in one place so every generated kernel gets them. */
export const WGSL_PRELUDE = /* wgsl */ `
// NaN and infinities cannot be WGSL constants; a user function call makes them runtime values.
fn nt_bits(u: u32) -> f32 { return bitcast<f32>(u); }
// NaN in and out as IEEE arithmetic (and the CPU backend) has it. WGSL leaves built-ins on NaN
// undefined (SwiftShader: max(NaN, 0) = 0, exp(NaN) = +Inf, log(-1) = log(1), log(0) = -88), so
// the functions below test the bits, which no compiler may fold away as it may fold x != x.
fn nt_is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// f32 → i32 as the CPU stores it (f32ToI32 in kernel.ts): NaN to 0, clamped to [−2³¹, 2³¹ − 128],
// truncated. WGSL leaves NaN's conversion to the implementation (SwiftShader gives −2³¹).
fn nt_to_i32(x: f32) -> i32 { return i32(select(clamp(x, -2147483648.0, 2147483520.0), 0.0, nt_is_nan(x))); }
fn nt_max(a: f32, b: f32) -> f32 { return select(max(a, b), a + b, nt_is_nan(a) | nt_is_nan(b)); }
fn nt_min(a: f32, b: f32) -> f32 { return select(min(a, b), a + b, nt_is_nan(a) | nt_is_nan(b)); }
fn nt_exp(x: f32) -> f32 { return select(exp(x), x, nt_is_nan(x)); }
fn nt_sign(x: f32) -> f32 { return select(sign(x), x, nt_is_nan(x)); }
fn nt_log(x: f32) -> f32 {
  if (x == 0.0) { return nt_bits(0xff800000u); }
  return select(log(x), nt_bits(0x7fc00000u), (x < 0.0) | nt_is_nan(x));
}
// tanh through exp overflows to NaN for large |x| on some drivers; clamp first (tanh(±15) == ±1 in f32).
// Below |x| = 1e-4, tanh(x) == x in f32, and (e − 1)/(e + 1) would lose x to rounding.
fn nt_tanh(x: f32) -> f32 {
  if (nt_is_nan(x) | (abs(x) < 1e-4)) { return x; }
  let c = clamp(x, -15.0, 15.0); let e = exp(2.0 * c); return (e - 1.0) / (e + 1.0);
}
// WGSL pow is undefined for a negative base; match Math.pow for integral exponents.
// Integral exponents up to 64 go by repeated squaring: exact wherever f32 holds the result, as on
// the CPU. pow's exp2(b·log2 a) is a little off, and int32 results truncate it (6² came out 35).
fn nt_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (floor(b) == b && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  if (a >= 0.0) { return pow(a, b); }
  if (floor(b) != b) { return nt_bits(0x7fc00000u); }
  let m = pow(-a, b);
  return select(m, -m, (b - 2.0 * floor(b / 2.0)) == 1.0);
}
// 1 for finite x, 0 for ±Inf and NaN; tests the exponent bits, since compilers may assume no NaN/Inf.
fn nt_is_finite(x: f32) -> f32 { return select(0.0, 1.0, (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u); }
`;

const FNS = {
  add: { wgsl: ([a, b]) => `(${a} + ${b})`, js: (a, b) => a + b },
  sub: { wgsl: ([a, b]) => `(${a} - ${b})`, js: (a, b) => a - b },
  mul: { wgsl: ([a, b]) => `(${a} * ${b})`, js: (a, b) => a * b },
  div: { wgsl: ([a, b]) => `(${a} / ${b})`, js: (a, b) => a / b },
  neg: { wgsl: ([a]) => `(-${a})`, js: (a) => -a },
  exp: { wgsl: ([a]) => `nt_exp(${a})`, js: Math.exp },
  log: { wgsl: ([a]) => `nt_log(${a})`, js: Math.log },
  sqrt: { wgsl: ([a]) => `sqrt(${a})`, js: Math.sqrt },
  abs: { wgsl: ([a]) => `abs(${a})`, js: Math.abs },
  sign: { wgsl: ([a]) => `nt_sign(${a})`, js: Math.sign },
  floor: { wgsl: ([a]) => `floor(${a})`, js: Math.floor },
  tanh: { wgsl: ([a]) => `nt_tanh(${a})`, js: Math.tanh },
  pow: { wgsl: ([a, b]) => `nt_pow(${a}, ${b})`, js: (a, b) => (b === 0 ? 1 : Math.pow(a, b)) },
  max: { wgsl: ([a, b]) => `nt_max(${a}, ${b})`, js: (a, b) => (a > b || Number.isNaN(a) ? a : b) },
  min: { wgsl: ([a, b]) => `nt_min(${a}, ${b})`, js: (a, b) => (a < b || Number.isNaN(a) ? a : b) },
  gt: { wgsl: ([a, b]) => wgslBool(`${a} > ${b}`), js: (a, b) => bool(a > b) },
  ge: { wgsl: ([a, b]) => wgslBool(`${a} >= ${b}`), js: (a, b) => bool(a >= b) },
  lt: { wgsl: ([a, b]) => wgslBool(`${a} < ${b}`), js: (a, b) => bool(a < b) },
  le: { wgsl: ([a, b]) => wgslBool(`${a} <= ${b}`), js: (a, b) => bool(a <= b) },
  eq: { wgsl: ([a, b]) => wgslBool(`${a} == ${b}`), js: (a, b) => bool(a === b) },
  ne: { wgsl: ([a, b]) => wgslBool(`${a} != ${b}`), js: (a, b) => bool(a !== b) },
  isFinite: { wgsl: ([a]) => `nt_is_finite(${a})`, js: (a) => bool(Number.isFinite(a)) },
  /** select(c, a, b): a where c > 0, else b. */
  select: { wgsl: ([c, a, b]) => `select(${b}, ${a}, ${c} > 0.0)`, js: (c, a, b) => (c > 0 ? a : b) },
} satisfies Record<string, FnSpec>;

/** The JS implementation of a scalar function: the wasm kernels import the transcendental ones, so both CPU kernel sets call the same code. */
export function jsFunction(fn: FnName): (...a: number[]) => number {
  return (FNS[fn] as FnSpec).js;
}

/** Names of the scalar functions expressions may call. */
export type FnName = keyof typeof FNS;

const call = (fn: FnName, ...args: Expr[]): Expr => ({ kind: 'call', fn, args });

/** Expression builders: `E.mul(E.input(0), E.const(2))`. */
export const E = {
  input: (index: number): Expr => ({ kind: 'input', index }),
  const: (value: number): Expr => ({ kind: 'const', value }),
  attr: (index: number): Expr => ({ kind: 'attr', index }),
  add: (a: Expr, b: Expr) => call('add', a, b),
  sub: (a: Expr, b: Expr) => call('sub', a, b),
  mul: (a: Expr, b: Expr) => call('mul', a, b),
  div: (a: Expr, b: Expr) => call('div', a, b),
  neg: (a: Expr) => call('neg', a),
  exp: (a: Expr) => call('exp', a),
  log: (a: Expr) => call('log', a),
  sqrt: (a: Expr) => call('sqrt', a),
  abs: (a: Expr) => call('abs', a),
  sign: (a: Expr) => call('sign', a),
  floor: (a: Expr) => call('floor', a),
  tanh: (a: Expr) => call('tanh', a),
  pow: (a: Expr, b: Expr) => call('pow', a, b),
  max: (a: Expr, b: Expr) => call('max', a, b),
  min: (a: Expr, b: Expr) => call('min', a, b),
  gt: (a: Expr, b: Expr) => call('gt', a, b),
  ge: (a: Expr, b: Expr) => call('ge', a, b),
  lt: (a: Expr, b: Expr) => call('lt', a, b),
  le: (a: Expr, b: Expr) => call('le', a, b),
  eq: (a: Expr, b: Expr) => call('eq', a, b),
  ne: (a: Expr, b: Expr) => call('ne', a, b),
  select: (c: Expr, a: Expr, b: Expr) => call('select', c, a, b),
  /** 1 where a is finite, 0 for ±Infinity and NaN. */
  isFinite: (a: Expr) => call('isFinite', a),
};

/** Renders to WGSL; `inputs[i]` is the WGSL name of input i, `attr(i)` the name of attribute i. */
export function toWgsl(e: Expr, inputName: (i: number) => string, attrName: (i: number) => string): string {
  switch (e.kind) {
    case 'input':
      return inputName(e.index);
    case 'attr':
      return attrName(e.index);
    case 'const':
      return wgslFloat(e.value);
    case 'call':
      return (FNS[e.fn] as FnSpec).wgsl(e.args.map((a) => toWgsl(a, inputName, attrName)));
  }
}

/** Compiles to a closure reading input values from `x` and attributes from `attrs`. */
export function toJs(e: Expr, attrs: readonly number[]): (x: Float64Array) => number {
  switch (e.kind) {
    case 'input': {
      const i = e.index;
      return (x) => x[i];
    }
    case 'attr': {
      const v = Math.fround(attrs[e.index]);
      return () => v;
    }
    case 'const': {
      const v = Math.fround(e.value);
      return () => v;
    }
    case 'call': {
      const f = (FNS[e.fn] as FnSpec).js;
      const args = e.args.map((a) => toJs(a, attrs));
      if (args.length === 1) {
        const [a] = args;
        return (x) => f(a(x));
      }
      if (args.length === 2) {
        const [a, b] = args;
        return (x) => f(a(x), b(x));
      }
      const [a, b, c] = args;
      return (x) => f(a(x), b(x), c(x));
    }
  }
}

/** Rewrites every input reference with `replace(index)` (used to turn an input into an attribute). */
export function substitute(e: Expr, replace: (index: number) => Expr): Expr {
  if (e.kind === 'input') return replace(e.index);
  if (e.kind === 'call') return { kind: 'call', fn: e.fn, args: e.args.map((a) => substitute(a, replace)) };
  return e;
}

/** Renumbers inputs and attributes (fusion merges the input and attribute lists of several expressions). */
export function renumber(e: Expr, input: (index: number) => number, attr: (index: number) => number): Expr {
  switch (e.kind) {
    case 'input':
      return { kind: 'input', index: input(e.index) };
    case 'attr':
      return { kind: 'attr', index: attr(e.index) };
    case 'const':
      return e;
    case 'call':
      return { kind: 'call', fn: e.fn, args: e.args.map((a) => renumber(a, input, attr)) };
  }
}

/** Nodes in the expression tree: bounds how large fusion lets a kernel grow. */
export function nodeCount(e: Expr): number {
  return e.kind === 'call' ? 1 + e.args.reduce((n, a) => n + nodeCount(a), 0) : 1;
}

/** Number of inputs an expression reads (highest input index + 1). */
export function inputCount(e: Expr): number {
  if (e.kind === 'input') return e.index + 1;
  if (e.kind === 'call') return Math.max(0, ...e.args.map(inputCount));
  return 0;
}

/** A WGSL f32 literal for any finite or infinite number. */
function wgslFloat(v: number): string {
  if (Number.isNaN(v)) return 'nt_bits(0x7fc00000u)';
  if (v === Infinity) return 'nt_bits(0x7f800000u)';
  if (v === -Infinity) return 'nt_bits(0xff800000u)';
  const s = Math.fround(v).toString();
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
