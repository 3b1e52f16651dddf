// A tiny seedable PRNG, so data shuffling is reproducible across runs and machines
// (Math.random cannot be seeded). Not for cryptography.

/** A source of uniform random numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: a 32-bit-state generator that is fast, has a full 2^32 period and passes
 * the statistical tests that matter for shuffling. The same seed always gives the same
 * sequence. `seed` is taken modulo 2^32.
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n), from `rng`. */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/**
 * Shuffles `array` in place with Fisher–Yates (every permutation equally likely)
 * and returns it.
 */
export function shuffleInPlace<T extends { length: number; [i: number]: any }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A seed from Math.random, for callers that want a different shuffle every run. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}
