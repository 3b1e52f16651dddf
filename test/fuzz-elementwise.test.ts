// Shape fuzzing of elementwise ops: every binary op over random broadcast pairs (valid or not),
// every unary op on random shapes, and random fusion chains mixing both, with fusion on and off,
// forward and backward against float64 references, on every backend.
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import * as nt from '../src/index.js';
import { covering } from './helpers/coverage.js';
import { checkCase, fuzz, input, seedArb, type CaseInput, type FuzzCase, type Rng } from './helpers/fuzz.js';
import { FUZZ_TARGETS, runsOn, shapesFor, tolerance, useFuzzTarget } from './helpers/fuzz-targets.js';
import { broadcastBinary, broadcastShape } from './helpers/reference.js';
import { rng } from './helpers/random.js';

type Bin = (a: number, b: number) => number;
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Binary ops: library call, float64 reference, operand ranges, and whether they have a gradient. */
const BINARY: Record<string, { f: (a: nt.Tensor, b: nt.Tensor) => nt.Tensor; ref: Bin; a?: [number, number]; b?: [number, number]; grad: boolean; steps?: boolean }> = {
  add: { f: nt.add, ref: (a, b) => a + b, grad: true },
  sub: { f: nt.sub, ref: (a, b) => a - b, grad: true },
  mul: { f: nt.mul, ref: (a, b) => a * b, grad: true },
  div: { f: nt.div, ref: (a, b) => a / b, b: [0.5, 2], grad: true },
  pow: { f: nt.pow, ref: (a, b) => a ** b, a: [0.5, 2], grad: true },
  maximum: { f: nt.maximum, ref: Math.max, grad: true },
  minimum: { f: nt.minimum, ref: Math.min, grad: true },
  // Comparisons on values on a grid of 0.5, so equal pairs occur.
  greater: { f: nt.greater, ref: (a, b) => +(a > b), grad: false, steps: true },
  greaterEqual: { f: nt.greaterEqual, ref: (a, b) => +(a >= b), grad: false, steps: true },
  less: { f: nt.less, ref: (a, b) => +(a < b), grad: false, steps: true },
  lessEqual: { f: nt.lessEqual, ref: (a, b) => +(a <= b), grad: false, steps: true },
  equal: { f: nt.equal, ref: (a, b) => +(a === b), grad: false, steps: true },
  notEqual: { f: nt.notEqual, ref: (a, b) => +(a !== b), grad: false, steps: true },
};

/** Unary ops: library call, float64 reference, input range, and whether they have a gradient. */
const UNARY: Record<string, { f: (x: nt.Tensor) => nt.Tensor; ref: (v: number) => number; range?: [number, number]; grad: boolean }> = {
  neg: { f: nt.neg, ref: (v) => -v, grad: true },
  exp: { f: nt.exp, ref: Math.exp, grad: true },
  log: { f: nt.log, ref: Math.log, range: [0.25, 4], grad: true },
  sqrt: { f: nt.sqrt, ref: Math.sqrt, range: [0.25, 4], grad: true },
  square: { f: nt.square, ref: (v) => v * v, grad: true },
  abs: { f: nt.abs, ref: Math.abs, grad: true },
  relu: { f: nt.relu, ref: (v) => Math.max(v, 0), grad: true },
  leakyRelu: { f: (x) => nt.leakyRelu(x, { alpha: 0.3 }), ref: (v) => (v > 0 ? v : 0.3 * v), grad: true },
  elu: { f: (x) => nt.elu(x, { alpha: 0.7 }), ref: (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1)), grad: true },
  sigmoid: { f: nt.sigmoid, ref: sigmoid, grad: true },
  tanh: { f: nt.tanh, ref: Math.tanh, grad: true },
  clipByValue: { f: (x) => nt.clipByValue(x, -0.75, 0.5), ref: (v) => Math.min(Math.max(v, -0.75), 0.5), grad: true },
  sign: { f: nt.sign, ref: Math.sign, grad: false },
  floor: { f: nt.floor, ref: Math.floor, grad: false },
};

/** Ops a fusion chain may use: bounded, so a chain of four cannot overflow. */
const CHAIN_UNARY = ['neg', 'tanh', 'sigmoid', 'relu', 'abs', 'square', 'elu', 'leakyRelu', 'clipByValue'];
const CHAIN_BINARY = ['add', 'sub', 'mul', 'maximum', 'minimum'];

/**
 * A shape that broadcasts to `full`: leading dims dropped, some dims set to 1, and (when `break`
 * is set) one dim changed to a size that does not broadcast.
 */
const operandShape = (full: number[], drop: number, ones: boolean[], breakAt: number | null): number[] => {
  const s = full.slice(Math.min(drop, full.length)).map((d, i) => (ones[i] ? 1 : d));
  if (breakAt !== null && s.length > 0) s[breakAt % s.length] += 1;
  return s;
};

const onesArb = fc.array(fc.boolean(), { minLength: 4, maxLength: 4 });
const operandArb = fc.record({ drop: fc.nat(2), ones: onesArb });
/** A float input; on a grid of 0.5 for comparisons. */
const valuesFor = (r: Rng, shape: number[], range: [number, number] = [-2, 2], steps = false): CaseInput => {
  const x = input(r, shape, ...range);
  if (steps) x.values = x.values.map((v) => Math.round(v * 2) / 2);
  return x;
};

function binaryCase(name: string, full: number[], a: { drop: number; ones: boolean[] }, b: { drop: number; ones: boolean[] }, breakAt: number | null, seed: number): FuzzCase {
  const spec = BINARY[name];
  const r = rng(seed);
  const aShape = operandShape(full, a.drop, a.ones, null);
  const bShape = operandShape(full, b.drop, b.ones, breakAt);
  const outShape = broadcastShape(aShape, bShape);
  return {
    op: name,
    seed,
    inputs: [valuesFor(r, aShape, spec.a, spec.steps), valuesFor(r, bShape, spec.b, spec.steps)],
    build: ([x, y]) => spec.f(x, y),
    invalid: outShape ? null : [aShape, bShape],
    outShape: outShape ?? undefined,
    reference: ([x, y]) => broadcastBinary(x, aShape, y, bShape, spec.ref),
    differentiable: spec.grad ? [0, 1] : [],
  };
}

/** One step of a chain: a unary op, or a binary op with a new operand (on either side). */
interface Step {
  unary: string | null;
  binary: string;
  operand: { drop: number; ones: boolean[] };
  swap: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  unary: fc.option(fc.constantFrom(...CHAIN_UNARY), { freq: 2 }),
  binary: fc.constantFrom(...CHAIN_BINARY),
  operand: operandArb,
  swap: fc.boolean(),
});

function chainCase(full: number[], first: { drop: number; ones: boolean[] }, steps: Step[], seed: number): FuzzCase {
  const r = rng(seed);
  const shapes = [operandShape(full, first.drop, first.ones, null)];
  for (const s of steps) if (s.unary === null) shapes.push(operandShape(full, s.operand.drop, s.operand.ones, null));
  const inputs = shapes.map((shape) => valuesFor(r, shape));
  const outShape = shapes.reduce((acc, s) => broadcastShape(acc, s)!);
  /** Walks the chain with `un`/`bin` over any value type: tensors for the library, arrays for the reference. */
  const walk = <T>(xs: T[], un: (name: string, v: T) => T, bin: (name: string, p: T, q: T) => T): T => {
    let v = xs[0];
    let next = 1;
    for (const s of steps) {
      if (s.unary !== null) v = un(s.unary, v);
      else {
        const o = xs[next++];
        v = s.swap ? bin(s.binary, o, v) : bin(s.binary, v, o);
      }
    }
    return v;
  };
  type Ref = { values: Float64Array; shape: number[] };
  return {
    op: 'chain',
    seed,
    inputs,
    build: (ts) => walk(ts, (n, v) => UNARY[n].f(v), (n, p, q) => BINARY[n].f(p, q)),
    invalid: null,
    outShape,
    reference: (xs) =>
      walk<Ref>(
        xs.map((values, i) => ({ values, shape: shapes[i] })),
        (n, v) => ({ values: v.values.map(UNARY[n].ref), shape: v.shape }),
        (n, p, q) => ({ values: broadcastBinary(p.values, p.shape, q.values, q.shape, BINARY[n].ref), shape: broadcastShape(p.shape, q.shape)! }),
      ).values,
    differentiable: inputs.map((_, i) => i),
  };
}

/**
 * int32 arithmetic, as documented: computed in float32, then stored truncated toward zero, with
 * NaN (0/0) stored as 0 and values beyond the int32 range (x/0) clamped to −2³¹ or 2³¹ − 128.
 */
function toInt32(v: number): number {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 0;
  return Math.trunc(Math.min(Math.max(f, -(2 ** 31)), 2 ** 31 - 128));
}

/** Integer operands, zeros included (never −0: int32 has none); int32 or float32 per operand. */
function dtypeCase(name: string, full: number[], dtypes: ['int32' | 'float32', 'int32' | 'float32'], seed: number): FuzzCase {
  const spec = BINARY[name];
  const r = rng(seed);
  const ints = (shape: number[], dtype: 'int32' | 'float32', lo: number, hi: number): CaseInput => ({ values: input(r, shape, lo - 0.5, hi + 0.5).values.map((v) => Math.round(v) + 0), shape, dtype });
  const bShape = full.slice(1);
  // Powers stay below 2^24, where f32 holds every integer (beyond it the GPU's pow is not exact).
  const [lo, hi] = name === 'pow' ? [-2, 4] : [-12, 12];
  const int = dtypes[0] === 'int32' && dtypes[1] === 'int32';
  return {
    op: name,
    seed,
    inputs: [ints(full, dtypes[0], -12, 12), ints(bShape, dtypes[1], lo, hi)],
    build: ([x, y]) => spec.f(x, y),
    invalid: dtypes[0] === dtypes[1] ? null : [full, bShape],
    dtypeError: true,
    outShape: full,
    reference: ([x, y]) => broadcastBinary(x, full, y, bShape, (a, b) => (int && !spec.steps ? toInt32(spec.ref(a, b)) : spec.ref(a, b))),
    exact: int,
  };
}

describe.each(FUZZ_TARGETS)('elementwise shape fuzzing on $name', (target) => {
  useFuzzTarget(target);
  const tol = tolerance(target);
  afterAll(() => nt.setElementwiseFusion(true));

  it('binary ops over random broadcast pairs: the reference, or a ShapeError naming both shapes', async () => {
    const arb = fc.record({
      name: fc.constantFrom(...Object.keys(BINARY)),
      full: shapesFor(target, 0, 4, 4),
      a: operandArb,
      b: operandArb,
      breakAt: fc.option(fc.nat(3), { freq: 4 }),
      seed: seedArb,
    });
    const examples = Object.keys(BINARY).map((name) => ({ name, full: [3, 2], a: { drop: 0, ones: [false, false, false, false] }, b: { drop: 1, ones: [false, false, false, false] }, breakAt: null, seed: 1 }));
    await covering(
      {
        forward: ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'greater', 'greaterEqual', 'less', 'lessEqual', 'equal', 'notEqual'],
        gradient: ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'],
      },
      () => fuzz(`binary/${target.name}`, arb, ({ name, full, a, b, breakAt, seed }) => checkCase(binaryCase(name, full, a, b, breakAt, seed), tol), runsOn(target, 60, 20), examples),
    );
  });

  it('binary ops on int32 pairs (x/0 and 0/0 included) and on mixed dtypes (a DTypeError naming both shapes)', async () => {
    const dtype = fc.constantFrom('int32' as const, 'float32' as const);
    // Pairs of float32 are the other properties' business (and 0/0 is NaN there).
    const dtypes = fc.tuple(dtype, dtype).map(([a, b]): ['int32' | 'float32', 'int32' | 'float32'] => (a === 'float32' && b === 'float32' ? ['int32', 'int32'] : [a, b]));
    const arb = fc.record({ name: fc.constantFrom(...Object.keys(BINARY)), full: shapesFor(target, 1, 3, 5), dtypes, seed: seedArb });
    await fuzz(`dtypes/${target.name}`, arb, ({ name, full, dtypes, seed }) => checkCase(dtypeCase(name, full, dtypes, seed), tol), runsOn(target, 40));
  });

  it('unary ops on random shapes', async () => {
    const arb = fc.record({ name: fc.constantFrom(...Object.keys(UNARY)), shape: shapesFor(target, 0, 4, 5), seed: seedArb });
    const examples = Object.keys(UNARY).map((name) => ({ name, shape: [2, 3], seed: 1 }));
    await covering(
      {
        forward: ['neg', 'exp', 'log', 'sqrt', 'square', 'abs', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'clipByValue', 'sign', 'floor'],
        gradient: ['neg', 'exp', 'log', 'sqrt', 'square', 'abs', 'relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'clipByValue'],
      },
      () => fuzz(
      `unary/${target.name}`,
      arb,
      ({ name, shape, seed }) => {
        const spec = UNARY[name];
        const c: FuzzCase = {
          op: name,
          seed,
          inputs: [valuesFor(rng(seed), shape, spec.range)],
          build: ([x]) => spec.f(x),
          invalid: null,
          outShape: shape,
          reference: ([x]) => x.map(spec.ref),
          differentiable: spec.grad ? [0] : [],
        };
        return checkCase(c, tol);
      },
      runsOn(target, 40, 16),
      examples,
    ));
  });

  it('fusion chains with broadcasting operands, fused and unfused, forward and backward', async () => {
    const arb = fc.record({ full: shapesFor(target, 1, 4, 4), first: operandArb, steps: fc.array(stepArb, { minLength: 1, maxLength: 5 }), fusion: fc.boolean(), seed: seedArb });
    await fuzz(
      `chain/${target.name}`,
      arb,
      async ({ full, first, steps, fusion, seed }) => {
        nt.setElementwiseFusion(fusion);
        await checkCase(chainCase(full, first, steps, seed), tol);
      },
      runsOn(target, 40),
    );
  });
});
