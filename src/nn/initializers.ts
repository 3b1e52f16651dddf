// Weight initializers with Keras names, defaults and fan rules. Random ones are generated on
// the host with a seeded PRNG (mulberry32; Box–Muller for normals), so the same seed gives the
// same weights on every backend and machine, then uploaded once.
import { randomSeed, mulberry32, type Rng } from '../data/random.js';
import { ArgumentError } from '../errors.js';
import { fill, tensor } from '../ops/create.js';
import { assertValidShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Options every initializer takes. */
export interface InitializerOptions {
  /** PRNG seed: the same seed gives the same values. Random when omitted. */
  seed?: number;
}

/** Makes a float32 tensor of `shape`. */
export type Initializer = (shape: readonly number[], options?: InitializerOptions) => Tensor;

/**
 * Keras's fan computation: dense [in, out] → (in, out); conv [...kernel, inC, outC] →
 * (inC·receptive, outC·receptive) with receptive = product of the kernel dims;
 * a vector [n] → (n, n); a scalar → (1, 1).
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = sizeOf(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** Fills a float32 tensor of `shape` with `sample(rng)` values. */
function sampled(op: string, shape: readonly number[], seed: number | undefined, sample: (rng: Rng) => number): Tensor {
  assertValidShape(op, shape);
  const rng = mulberry32(seed ?? randomSeed());
  const values = new Float32Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = sample(rng);
  return tensor(values, shape);
}

/** A standard normal sample by Box–Muller (1 − u keeps the log's argument in (0, 1]). */
function standardNormal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** A standard normal sample redrawn until it lies within two standard deviations. */
function truncatedStandardNormal(rng: Rng): number {
  for (;;) {
    const z = standardNormal(rng);
    if (Math.abs(z) <= 2) return z;
  }
}

/** Zeros. */
export const zeros: Initializer = (shape) => fill(shape, 0);

/** Ones. */
export const ones: Initializer = (shape) => fill(shape, 1);

/** Every element `value` (default 0). */
export function constant(shape: readonly number[], { value = 0 }: InitializerOptions & { value?: number } = {}): Tensor {
  return fill(shape, value);
}

/** Normal samples (Keras defaults: mean 0, stddev 0.05). */
export function randomNormal(shape: readonly number[], { mean = 0, stddev = 0.05, seed }: InitializerOptions & { mean?: number; stddev?: number } = {}): Tensor {
  return sampled('randomNormal', shape, seed, (rng) => mean + stddev * standardNormal(rng));
}

/** Uniform samples in [minval, maxval) (Keras defaults: −0.05, 0.05). */
export function randomUniform(shape: readonly number[], { minval = -0.05, maxval = 0.05, seed }: InitializerOptions & { minval?: number; maxval?: number } = {}): Tensor {
  if (!(minval <= maxval)) throw new ArgumentError(`randomUniform: minval ${minval} exceeds maxval ${maxval}`);
  return sampled('randomUniform', shape, seed, (rng) => minval + (maxval - minval) * rng());
}

/** Normal samples, redrawn beyond two standard deviations from the mean (Keras defaults: mean 0, stddev 0.05). */
export function truncatedNormal(shape: readonly number[], { mean = 0, stddev = 0.05, seed }: InitializerOptions & { mean?: number; stddev?: number } = {}): Tensor {
  return sampled('truncatedNormal', shape, seed, (rng) => mean + stddev * truncatedStandardNormal(rng));
}

/** Std of a standard normal truncated to [−2, 2]; Keras divides by it so the samples' std is the target. */
const TRUNCATED_STD = 0.87962566103423978;

/** Keras VarianceScaling: variance `scale / n`, with n the fan in, or the mean of fan in and out. */
function varianceScaling(name: string, scale: number, mode: 'fanIn' | 'fanAvg', distribution: 'uniform' | 'truncatedNormal'): Initializer {
  return (shape, { seed } = {}) => {
    const { fanIn, fanOut } = computeFans(shape);
    const n = Math.max(1, mode === 'fanIn' ? fanIn : (fanIn + fanOut) / 2);
    if (distribution === 'uniform') {
      const limit = Math.sqrt((3 * scale) / n);
      return sampled(name, shape, seed, (rng) => limit * (2 * rng() - 1));
    }
    const stddev = Math.sqrt(scale / n) / TRUNCATED_STD;
    return sampled(name, shape, seed, (rng) => stddev * truncatedStandardNormal(rng));
  };
}

/** Uniform in ±√(6 / (fanIn + fanOut)) (Xavier/Glorot; the Keras default for kernels). */
export const glorotUniform = varianceScaling('glorotUniform', 1, 'fanAvg', 'uniform');
/** Truncated normal with std √(2 / (fanIn + fanOut)). */
export const glorotNormal = varianceScaling('glorotNormal', 1, 'fanAvg', 'truncatedNormal');
/** Uniform in ±√(6 / fanIn) (for ReLU networks). */
export const heUniform = varianceScaling('heUniform', 2, 'fanIn', 'uniform');
/** Truncated normal with std √(2 / fanIn) (for ReLU networks). */
export const heNormal = varianceScaling('heNormal', 2, 'fanIn', 'truncatedNormal');
/** Uniform in ±√(3 / fanIn) (for SELU networks). */
export const lecunUniform = varianceScaling('lecunUniform', 1, 'fanIn', 'uniform');
/** Truncated normal with std √(1 / fanIn). */
export const lecunNormal = varianceScaling('lecunNormal', 1, 'fanIn', 'truncatedNormal');

/** The initializers by their camelCase names. */
const NAMED: Record<string, Initializer> = {
  zeros,
  ones,
  constant,
  randomNormal,
  randomUniform,
  truncatedNormal,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  lecunUniform,
  lecunNormal,
};

/** Lower case without underscores, so 'GlorotUniform', 'glorotUniform' and 'glorot_uniform' meet. */
const normalize = (name: string): string => name.toLowerCase().replace(/_/g, '');
const BY_NAME = new Map(Object.entries(NAMED).map(([name, init]) => [normalize(name), init]));

/** Keras-style serialized initializer, e.g. `{ className: 'RandomNormal', config: { stddev: 0.1 } }`. */
export interface InitializerConfig {
  className: string;
  config?: Record<string, number>;
}

/**
 * An initializer from a name in any Keras spelling ('GlorotUniform', 'glorotUniform',
 * 'glorot_uniform'), a serialized config (its options bound), or a function (returned as is).
 */
export function getInitializer(identifier: string | InitializerConfig | Initializer): Initializer {
  if (typeof identifier === 'function') return identifier;
  const name = typeof identifier === 'string' ? identifier : identifier?.className;
  const init = typeof name === 'string' ? BY_NAME.get(normalize(name)) : undefined;
  if (!init) {
    throw new ArgumentError(
      `getInitializer: unknown initializer ${JSON.stringify(name ?? identifier)}; expected one of ${Object.keys(NAMED).join(', ')} ` +
        `(camelCase, PascalCase or snake_case), a { className, config } object or a function`,
    );
  }
  if (typeof identifier === 'string' || !identifier.config) return init;
  const bound = identifier.config;
  return (shape, options = {}) => init(shape, { ...bound, ...options });
}
