// Initializers on every backend: Keras fan rules, sample statistics of large tensors against the
// Keras formulas (mean, std and limits within statistical bounds), seeding, and name lookup.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { freshRng } from './helpers/random.js';

const { initializers } = nt;
const seed = (): number => Math.floor(freshRng()() * 2 ** 31);

/** Fans as Keras computes them, written out for the shapes under test. */
const FANS: { shape: number[]; fanIn: number; fanOut: number }[] = [
  { shape: [], fanIn: 1, fanOut: 1 },
  { shape: [7], fanIn: 7, fanOut: 7 },
  { shape: [13, 31], fanIn: 13, fanOut: 31 },
  { shape: [5, 3, 7], fanIn: 5 * 3, fanOut: 5 * 7 }, // conv1d [k, inC, outC]
  { shape: [3, 5, 4, 8], fanIn: 3 * 5 * 4, fanOut: 3 * 5 * 8 }, // conv2d [kh, kw, inC, outC]
  { shape: [2, 3, 3, 1, 6], fanIn: 2 * 3 * 3 * 1, fanOut: 2 * 3 * 3 * 6 }, // conv3d
];

function stats(v: Float32Array): { mean: number; std: number; min: number; max: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    sum += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = sum / v.length;
  let sq = 0;
  for (const x of v) sq += (x - mean) ** 2;
  return { mean, std: Math.sqrt(sq / v.length), min, max };
}

type Dist = { kind: 'uniform'; lo: number; hi: number } | { kind: 'normal'; mean: number; std: number } | { kind: 'truncated'; mean: number; std: number; bound: number };

/** The expected distribution of each variance-scaling initializer for fans (fi, fo), per Keras. */
const TRUNC = 0.87962566103423978; // std of a standard normal truncated to ±2
const uniformLimit = (scale: number, n: number): Dist => ({ kind: 'uniform', lo: -Math.sqrt((3 * scale) / n), hi: Math.sqrt((3 * scale) / n) });
const truncated = (scale: number, n: number): Dist => ({ kind: 'truncated', mean: 0, std: Math.sqrt(scale / n), bound: (2 * Math.sqrt(scale / n)) / TRUNC });
const SCALING: { name: string; init: nt.Initializer; dist: (fi: number, fo: number) => Dist }[] = [
  { name: 'glorotUniform', init: initializers.glorotUniform, dist: (fi, fo) => uniformLimit(1, (fi + fo) / 2) },
  { name: 'glorotNormal', init: initializers.glorotNormal, dist: (fi, fo) => truncated(1, (fi + fo) / 2) },
  { name: 'heUniform', init: initializers.heUniform, dist: (fi) => uniformLimit(2, fi) },
  { name: 'heNormal', init: initializers.heNormal, dist: (fi) => truncated(2, fi) },
  { name: 'lecunUniform', init: initializers.lecunUniform, dist: (fi) => uniformLimit(1, fi) },
  { name: 'lecunNormal', init: initializers.lecunNormal, dist: (fi) => truncated(1, fi) },
];

/** Checks sample statistics of `v` against `dist` within ~5 standard errors. */
function expectDistribution(v: Float32Array, dist: Dist): void {
  const n = v.length;
  const s = stats(v);
  let mean: number;
  let std: number;
  if (dist.kind === 'uniform') {
    mean = (dist.lo + dist.hi) / 2;
    std = (dist.hi - dist.lo) / Math.sqrt(12);
    const width = dist.hi - dist.lo;
    expect(s.min).toBeGreaterThanOrEqual(dist.lo);
    expect(s.max).toBeLessThanOrEqual(dist.hi);
    // With n ≥ 20 000 samples the extremes come within 0.1% of the limits (failure odds < e⁻²⁰).
    expect(s.min).toBeLessThan(dist.lo + 1e-3 * width);
    expect(s.max).toBeGreaterThan(dist.hi - 1e-3 * width);
  } else {
    mean = dist.mean;
    std = dist.std;
    if (dist.kind === 'truncated') {
      expect(s.min).toBeGreaterThanOrEqual(dist.mean - dist.bound * (1 + 1e-6));
      expect(s.max).toBeLessThanOrEqual(dist.mean + dist.bound * (1 + 1e-6));
      expect(s.max).toBeGreaterThan(dist.mean + 0.95 * dist.bound);
    }
  }
  expect(Math.abs(s.mean - mean)).toBeLessThan((5 * std) / Math.sqrt(n));
  expect(Math.abs(s.std - std)).toBeLessThan((5 * std) / Math.sqrt(2 * n));
}

describe('computeFans', () => {
  it.each(FANS)('$shape', ({ shape, fanIn, fanOut }) => {
    expect(initializers.computeFans(shape)).toEqual({ fanIn, fanOut });
  });
});

describe.each(BACKENDS)('initializers on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  describe.each(SCALING)('$name', ({ init, dist }) => {
    // A dense matrix and a conv kernel, each over 20 000 elements, with odd dims.
    it.each([
      [[131, 157]],
      [[3, 5, 37, 41]],
    ])('samples of %j follow the Keras distribution for its fans', async (shape) => {
      const { fanIn, fanOut } = fanOf(shape);
      const t = init(shape, { seed: seed() });
      expect(t.shape).toEqual(shape);
      expect(t.dtype).toBe('float32');
      expectDistribution((await t.data()) as Float32Array, dist(fanIn, fanOut));
      t.dispose();
    });

    it('gives the same values for the same seed and different ones for another', async () => {
      const s = seed();
      const [a, b, c] = [init([7, 13], { seed: s }), init([7, 13], { seed: s }), init([7, 13], { seed: s + 1 })];
      const [va, vb, vc] = await Promise.all([a.data(), b.data(), c.data()]);
      expect(vb).toEqual(va);
      expect(vc).not.toEqual(va);
      const [d, e] = [init([7, 13]), init([7, 13])];
      expect(await e.data()).not.toEqual(await d.data());
      nt.dispose([a, b, c, d, e]);
    });
  });

  it('randomNormal, randomUniform and truncatedNormal follow their options', async () => {
    const shape = [149, 151];
    const cases: [nt.Tensor, Dist][] = [
      [initializers.randomNormal(shape, { mean: 2, stddev: 0.5, seed: seed() }), { kind: 'normal', mean: 2, std: 0.5 }],
      [initializers.randomUniform(shape, { minval: -3, maxval: 1, seed: seed() }), { kind: 'uniform', lo: -3, hi: 1 }],
      // A normal truncated at ±2σ has std 0.8796σ.
      [initializers.truncatedNormal(shape, { mean: 1, stddev: 0.2, seed: seed() }), { kind: 'truncated', mean: 1, std: 0.2 * TRUNC, bound: 0.4 }],
      [initializers.randomNormal(shape, { seed: seed() }), { kind: 'normal', mean: 0, std: 0.05 }],
      [initializers.randomUniform(shape, { seed: seed() }), { kind: 'uniform', lo: -0.05, hi: 0.05 }],
    ];
    for (const [t, dist] of cases) {
      expectDistribution((await t.data()) as Float32Array, dist);
      t.dispose();
    }
  });

  it('zeros, ones and constant fill the shape', async () => {
    const [z, o, c] = [initializers.zeros([3, 7]), initializers.ones([13]), initializers.constant([2, 3], { value: -1.5 })];
    expect(Array.from(await z.data())).toEqual(new Array(21).fill(0));
    expect(Array.from(await o.data())).toEqual(new Array(13).fill(1));
    expect(Array.from(await c.data())).toEqual(new Array(6).fill(-1.5));
    nt.dispose([z, o, c]);
  });

  it('a config object binds its options', async () => {
    const init = initializers.getInitializer({ className: 'RandomUniform', config: { minval: 5, maxval: 6 } });
    const t = init([101, 103], { seed: seed() });
    expectDistribution((await t.data()) as Float32Array, { kind: 'uniform', lo: 5, hi: 6 });
    t.dispose();
  });
});

/** Keras fans of a dense or conv kernel: the last two dims times the receptive field. */
function fanOf(shape: number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

describe('getInitializer', () => {
  it.each([
    ['glorotUniform', 'GlorotUniform', 'glorot_uniform'],
    ['heNormal', 'HeNormal', 'he_normal'],
    ['lecunUniform', 'LecunUniform', 'lecun_uniform'],
    ['truncatedNormal', 'TruncatedNormal', 'truncated_normal'],
    ['randomNormal', 'RandomNormal', 'random_normal'],
    ['zeros', 'Zeros', 'zeros'],
  ])('accepts %s, %s and %s', (camel, pascal, snake) => {
    const f = initializers.getInitializer(camel);
    expect(f).toBe((initializers as unknown as Record<string, nt.Initializer>)[camel]);
    expect(initializers.getInitializer(pascal)).toBe(f);
    expect(initializers.getInitializer(snake)).toBe(f);
  });

  it('returns functions as they are and names the valid initializers otherwise', () => {
    const custom: nt.Initializer = (shape) => nt.zeros(shape);
    expect(initializers.getInitializer(custom)).toBe(custom);
    expect(() => initializers.getInitializer('xavier')).toThrow(/unknown initializer "xavier".*glorotUniform.*heNormal/);
  });
});
