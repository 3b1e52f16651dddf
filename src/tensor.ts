// The Tensor: an immutable n-d array living on one backend, and Variable, the mutable
// tensor that layers train. Values are read with `await t.data()`; memory is freed by
// `t.dispose()` or by the enclosing `tidy`.
import type { Backend, Storage } from './backend/backend.js';
import type { DataTypeMap, DType } from './dtype.js';
import { DisposedTensorError, fmtShape } from './errors.js';
import { engine } from './engine.js';
import { sizeOf } from './shape.js';

let nextTensorId = 0;

/** Nested arrays of numbers, as returned by `tensor.array()`. */
export type NestedArray = number | NestedArray[];

/** An n-dimensional array of float32 or int32 values on the current backend. */
export class Tensor<D extends DType = DType> {
  /** Unique id, stable for the tensor's life (used by autograd). */
  readonly id = nextTensorId++;
  /** Elements in the tensor. */
  readonly size: number;
  /** @internal Backend memory; shared between a tensor and its reshapes. */
  storage: Storage | null;
  /** @internal The backend that owns `storage` (a variable's changes when the engine moves it). */
  backend: Backend;
  /** Optional name, used in error messages and by layers. */
  name?: string;

  /** @internal Use `tensor()`, ops or `variable()` to make tensors. */
  constructor(
    readonly shape: readonly number[],
    readonly dtype: D,
    storage: Storage,
    backend: Backend,
    /** The op that made the tensor ('tensor', 'matMul', 'variable'…), for `memory().byOp` and `liveTensors()`. */
    readonly op = 'tensor',
  ) {
    this.size = sizeOf(shape);
    this.storage = storage;
    this.backend = backend;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once `dispose()` ran (directly or through `tidy`). */
  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** @internal The storage, or a DisposedTensorError naming `op`. */
  use(op: string): Storage {
    if (this.storage === null) {
      const what = this.name ? `tensor '${this.name}'` : `tensor #${this.id}`;
      throw new DisposedTensorError(
        `${op}: ${what} of shape ${fmtShape(this.shape)} was disposed (by dispose() or the tidy() that created it); keep() it or return it from tidy() to use it later`,
      );
    }
    return this.storage;
  }

  /** Reads the values back as a typed array (a copy). Waits for pending GPU work. */
  async data(): Promise<DataTypeMap[D]> {
    const storage = this.use('data');
    return (await engine.read(this, storage)) as DataTypeMap[D];
  }

  /** Synchronous read; only the CPU backend supports it (WebGPU reads are asynchronous). */
  dataSync(): DataTypeMap[D] {
    return engine.readSync(this, this.use('dataSync')) as DataTypeMap[D];
  }

  /** Reads the values back as nested arrays shaped like the tensor. */
  async array(): Promise<NestedArray> {
    const flat = Array.from(await this.data());
    return nest(flat, this.shape);
  }

  /** Frees the tensor's memory now. Safe to call twice. */
  dispose(): void {
    if (this.storage === null) return;
    engine.release(this);
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${fmtShape(this.shape)})`;
  }
}

/** A mutable tensor holding trainable state: `tidy` never disposes it, `assign` replaces its value. */
export class Variable<D extends DType = DType> extends Tensor<D> {
  /** Whether optimizers and `variableGrads` treat it as a parameter. */
  trainable: boolean;

  /** @internal Use `variable()`. */
  constructor(initial: Tensor<D>, trainable: boolean, name?: string) {
    super(initial.shape, initial.dtype, initial.use('variable'), initial.backend, 'variable');
    this.trainable = trainable;
    this.name = name;
  }

  /** Replaces the value with `value`'s (same shape and dtype); `value` stays usable. */
  assign(value: Tensor<D>): void {
    engine.assign(this, value);
  }
}

function nest(flat: number[], shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0];
  const [first, ...rest] = shape;
  const step = sizeOf(rest);
  const out: NestedArray[] = [];
  for (let i = 0; i < first; i++) out.push(nest(flat.slice(i * step, (i + 1) * step), rest));
  return out;
}
