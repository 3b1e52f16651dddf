// Where fit/evaluate/predict draw their batches from. Host arrays (e.g. MNIST's uint8 pixels)
// stay on the host and are gathered and uploaded one batch at a time, as float32 scaled by
// `normalize`, so the whole data set is never uploaded (or converted to float32) at once.
// Tensors already on the device are batched with a device-side gather.
import { gatherRows } from '../data/batches.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.js';
import { cast, tensor } from '../ops/create.js';
import { gather, slice } from '../ops/transform.js';
import { keep } from '../scope.js';
import { sizeOf } from '../shape.js';
import { Tensor } from '../tensor.js';

/**
 * One batch on the device; the consumer disposes its tensors. A source for a model with several
 * inputs (outputs) gives a list of tensors, one per input (output), in the model's order.
 */
export interface Batch {
  xs: Tensor | Tensor[];
  ys: Tensor | Tensor[] | null;
}

/** A batch's inputs as a list. */
export function batchInputs(batch: Batch): Tensor[] {
  return Array.isArray(batch.xs) ? batch.xs : [batch.xs];
}

/** A batch's targets as a list (empty when it has none). */
export function batchTargets(batch: Batch): Tensor[] {
  return batch.ys === null ? [] : Array.isArray(batch.ys) ? batch.ys : [batch.ys];
}

/** Frees every tensor of a batch. */
export function disposeBatch(batch: Batch): void {
  [...batchInputs(batch), ...batchTargets(batch)].forEach((t) => t.dispose());
}

/**
 * A source of examples. `take` does the host-side work for a batch now (gathering rows) and
 * returns a function that uploads it later, so the next batch can be prepared while the
 * device trains on the current one.
 */
export interface DataSource {
  /** Number of examples. */
  readonly size: number;
  /** Shape of one example's x (no batch dim). */
  readonly exampleShape: readonly number[];
  /** Whether the source holds labels (fit and evaluate need them). */
  readonly hasLabels: boolean;
  /** Prepares the examples `indices` (each in [0, size)); the returned function uploads them. */
  take(indices: Int32Array): () => Batch;
  /** Prepares the contiguous examples [start, end). */
  range(start: number, end: number): () => Batch;
  /** Releases what the source holds on the device (nothing for host arrays). */
  dispose(): void;
}

/** Options of `data.arrays`. */
export interface ArraysOptions {
  /** Multiply x by this when uploading (1/255 turns MNIST's bytes into [0, 1]). Default 1. */
  normalize?: number;
  /**
   * Shape of y with the example dim first. Default: [N] when y has one value per example
   * (class indices for sparse cross-entropy, or scalar targets), [N, k] when it has k.
   */
  yShape?: readonly number[];
  /**
   * 'inputs': each example's target is its own x (scaled by `normalize`), as an autoencoder
   * learns; `y` must then be omitted. Each batch's ys is a copy of its xs.
   */
  targets?: 'inputs';
}

type HostX = Uint8Array | Float32Array;
type HostY = Int32Array | Uint8Array | Float32Array;

/**
 * A data source over host arrays: `x` holds `xShape[0]` examples of `xShape.slice(1)` row
 * after row; `y` (optional) holds their labels. Integer labels (Uint8Array, Int32Array)
 * become int32 class indices, float labels float32 targets.
 *
 * @example
 * const train = data.arrays(mnist.train.images, [mnist.train.count, 28, 28, 1], mnist.train.labels, { normalize: 1 / 255 });
 * await model.fit(train, { epochs: 1, batchSize: 64 });
 *
 * @example
 * // An autoencoder's data: the images are the targets.
 * const images = data.arrays(mnist.train.images, [mnist.train.count, 28, 28, 1], undefined, { normalize: 1 / 255, targets: 'inputs' });
 */
export function arrays(x: HostX, xShape: readonly number[], y?: HostY, options: ArraysOptions = {}): DataSource {
  if (!(x instanceof Uint8Array || x instanceof Float32Array)) {
    throw new DTypeError(`data.arrays: x should be a Uint8Array or Float32Array, got ${x === null ? 'null' : (x as object).constructor?.name}`);
  }
  if (xShape.length < 1 || sizeOf(xShape) !== x.length || xShape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`data.arrays: x has ${x.length} values, which does not fill xShape ${fmtShape(xShape)}`);
  }
  const n = xShape[0];
  let yShape: number[] = [];
  if (y !== undefined) {
    if (!(y instanceof Int32Array || y instanceof Uint8Array || y instanceof Float32Array)) {
      throw new DTypeError('data.arrays: y should be an Int32Array, Uint8Array or Float32Array');
    }
    yShape = options.yShape ? [...options.yShape] : y.length === n ? [n] : [n, n === 0 ? 0 : y.length / n];
    if (yShape[0] !== n || sizeOf(yShape) !== y.length || !Number.isInteger(yShape[yShape.length - 1])) {
      throw new ShapeError(`data.arrays: y has ${y.length} values for ${n} examples (expected ${n} labels, or ${n}×k targets; or pass yShape)`);
    }
  }
  const selfTargets = options.targets === 'inputs';
  if (options.targets !== undefined && !selfTargets) {
    throw new ArgumentError(`data.arrays: targets should be 'inputs' or left out, got ${JSON.stringify(options.targets)}`);
  }
  if (selfTargets && y !== undefined) throw new ArgumentError("data.arrays: targets: 'inputs' takes the targets from x; leave y out");
  const scale = options.normalize ?? 1;
  if (!Number.isFinite(scale)) throw new ArgumentError(`data.arrays: normalize should be a finite number, got ${scale}`);
  return new ArraySource(x, xShape.slice(1), y ?? null, yShape.slice(1), scale, 0, n, selfTargets);
}

/** A data source over tensors already on the device (x, and y with the same first dim). */
export function tensors(x: Tensor, y?: Tensor | null): DataSource {
  return new TensorSource([x], y ? [y] : [], false);
}

/**
 * A data source over lists of tensors, for models with several inputs or outputs: each batch
 * holds one tensor per entry of `xs` (and of `ys`), all with the same number of examples.
 */
export function tensorLists(xs: readonly Tensor[], ys: readonly Tensor[] = []): DataSource {
  if (xs.length === 0) throw new ArgumentError('data.tensorLists: expected at least one input tensor');
  return new TensorSource([...xs], [...ys], true);
}

class ArraySource implements DataSource {
  readonly hasLabels: boolean;
  private readonly xRow: number;
  private readonly yRow: number;

  constructor(
    private readonly x: HostX,
    readonly exampleShape: readonly number[],
    private readonly y: HostY | null,
    private readonly yExampleShape: readonly number[],
    private readonly scale: number,
    private readonly offset: number,
    readonly size: number,
    /** Whether the targets are the inputs (data.arrays's `targets: 'inputs'`). */
    private readonly selfTargets = false,
  ) {
    this.hasLabels = y !== null || selfTargets;
    this.xRow = sizeOf(exampleShape);
    this.yRow = sizeOf(yExampleShape);
  }

  take(indices: Int32Array): () => Batch {
    const rows = this.offset === 0 ? indices : indices.map((i) => i + this.offset);
    for (const i of indices) {
      if (i < 0 || i >= this.size) throw new ArgumentError(`data source: example index ${i} is out of range [0, ${this.size})`);
    }
    const xs = this.xRow === 0 ? new Float32Array(0) : gatherRows(this.x, this.xRow, rows);
    const ys = this.y && this.yRow > 0 ? gatherTyped(this.y, this.yRow, rows) : null;
    return () => this.upload(xs, ys, indices.length);
  }

  range(start: number, end: number): () => Batch {
    const a = (this.offset + start) * this.xRow;
    const xs = this.x.subarray(a, a + (end - start) * this.xRow);
    const ys = this.y ? this.y.subarray((this.offset + start) * this.yRow, (this.offset + end) * this.yRow) : null;
    return () => this.upload(xs, ys, end - start);
  }

  /** A source over examples [start, end) of this one (no copy). */
  subset(start: number, end: number): ArraySource {
    return new ArraySource(this.x, this.exampleShape, this.y, this.yExampleShape, this.scale, this.offset + start, end - start, this.selfTargets);
  }

  dispose(): void {}

  private upload(xs: HostX, ys: HostY | null, n: number): Batch {
    const values = new Float32Array(xs.length);
    const s = this.scale;
    for (let i = 0; i < xs.length; i++) values[i] = xs[i] * s;
    const x = tensor(values, [n, ...this.exampleShape]);
    let y: Tensor | null = null;
    if (this.selfTargets) {
      y = tensor(values.slice(), [n, ...this.exampleShape]);
    } else if (ys) {
      const shape = [n, ...this.yExampleShape];
      y = ys instanceof Float32Array ? tensor(ys.slice(), shape, 'float32') : tensor(Int32Array.from(ys), shape, 'int32');
    }
    return { xs: x, ys: y };
  }
}

/** Rows of any typed array (gatherRows covers only uint8 and float32). */
function gatherTyped(src: HostY, row: number, indices: ArrayLike<number>): HostY {
  if (src instanceof Int32Array) {
    const out = new Int32Array(indices.length * row);
    for (let i = 0; i < indices.length; i++) out.set(src.subarray(indices[i] * row, (indices[i] + 1) * row), i * row);
    return out;
  }
  return gatherRows(src, row, indices);
}

class TensorSource implements DataSource {
  readonly size: number;
  readonly exampleShape: readonly number[];
  readonly hasLabels: boolean;
  /** int32 labels as float32: gather moves float32 values only (exact for integers below 2^24). */
  private readonly yFloat: (Tensor | null)[];

  constructor(
    private readonly x: Tensor[],
    private readonly y: Tensor[],
    /** Whether batches hold lists (tensorLists) rather than single tensors (tensors). */
    private readonly lists: boolean,
    private readonly offset = 0,
    size?: number,
    yFloat?: (Tensor | null)[],
  ) {
    const what = lists ? 'data.tensorLists' : 'data.tensors';
    for (const t of [...x, ...y]) {
      t.use(what);
      if (!(t instanceof Tensor) || t.rank < 1) throw new ArgumentError(`${what}: x and y should be tensors with a batch dim`);
    }
    for (const t of x) if (t.dtype !== 'float32') throw new DTypeError(`${what}: x should be float32, got ${t.dtype} ${fmtShape(t.shape)}`);
    const n = x[0].shape[0];
    const odd = [...x, ...y].find((t) => t.shape[0] !== n);
    if (odd) {
      throw new ShapeError(`${what}: x ${fmtShape(x[0].shape)} and ${fmtShape(odd.shape)} should have the same number of examples (first dim)`);
    }
    this.size = size ?? n;
    this.exampleShape = x[0].shape.slice(1);
    this.hasLabels = y.length > 0;
    // keep(): a source made inside a tidy must not lose its copy when that scope ends.
    this.yFloat = yFloat ?? y.map((t) => (t.dtype === 'int32' ? keep(cast(t, 'float32')) : null));
  }

  take(indices: Int32Array): () => Batch {
    const rows = this.offset === 0 ? indices : indices.map((i) => i + this.offset);
    return () => {
      const idx = tensor(rows, [rows.length], 'int32');
      const xs = this.x.map((t) => gather(t, idx));
      const ys = this.y.map((t, i) => (this.yFloat[i] ? castBack(gather(this.yFloat[i]!, idx)) : gather(t, idx)));
      idx.dispose();
      return this.batch(xs, ys);
    };
  }

  range(start: number, end: number): () => Batch {
    const s = this.offset + start;
    const box = (t: Tensor) => slice(t, { begin: [s, ...t.shape.slice(1).map(() => 0)], size: [end - start, ...t.shape.slice(1)] });
    return () => this.batch(this.x.map(box), this.y.map(box));
  }

  /** A source over examples [start, end) of this one. */
  subset(start: number, end: number): TensorSource {
    return new TensorSource(this.x, this.y, this.lists, this.offset + start, end - start, this.yFloat);
  }

  dispose(): void {
    if (this.offset === 0) this.yFloat.forEach((t) => t?.dispose());
  }

  private batch(xs: Tensor[], ys: Tensor[]): Batch {
    if (this.lists) return { xs, ys: ys.length > 0 ? ys : null };
    return { xs: xs[0], ys: ys[0] ?? null };
  }
}

function castBack(t: Tensor): Tensor {
  const out = cast(t, 'int32');
  t.dispose();
  return out;
}

/** A source over examples [start, end) of `source`. */
export function subset(source: DataSource, start: number, end: number): DataSource {
  if (source instanceof ArraySource || source instanceof TensorSource) return source.subset(start, end);
  return new SubsetSource(source, start, end);
}

class SubsetSource implements DataSource {
  readonly size: number;
  constructor(
    private readonly parent: DataSource,
    private readonly start: number,
    end: number,
  ) {
    this.size = end - start;
  }
  get exampleShape() {
    return this.parent.exampleShape;
  }
  get hasLabels() {
    return this.parent.hasLabels;
  }
  take(indices: Int32Array): () => Batch {
    return this.parent.take(indices.map((i) => i + this.start));
  }
  range(start: number, end: number): () => Batch {
    return this.parent.range(this.start + start, this.start + end);
  }
  dispose(): void {}
}

/** True for objects implementing DataSource. */
export function isDataSource(x: unknown): x is DataSource {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && typeof (x as DataSource).take === 'function' && typeof (x as DataSource).size === 'number';
}

