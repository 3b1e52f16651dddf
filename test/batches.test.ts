// Tests for minibatch iteration and row gathering, and for the seeded PRNG behind the
// shuffle (reproducible for a seed, different across seeds, every index once per pass).

import { describe, expect, it } from 'vitest';
import { batchCount, batchIndices, gatherRows } from '../src/data/batches.js';
import { mulberry32, randomInt, shuffleInPlace } from '../src/data/random.js';

const flatten = (batches: Iterable<Int32Array>) => [...batches].flatMap((b) => Array.from(b));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('mulberry32', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = range(20).map(() => a());
    expect(range(20).map(() => b())).toEqual(seqA);
    expect(range(20).map(() => c())).not.toEqual(seqA);
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const rng = mulberry32(7);
    const bins = new Array(10).fill(0);
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = rng();
      if (!(x >= 0 && x < 1)) outside++;
      else bins[Math.floor(x * 10)]++;
    }
    expect(outside).toBe(0);
    for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(n / 100);
  });

  it('randomInt stays in [0, n)', () => {
    const rng = mulberry32(1);
    const seen = new Set(range(1000).map(() => randomInt(rng, 6)));
    expect([...seen].sort()).toEqual(range(6));
  });

  it('shuffleInPlace permutes without losing elements, reproducibly', () => {
    const a = shuffleInPlace(range(50), mulberry32(3));
    const b = shuffleInPlace(range(50), mulberry32(3));
    expect(a).toEqual(b);
    expect(a).not.toEqual(range(50));
    expect([...a].sort((x, y) => x - y)).toEqual(range(50));
  });
});

describe('batchIndices', () => {
  it('walks 0..count-1 in order with a short last batch', () => {
    const batches = [...batchIndices(10, 4)];
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(batches.every((b) => b instanceof Int32Array)).toBe(true);
    expect(flatten(batches)).toEqual(range(10));
    expect(batches.length).toBe(batchCount(10, 4));
  });

  it('drops the short last batch with dropLast', () => {
    const batches = [...batchIndices(10, 4, { dropLast: true })];
    expect(batches.map((b) => b.length)).toEqual([4, 4]);
    expect(batches.length).toBe(batchCount(10, 4, true));
    expect([...batchIndices(8, 4, { dropLast: true })].length).toBe(2);
  });

  it('shuffles into a permutation that depends only on the seed', () => {
    const a = flatten(batchIndices(1000, 32, { shuffle: true, seed: 5 }));
    const b = flatten(batchIndices(1000, 32, { shuffle: true, seed: 5 }));
    const c = flatten(batchIndices(1000, 32, { shuffle: true, seed: 6 }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(range(1000));
    expect([...a].sort((x, y) => x - y)).toEqual(range(1000));
  });

  it('shuffles without a seed too, still visiting every index once', () => {
    const order = flatten(batchIndices(100, 7, { shuffle: true }));
    expect([...order].sort((x, y) => x - y)).toEqual(range(100));
  });

  it('yields nothing for zero examples, and one batch when batchSize exceeds count', () => {
    expect([...batchIndices(0, 8)]).toEqual([]);
    expect(flatten(batchIndices(3, 8))).toEqual([0, 1, 2]);
  });

  it('yields independent arrays', () => {
    const [first, second] = batchIndices(4, 2);
    first[0] = 99;
    expect(Array.from(second)).toEqual([2, 3]);
  });

  it('rejects bad arguments at the call, naming the argument', () => {
    expect(() => batchIndices(10, 0)).toThrow('batchIndices: batchSize must be an integer ≥ 1, got 0');
    expect(() => batchIndices(-1, 4)).toThrow('batchIndices: count must be an integer ≥ 0, got -1');
    expect(() => batchIndices(2.5, 4)).toThrow('got 2.5');
    expect(() => batchCount(10, 0)).toThrow('batchCount: batchSize must be an integer ≥ 1, got 0');
  });
});

describe('gatherRows', () => {
  const rowLength = 3;
  const rows = 5;
  const u8 = Uint8Array.from(range(rows * rowLength), (i) => i * 10);
  const f32 = Float32Array.from(range(rows * rowLength), (i) => i / 4);
  const expectedRows = (src: ArrayLike<number>, indices: number[]) =>
    indices.flatMap((r) => Array.from({ length: rowLength }, (_, k) => src[r * rowLength + k]));

  it('copies the chosen uint8 rows in order into a new Uint8Array', () => {
    const indices = [4, 0, 2, 2];
    const out = gatherRows(u8, rowLength, Int32Array.from(indices));
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Array.from(out)).toEqual(expectedRows(u8, indices));
    expect(out.buffer).not.toBe(u8.buffer);
  });

  it('copies float32 rows into a new Float32Array', () => {
    const indices = [1, 3];
    const out = gatherRows(f32, rowLength, indices);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(expectedRows(f32, indices));
  });

  it('composes with batchIndices to give a shuffled batch of rows', () => {
    const [batch] = batchIndices(rows, 2, { shuffle: true, seed: 11 });
    expect(Array.from(gatherRows(u8, rowLength, batch))).toEqual(expectedRows(u8, Array.from(batch)));
  });

  it('returns an empty array for no indices', () => {
    expect(gatherRows(f32, rowLength, []).length).toBe(0);
  });

  it('rejects out-of-range indices and a length that is not a whole number of rows', () => {
    expect(() => gatherRows(u8, rowLength, [0, 5])).toThrow(
      `gatherRows: indices[1] = 5 is out of range: the source has ${rows} rows (0..${rows - 1})`,
    );
    expect(() => gatherRows(u8, rowLength, [-1])).toThrow('indices[0] = -1 is out of range');
    expect(() => gatherRows(u8, 4, [0])).toThrow(`gatherRows: source length ${u8.length} is not a multiple of rowLength 4`);
    expect(() => gatherRows(u8, 0, [0])).toThrow('gatherRows: rowLength must be an integer ≥ 1, got 0');
  });
});
