// Seeded random inputs for tests: fresh every run (the seed is printed), reproducible on demand.
import { mulberry32 } from '../../src/data/random.js';

/** This run's seed: NEURITE_SEED if set, else the clock. */
export const SEED = Number(process.env.NEURITE_SEED ?? Date.now() % 2 ** 31);

/** A small deterministic generator: the library's own seeded generator (mulberry32). */
export const rng = mulberry32;

let counter = 0;
/** A generator seeded from this run's seed and a per-call counter, so each call differs. */
export function freshRng(): () => number {
  return rng(SEED + 7919 * ++counter);
}

/** `n` uniform values in [lo, hi), as float64 (tests keep the exact inputs for references). */
export function uniform(n: number, lo = -1, hi = 1, r = freshRng()): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(lo + (hi - lo) * r());
  return out;
}

/** `n` integers in [0, hi). */
export function integers(n: number, hi: number, r = freshRng()): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(r() * hi));
}
