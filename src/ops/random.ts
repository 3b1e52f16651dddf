// Counter-based random numbers made on the device: element i of a random tensor is a hash of
// (seed, i), so there is no generator state to carry and the same seed gives the same values on
// every backend. The hash (xxHash32 of one word) is written below once in WGSL u32 arithmetic
// and once in JS (Math.imul, >>> 0); both are exact integer code, so they agree bit for bit.
import { linearWorkgroups, type KernelCall } from '../backend/kernel.js';
import { kernelParams } from '../backend/skeleton.js';
import { splitItems } from '../backend/split.js';
import { ArgumentError, DTypeError, fmtShape } from '../errors.js';
import { engine } from '../engine.js';
import { assertValidShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpDef } from './op.js';

// xxHash32 primes.
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

/** xxHash32 of the 4-byte word `index` with `seed`: a well-mixed u32. */
function hash(seed: number, index: number): number {
  let h = (seed + P5 + 4 + Math.imul(index, P3)) >>> 0;
  h = Math.imul((h << 17) | (h >>> 15), P4) >>> 0;
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0;
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Uniform in [0, 1) from the top 24 bits: exact in f32, so both backends get the same float. */
const uniformAt = (seed: number, index: number): number => (hash(seed, index) >>> 8) / 16777216;

const WGSL_HASH = /* wgsl */ `
fn nt_hash(seed: u32, index: u32) -> u32 {
  var h = seed + ${P5 + 4}u + index * ${P3}u;
  h = ((h << 17u) | (h >> 15u)) * ${P4}u;
  h = (h ^ (h >> 15u)) * ${P2}u;
  h = (h ^ (h >> 13u)) * ${P3}u;
  return h ^ (h >> 16u);
}
fn nt_uniform(seed: u32, index: u32) -> f32 { return f32(nt_hash(seed, index) >> 8u) / 16777216.0; }`;

/** The random kernel's uniforms: elements [first, n) bound from `base`, the seed, and a and b (see randomCall). */
const RANDOM_PARAMS = kernelParams({ n: 'u32', seed: 'u32', a: 'f32', b: 'f32', first: 'u32', base: 'u32' });

/** What the random kernel writes: uniform values, or its input with elements dropped. */
type RandomMode = 'uniform' | 'dropout';

/**
 * The one random kernel. uniform: out[i] = a + b·u(i) (a = minval, b = maxval − minval);
 * dropout: out[i] = u(i) ≥ a ? x[i]·b : 0 (a = rate, b = 1/(1 − rate)). With `counter`, dropout
 * reads a second input, an int32 scalar added to the seed: a layer's count of training calls,
 * kept on the device so that a replayed step (src/graph/plan.ts) draws a new mask each time.
 */
function randomCall(mode: RandomMode, n: number, seed: number, a: number, b: number, counter = false): KernelCall {
  const fa = Math.fround(a);
  const fb = Math.fround(b);
  const output = { name: 'out', type: 'f32', write: true };
  const inputs = counter ? [{ name: 'x', type: 'f32' }, { name: 'counter', type: 'i32' }] : [{ name: 'x', type: 'f32' }];
  const storages = mode === 'dropout' ? [...inputs, output] : [output];
  const seedOfStep = counter ? 'p.seed + bitcast<u32>(counter[0])' : 'p.seed';
  const value = mode === 'dropout' ? 'select(0.0, x[i - p.base] * p.b, u >= p.a)' : 'p.a + p.b * u';
  const name = mode === 'dropout' ? 'dropout' : 'randomUniform';
  // One dispatch covers elements [first, n) with x and out bound from element `base` (see split).
  const uniformsOf = (first: number, end: number, base: number) => RANDOM_PARAMS.uniforms({ n: end, seed, a: fa, b: fb, first, base });
  const call: KernelCall = {
    name,
    key: `random:${mode}${counter ? ':counter' : ''}`,
    uniforms: uniformsOf(0, n, 0),
    workgroups: linearWorkgroups(n),
    wgsl: () =>
      RANDOM_PARAMS.wgsl({
        storages,
        prelude: WGSL_HASH,
        index: { from: 'first', below: 'n' },
        // The hash is of the global index, so a split run draws the same stream as a whole one.
        body: `  let u = nt_uniform(${seedOfStep}, i);\n  out[i - p.base] = ${value};`,
      }),
    cpu(ins, [o]) {
      if (mode === 'dropout') {
        const x = ins[0];
        const s = counter ? (seed + ins[1][0]) >>> 0 : seed;
        for (let i = 0; i < n; i++) o[i] = uniformAt(s, i) >= fa ? x[i] * fb : 0;
      } else {
        for (let i = 0; i < n; i++) o[i] = fa + Math.fround(fb * uniformAt(seed, i));
      }
    },
  };
  // Beyond one binding: ranges of elements, x and out bound from the same window.
  const touch = (span: readonly [number, number]) => span;
  const whole = () => null;
  const touches = mode === 'uniform' ? [touch] : counter ? [touch, whole, touch] : [touch, touch];
  const split: KernelCall['split'] = (limits) =>
    splitItems(name, n, limits, touches).map(({ span: [first, end], windows }) => ({
      ...call,
      uniforms: uniformsOf(first, end, windows[0]!.offset),
      workgroups: linearWorkgroups(end - first),
      windows,
    }));
  return { ...call, split };
}

interface UniformAttrs {
  readonly shape: readonly number[];
  readonly seed: number;
  readonly minval: number;
  readonly maxval: number;
}

/** Uniform random values of `shape` from (seed, element index). */
export const randomUniformOp: OpDef<UniformAttrs> = {
  name: 'randomUniform',
  outputs: (_inputs, { shape }) => [{ shape: shape.slice(), dtype: 'float32' }],
  kernel: (_inputs, [out], { seed, minval, maxval }) => randomCall('uniform', sizeOf(out.shape), seed, minval, maxval - minval),
  grad: null,
};

interface DropoutAttrs {
  readonly rate: number;
  readonly seed: number;
}

/**
 * Zeroes each element with probability `rate` (the mask is a function of seed and index) and
 * scales the rest by 1/(1 − rate). Inputs: x, and optionally an int32 scalar added to the seed.
 */
export const dropoutOp: OpDef<DropoutAttrs> = {
  name: 'dropout',
  outputs([x, counter]) {
    if (x.dtype !== 'float32') throw new DTypeError(`dropout: expected a float32 tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
    if (counter && (counter.dtype !== 'int32' || counter.size !== 1)) {
      throw new DTypeError(`dropout: the seed counter should be an int32 scalar, got ${counter.dtype} ${fmtShape(counter.shape)}`);
    }
    return [{ shape: x.shape.slice(), dtype: 'float32' }];
  },
  kernel: (inputs, [out], { rate, seed }) => randomCall('dropout', sizeOf(out.shape), seed, rate, 1 / (1 - rate), inputs.length > 1),
  // d dropout = dy·mask/(1 − rate): the same op on dy, since the mask depends only on (seed, counter, index)
  grad: ([dy], [, counter], _y, attrs) => [engine.runOp(dropoutOp, counter ? [dy, counter] : [dy], attrs)[0], null],
};

/** A u32 seed: the given integer modulo 2³², or a fresh one from Math.random. */
export function seedOf(op: string, seed: number | undefined): number {
  if (seed === undefined) return Math.floor(Math.random() * 4294967296) >>> 0;
  if (!Number.isInteger(seed)) throw new ArgumentError(`${op}: seed must be an integer, got ${seed}`);
  return seed >>> 0;
}

/** Options of `randomUniform`. */
export interface RandomUniformOptions {
  /** Lower bound, included (default 0). */
  minval?: number;
  /** Upper bound, excluded (default 1). */
  maxval?: number;
  /** Integer seed; the same seed gives the same values on every backend. Random when omitted. */
  seed?: number;
}

/** float32 values drawn uniformly from [minval, maxval), generated on the device. */
export function randomUniform(shape: readonly number[], { minval = 0, maxval = 1, seed }: RandomUniformOptions = {}): Tensor {
  assertValidShape('randomUniform', shape);
  if (!(Number.isFinite(minval) && Number.isFinite(maxval) && minval <= maxval)) {
    throw new ArgumentError(`randomUniform: expected finite minval ≤ maxval, got minval ${minval} and maxval ${maxval}`);
  }
  return engine.runOp(randomUniformOp, [], { shape, minval, maxval, seed: seedOf('randomUniform', seed) })[0];
}

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing each element, in [0, 1). */
  rate: number;
  /** Integer seed of the mask; the same seed gives the same mask on every backend. Random when omitted. */
  seed?: number;
}

/**
 * Inverted dropout: zeroes each element with probability `rate` and scales the others by
 * 1/(1 − rate), so the expected value is unchanged. Returns `x` itself when rate is 0.
 */
export function dropout(x: Tensor, { rate, seed }: DropoutOptions): Tensor {
  x.use('dropout');
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new ArgumentError(`dropout: rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  return engine.runOp(dropoutOp, [x], { rate, seed: seedOf('dropout', seed) })[0];
}
