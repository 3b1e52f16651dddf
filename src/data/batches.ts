// Minibatch iteration over data held in flat typed arrays (one row per example), so a
// training loop can draw shuffled batches without building per-example objects.

import { mulberry32, randomSeed, shuffleInPlace } from './random.js';

/** Options for {@link batchIndices}. */
interface BatchOptions {
  /** Visit the examples in a random order (default false: 0, 1, 2, …). */
  shuffle?: boolean;
  /**
   * Seed for the shuffle, so an epoch's order is reproducible. Pass a different seed per
   * epoch (e.g. `base + epoch`) to get a new order each epoch. Default: a random seed.
   */
  seed?: number;
  /** Skip the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/**
 * Yields the example indices of each minibatch of one pass over `count` examples:
 * `ceil(count / batchSize)` Int32Arrays of length `batchSize` (the last may be shorter,
 * unless `dropLast`). Every index in 0..count-1 appears exactly once per pass.
 */
export function batchIndices(
  count: number,
  batchSize: number,
  options: BatchOptions = {},
): Generator<Int32Array, void, undefined> {
  // Validated here rather than inside the generator, so a bad argument throws at the
  // call site instead of at the first iteration.
  checkCount('batchIndices', 'count', count, 0);
  checkCount('batchIndices', 'batchSize', batchSize, 1);
  return batches(epochOrder(count, options), batchSize, options.dropLast ?? false);
}

function* batches(order: Int32Array, batchSize: number, dropLast: boolean): Generator<Int32Array, void, undefined> {
  const count = order.length;
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    if (dropLast && end - start < batchSize) return;
    // A copy, not a subarray, so a consumer may keep or transfer a batch freely.
    yield order.slice(start, end);
  }
}

/** The number of batches {@link batchIndices} yields for these arguments. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  checkCount('batchCount', 'count', count, 0);
  checkCount('batchCount', 'batchSize', batchSize, 1);
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * Copies the rows `indices` of `src` (a row is `rowLength` consecutive elements) into a
 * new contiguous array of the same type, in the order given: the batch `[i] → row indices[i]`.
 */
export function gatherRows(src: Uint8Array, rowLength: number, indices: ArrayLike<number>): Uint8Array;
export function gatherRows(src: Float32Array, rowLength: number, indices: ArrayLike<number>): Float32Array;
export function gatherRows(
  src: Uint8Array | Float32Array,
  rowLength: number,
  indices: ArrayLike<number>,
): Uint8Array | Float32Array;
export function gatherRows(
  src: Uint8Array | Float32Array,
  rowLength: number,
  indices: ArrayLike<number>,
): Uint8Array | Float32Array {
  checkCount('gatherRows', 'rowLength', rowLength, 1);
  if (src.length % rowLength !== 0) {
    throw new RangeError(
      `gatherRows: source length ${src.length} is not a multiple of rowLength ${rowLength}`,
    );
  }
  const rows = src.length / rowLength;
  const size = indices.length * rowLength;
  const out = src instanceof Uint8Array ? new Uint8Array(size) : new Float32Array(size);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i];
    if (!Number.isInteger(row) || row < 0 || row >= rows) {
      throw new RangeError(
        `gatherRows: indices[${i}] = ${row} is out of range: the source has ${rows} rows (0..${rows - 1})`,
      );
    }
    // subarray + set is a memcpy per row, far faster than an element loop.
    out.set(src.subarray(row * rowLength, (row + 1) * rowLength), i * rowLength);
  }
  return out;
}

function epochOrder(count: number, options: BatchOptions): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  if (options.shuffle) shuffleInPlace(order, mulberry32(options.seed ?? randomSeed()));
  return order;
}

function checkCount(fn: string, what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${fn}: ${what} must be an integer ≥ ${min}, got ${value}`);
  }
}
