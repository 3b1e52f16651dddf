// Lazy elementwise values and their fusion. An elementwise op does not run when it is called: its
// output storage is allocated and marked pending, holding the expression that computes it. An
// elementwise consumer that reads a pending value element for element folds that expression into
// its own, so a chain (x·w + b → relu → dropout mask …) becomes one kernel. Anything else that
// needs the value (a routine such as matMul, a read, a flush) realizes it. Values of one shape
// computed together leave as one kernel with several outputs: at a flush all of them, and on
// demand the variables' pending values that share an input with the one asked for — which is how
// an optimizer's new parameter and slots leave in one dispatch. Values disposed unread never run.
import type { Backend, Storage } from '../backend/backend.js';
import type { KernelCall } from '../backend/kernel.js';
import { nodeCount, renumber, substitute, type Expr } from '../ops/elementwise/expr.js';
import {
  contiguousInput,
  elementwiseKernel,
  isContiguous,
  uniformWords,
  type ElementwiseSpec,
  type StridedInput,
} from '../ops/elementwise/kernel.js';
import { shapesEqual, sizeOf } from '../shape.js';

/**
 * Inputs one fused expression may read. Fixed, not taken from the device, so that fusion — and
 * with it the rounding of intermediates — is the same on every backend.
 */
const MAX_FUSED_INPUTS = 6;
/** Expression nodes one fused value may grow to (a value read twice is copied into its consumer). */
const MAX_FUSED_NODES = 160;
/** Uniform words of one kernel: the WebGPU backend gives each dispatch a 256-byte uniform block. */
const MAX_UNIFORM_WORDS = 64;

/** An elementwise value not computed yet: one expression over realized sources. */
interface PendingValue {
  readonly backend: Backend;
  readonly label: string;
  readonly expr: Expr;
  readonly inputs: readonly StridedInput[];
  readonly sources: readonly Storage[];
  readonly shape: readonly number[];
  readonly dtype: ElementwiseSpec['dtypes'][number];
  readonly values: readonly number[];
  /** Held by a variable: realized when read, never folded into a consumer. */
  readonly sealed?: boolean;
}

/** How the graph keeps the sources of pending values alive (the engine's storage refcounts) and runs kernels. */
export interface StorageRefs {
  retain(s: Storage): void;
  release(s: Storage, backend: Backend): void;
  /** Runs a kernel call on `backend` (through the engine, so a step being recorded sees it). */
  run(backend: Backend, call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void;
}

/** Pending elementwise values, keyed by the storage they will fill. */
export class LazyGraph {
  /** Fuse elementwise chains (on by default); off, every elementwise op runs as its own kernel. */
  enabled = true;
  private readonly pending = new Map<Storage, PendingValue>();

  constructor(private readonly refs: StorageRefs) {}

  /**
   * Marks a pending value as state (a variable's value): consumers read it rather than fold it
   * in, so expressions never chain across optimizer steps while old values wait in memory.
   */
  seal(storage: Storage): void {
    const value = this.pending.get(storage);
    if (value) this.pending.set(storage, { ...value, sealed: true });
  }

  /**
   * Runs `call` on `backend`, or — for a single-output elementwise call — records it as pending,
   * folding in the pending values it reads element for element.
   */
  run(backend: Backend, call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    const spec = call.elementwise;
    if (!this.enabled || !spec || spec.exprs.length !== 1 || outputs.length !== 1) {
      this.realize(inputs);
      this.refs.run(backend, call, inputs, outputs);
      return;
    }
    let value: PendingValue = {
      backend,
      label: spec.label,
      expr: spec.exprs[0],
      inputs: spec.inputs,
      sources: inputs,
      shape: spec.shape,
      sealed: false,
      dtype: spec.dtypes[0],
      values: spec.values,
    };
    for (;;) {
      const k = value.sources.findIndex((s) => this.pending.has(s));
      if (k < 0) break;
      const fused = compose(value, k, this.pending.get(value.sources[k])!);
      if (fused) value = fused;
      else this.realize([value.sources[k]]);
    }
    for (const s of value.sources) this.refs.retain(s);
    this.pending.set(outputs[0], value);
  }

  /**
   * Computes the pending values among `storages`, each together with the sealed pending values of
   * its shape that read one of its sources (state that is needed anyway: an optimizer's slots).
   */
  realize(storages: readonly Storage[]): void {
    for (const s of storages) {
      const value = this.pending.get(s);
      if (!value) continue;
      const sources = new Set(value.sources);
      const group = [s];
      for (const [other, v] of this.pending) {
        if (other !== s && v.sealed && v.backend === value.backend && shapesEqual(v.shape, value.shape) && v.sources.some((x) => sources.has(x))) {
          group.push(other);
        }
      }
      this.runPacked(group);
    }
  }

  /** Computes every pending value of `backend` (at a flush: the step's work goes to the device now). */
  realizeAll(backend: Backend): void {
    const byShape = new Map<string, Storage[]>();
    for (const [s, v] of this.pending) {
      if (v.backend !== backend) continue;
      const key = v.shape.join('x');
      const list = byShape.get(key) ?? [];
      list.push(s);
      byShape.set(key, list);
    }
    for (const group of byShape.values()) this.runPacked(group);
  }

  /** Forgets a pending value whose storage is being freed: it is never computed. */
  drop(storage: Storage): void {
    const value = this.pending.get(storage);
    if (!value) return;
    this.pending.delete(storage);
    for (const s of value.sources) this.refs.release(s, value.backend);
  }

  /** Runs pending values of one shape (and backend) as few multi-output kernels as the binding limit allows. */
  private runPacked(storages: readonly Storage[]): void {
    let pack: Pack | null = null;
    for (const s of storages) {
      const value = this.pending.get(s)!;
      if (pack && !pack.tryAdd(s, value)) {
        this.runPack(pack);
        pack = null;
      }
      if (!pack) {
        pack = new Pack(value.backend, value.shape);
        pack.tryAdd(s, value);
      }
    }
    if (pack) this.runPack(pack);
  }

  private runPack(pack: Pack): void {
    const values = pack.outputs.map((s) => this.pending.get(s)!);
    for (const s of pack.outputs) this.pending.delete(s);
    try {
      this.refs.run(pack.backend, elementwiseKernel(pack.spec()), pack.sources, pack.outputs);
    } finally {
      for (const v of values) for (const s of v.sources) this.refs.release(s, v.backend);
    }
  }
}

/** Several pending values of one shape computed by one kernel: merged inputs and attributes, an expression each. */
class Pack {
  readonly outputs: Storage[] = [];
  readonly sources: Storage[] = [];
  private readonly inputs: StridedInput[] = [];
  private readonly exprs: Expr[] = [];
  private readonly dtypes: ElementwiseSpec['dtypes'][number][] = [];
  private readonly values: number[] = [];
  private readonly labels: string[] = [];

  constructor(
    readonly backend: Backend,
    private readonly shape: readonly number[],
  ) {}

  /** Adds `value` unless the kernel would bind or read more than a backend allows. */
  tryAdd(storage: Storage, value: PendingValue): boolean {
    const inputs = [...this.inputs];
    const sources = [...this.sources];
    const values = [...this.values];
    const expr = renumber(value.expr, (j) => indexOfInput(inputs, sources, value.inputs[j], value.sources[j]), (a) => indexOfValue(values, value.values[a]));
    const bindings = sources.length + this.outputs.length + 1;
    if (this.outputs.length > 0 && (bindings > this.backend.maxStorageBindings || uniformWords({ inputs, shape: this.shape, values }) > MAX_UNIFORM_WORDS)) {
      return false;
    }
    this.inputs.splice(0, this.inputs.length, ...inputs);
    this.sources.splice(0, this.sources.length, ...sources);
    this.values.splice(0, this.values.length, ...values);
    this.exprs.push(expr);
    this.dtypes.push(value.dtype);
    this.outputs.push(storage);
    this.labels.push(value.label);
    return true;
  }

  spec(): ElementwiseSpec {
    const label = this.labels.length > 3 ? `${this.labels.slice(0, 3).join(',')},…` : this.labels.join(',');
    return { label, exprs: this.exprs, inputs: this.inputs, shape: this.shape, dtypes: this.dtypes, values: this.values };
  }
}

/**
 * `consumer` with its input k — the pending `producer`, read element for element — replaced by the
 * producer's expression; null when that is not possible or would exceed the fusion limits.
 */
function compose(consumer: PendingValue, k: number, producer: PendingValue): PendingValue | null {
  const shape = consumer.shape;
  // An int32 producer rounds its result; folding it in would skip that rounding.
  if (producer.sealed || producer.dtype !== 'float32' || producer.backend !== consumer.backend) return null;
  if (sizeOf(producer.shape) !== sizeOf(shape) || !isContiguous(consumer.inputs[k], shape)) return null;
  // The producer's inputs are strided over its own coordinates: only the same shape keeps them valid
  // (or inputs that are all contiguous, which any shape of the same size reads alike).
  const sameShape = shapesEqual(producer.shape, shape);
  if (!sameShape && !producer.inputs.every((inp) => isContiguous(inp, producer.shape))) return null;

  const inputs: StridedInput[] = [];
  const sources: Storage[] = [];
  const values = [...consumer.values];
  const consumerIndex = consumer.inputs.map((inp, i) => (i === k ? -1 : indexOfInput(inputs, sources, inp, consumer.sources[i])));
  const inner = renumber(
    producer.expr,
    (j) => indexOfInput(inputs, sources, sameShape ? producer.inputs[j] : contiguousInput(producer.inputs[j].dtype, shape), producer.sources[j]),
    (a) => indexOfValue(values, producer.values[a]),
  );
  const expr = substitute(consumer.expr, (i) => (i === k ? inner : { kind: 'input', index: consumerIndex[i] }));
  if (inputs.length > MAX_FUSED_INPUTS || nodeCount(expr) > MAX_FUSED_NODES || uniformWords({ inputs, shape, values }) > MAX_UNIFORM_WORDS) {
    return null;
  }
  return { ...consumer, label: chainLabel(producer.label, consumer.label), expr, inputs, sources, values };
}

/** "producer>consumer", shortened from the front so long chains keep a readable name. */
function chainLabel(producer: string, consumer: string): string {
  const parts = `${producer}>${consumer}`.split('>');
  return parts.length > 4 ? `…>${parts.slice(-3).join('>')}` : parts.join('>');
}

/** Index of (input, source) in the merged lists, appending it when it is new. */
function indexOfInput(inputs: StridedInput[], sources: Storage[], input: StridedInput, source: Storage): number {
  const found = inputs.findIndex(
    (x, i) => sources[i] === source && x.dtype === input.dtype && x.offset === input.offset && x.strides.every((d, j) => d === input.strides[j]),
  );
  if (found >= 0) return found;
  inputs.push(input);
  sources.push(source);
  return inputs.length - 1;
}

/** Index of an attribute value in the merged list, appending it when it is new. */
function indexOfValue(values: number[], v: number): number {
  const found = values.findIndex((x) => Object.is(x, v));
  if (found >= 0) return found;
  values.push(v);
  return values.length - 1;
}
