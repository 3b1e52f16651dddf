// The engine: owns the current backend, creates tensors, runs ops, tracks scopes for `tidy`,
// and records the autograd tape. Everything stateful about execution lives here.
import type { Backend, Storage } from './backend/backend.js';
import { CpuBackend } from './backend/cpu.js';
import type { TypedArray, DType } from './dtype.js';
import { ArgumentError, BackendError, ShapeError, fmtShape } from './errors.js';
import { LazyGraph } from './graph/fusion.js';
import { Recording, type StepObserver } from './graph/recording.js';
import type { OpDef } from './ops/op.js';
import { Tensor, Variable } from './tensor.js';

/** One recorded op: how to turn its output gradients into input gradients. */
export interface TapeNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly backward: (dys: Tensor[], needs: readonly boolean[]) => (Tensor | null)[];
}

/** The tape of one `grad`/`valueAndGrad` call: the tensors it differentiates through and the ops it saw. */
export interface Tape {
  readonly watched: Set<number>;
  readonly nodes: TapeNode[];
  /**
   * Tensors the nodes' backward closures read. A `tidy` inside the differentiated function
   * hands these to its parent scope instead of disposing them, so backward can still use them.
   */
  readonly saved: Set<Tensor>;
}

/** Counts of live tensors and backend memory, as reported by `memory()`. */
export interface MemoryInfo {
  /** Tensors (variables included) not yet disposed. */
  numTensors: number;
  /** Bytes held by live tensors' storage on the current backend. */
  bytesInUse: number;
  /** Bytes the backend keeps pooled for reuse. */
  bytesPooled: number;
  /**
   * Live tensors by the op that made them (`{ matMul: 2, variable: 4 }`): where a leak comes
   * from. `liveTensors()` lists them one by one.
   */
  byOp: Record<string, number>;
}

/** One live tensor, as `liveTensors()` lists it. */
export interface LiveTensor {
  id: number;
  /** The op that made it. */
  op: string;
  shape: readonly number[];
  dtype: DType;
  name?: string;
}

class Engine {
  private current: Backend = new CpuBackend();
  private readonly scopes: Set<Tensor>[] = [];
  private readonly refCounts = new Map<Storage, number>();
  /** Every tensor not yet disposed (a set, not a count, so a leak report can list them). */
  private readonly live = new Set<Tensor>();
  /** @internal The active tape, if a gradient is being recorded. */
  tape: Tape | null = null;
  /** @internal Pending elementwise values, fused into chains before they run. */
  readonly graph = new LazyGraph({
    retain: (s) => this.retain(s),
    release: (s, b) => this.unretain(s, b),
    run: (backend, call, inputs, outputs) => {
      this.observer?.ran(call, inputs, outputs);
      backend.run(call, inputs, outputs);
    },
  });
  /** Live variables, so a step being recorded can tell which storages are variables' values. */
  private readonly variables = new Set<Variable>();
  /** The recording of the step running now, if one is being recorded (see src/graph/step-plans.ts). */
  private observer: StepObserver | null = null;

  get backend(): Backend {
    return this.current;
  }

  /** @internal Swaps the backend; tensors of the old one stay readable but cannot mix with new ones. */
  setBackend(backend: Backend): void {
    this.current = backend;
  }

  /** @internal A new tensor made by `op`, with fresh storage (or `storage`), tracked by the innermost tidy scope. */
  makeTensor(shape: readonly number[], dtype: DType, storage?: Storage, op = 'tensor'): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    let s = storage;
    if (!s) {
      s = this.current.allocate(size, dtype);
      this.observer?.allocated(s);
    }
    this.retain(s);
    const t = new Tensor(shape.slice(), dtype, s, this.current, op);
    this.track(t);
    return t;
  }

  /** @internal A tensor holding a copy of `values`. */
  fromArray(values: TypedArray, shape: readonly number[], dtype: DType): Tensor {
    const t = this.makeTensor(shape, dtype);
    if (values.length > 0) {
      this.observer?.wrote(t.storage!, values);
      this.current.write(t.storage!, values);
    }
    return t;
  }

  /** @internal A variable sharing `initial`'s storage (tensors are immutable, so sharing is safe). */
  makeVariable(initial: Tensor, trainable: boolean, name?: string): Variable {
    this.checkBackend('variable', [initial]);
    this.observer?.unsupported(`a variable${name ? ` '${name}'` : ''} was created`);
    const v = new Variable(initial, trainable, name);
    this.variables.add(v);
    this.retain(v.storage!);
    this.graph.seal(v.storage!);
    this.live.add(v);
    return v;
  }

  /** @internal Runs a primitive op and records it on the tape when an input is differentiated. */
  runOp<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
    const storages = inputs.map((t) => t.use(def.name));
    this.checkBackend(def.name, inputs);
    const specs = def.outputs(inputs, attrs);
    const opName = def.opName?.(attrs) ?? def.name;
    const outputs = specs.map((s) => this.makeTensor(s.shape, s.dtype, undefined, opName));
    if (outputs.some((o) => o.size > 0)) {
      const call = def.kernel(inputs, specs, attrs, this.current.preferences);
      this.graph.run(this.current, call, storages, outputs.map((o) => o.storage!));
    }
    const grad = def.grad;
    if (grad) {
      this.record(def.name, inputs, outputs, (dys, needs) => grad(dys, inputs, outputs, attrs, needs));
    }
    return outputs;
  }

  /** @internal A tensor of another shape over the same storage (reshape without a copy), made by `op`. */
  view(x: Tensor, shape: readonly number[], op = 'reshape'): Tensor {
    const storage = x.use(op);
    const t = new Tensor(shape.slice(), x.dtype, storage, x.backend, op);
    this.retain(storage);
    this.track(t);
    return t;
  }

  /** @internal Adds a node to the tape if any input is being differentiated. */
  record(name: string, inputs: readonly Tensor[], outputs: readonly Tensor[], backward: TapeNode['backward']): void {
    const tape = this.tape;
    if (!tape || !inputs.some((t) => tape.watched.has(t.id))) return;
    for (const o of outputs) if (o.dtype === 'float32') tape.watched.add(o.id);
    for (const t of inputs) tape.saved.add(t);
    for (const t of outputs) tape.saved.add(t);
    tape.nodes.push({ name, inputs, outputs, backward });
  }

  /** @internal Frees a tensor (its storage once no view shares it). */
  release(t: Tensor): void {
    const storage = t.storage;
    if (storage === null) return;
    t.storage = null;
    this.live.delete(t);
    if (t instanceof Variable) this.variables.delete(t);
    for (const scope of this.scopes) scope.delete(t);
    this.unretain(storage, t.backend);
  }

  /** @internal Points a variable at `value`'s storage. */
  assign(v: Variable, value: Tensor): void {
    const storage = value.use('assign');
    v.use('assign');
    if (value.dtype !== v.dtype || value.shape.length !== v.shape.length || value.shape.some((d, i) => d !== v.shape[i])) {
      throw new ShapeError(
        `assign: variable${v.name ? ` '${v.name}'` : ''} is ${v.dtype} ${fmtShape(v.shape)}, value is ${value.dtype} ${fmtShape(value.shape)} (expected the same shape and dtype)`,
      );
    }
    this.checkBackend('assign', [v, value]);
    this.observer?.assigned(v, storage);
    this.adopt(v, storage);
  }

  /** @internal Points a variable at `storage` (checked by the caller to fit it), releasing its old value. */
  adopt(v: Variable, storage: Storage): void {
    this.retain(storage);
    this.graph.seal(storage);
    const old = v.storage!;
    v.storage = storage;
    this.unretain(old, v.backend);
  }

  /**
   * @internal Moves a variable to `backend` (by default the current one), holding `values`: the
   * way a model leaves a lost device, or follows setBackend, without changing its variables.
   */
  rehome(v: Variable, values: TypedArray, backend: Backend = this.current): void {
    const old = v.use('move');
    if (values.length !== v.size) throw new ShapeError(`move: variable${v.name ? ` '${v.name}'` : ''} holds ${v.size} elements, got ${values.length} values`);
    const storage = backend.allocate(v.size, v.dtype);
    if (v.size > 0) backend.write(storage, values);
    this.retain(storage);
    const from = v.backend;
    v.storage = storage;
    v.backend = backend;
    this.unretain(old, from);
  }

  /** @internal Keeps `storage` alive for a holder that is no tensor (a step plan). */
  retainStorage(storage: Storage): void {
    this.retain(storage);
  }

  /** @internal Drops a hold taken with retainStorage. */
  releaseStorage(storage: Storage, backend: Backend): void {
    this.unretain(storage, backend);
  }

  /**
   * @internal Runs `step` (in a tidy scope; it returns the tensors it keeps) while recording what
   * it does on the backend, until its pending values are computed too.
   */
  recordStep(inputs: readonly Tensor[], step: () => Tensor[]): { outputs: Tensor[]; recording: Recording } {
    // Work queued before the step is not the step's: compute it now, outside the recording.
    this.graph.realizeAll(this.current);
    const byStorage = new Map<Storage, Variable>();
    for (const v of this.variables) if (v.storage && v.backend === this.current && !byStorage.has(v.storage)) byStorage.set(v.storage, v);
    const recording = new Recording(this.current, inputs, byStorage);
    if (this.observer) throw new BackendError('step plans: a step is already being recorded');
    this.observer = recording;
    try {
      const outputs = this.tidy(step);
      this.graph.realizeAll(this.current);
      recording.finish(outputs);
      return { outputs, recording };
    } finally {
      this.observer = null;
    }
  }

  /** @internal */
  async read(t: Tensor, storage: Storage): Promise<TypedArray> {
    this.observer?.unsupported('a value was read back');
    this.graph.realize([storage]);
    return t.backend.read(storage);
  }

  /** @internal Reads tensors of one backend back in one transfer. */
  async readAll(tensors: readonly Tensor[]): Promise<TypedArray[]> {
    if (tensors.length === 0) return [];
    const backend = tensors[0].backend;
    const storages = tensors.map((t) => {
      if (t.backend !== backend) throw new BackendError(`read: tensors of shapes ${tensors.map((u) => fmtShape(u.shape)).join(', ')} live on different backends (expected one backend)`);
      return t.use('read');
    });
    this.observer?.unsupported('a value was read back');
    this.graph.realize(storages);
    return backend.readAll(storages);
  }

  /** @internal */
  readSync(t: Tensor, storage: Storage): TypedArray {
    if (!t.backend.readSync) {
      throw new BackendError(`dataSync: the ${t.backend.name} backend reads asynchronously; use 'await tensor.data()'`);
    }
    this.observer?.unsupported('a value was read back');
    this.graph.realize([storage]);
    return t.backend.readSync(storage);
  }

  /** Runs `fn` in a scope that disposes every tensor it created except those it returns; `fn` must be synchronous. */
  tidy<T>(fn: () => T): T {
    this.scopes.push(new Set());
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.endScope(undefined);
      throw e;
    }
    if (isThenable(result)) {
      // The scope cannot stay open across the function's awaits: with one global scope stack,
      // another task's tensors would land in it and be disposed under that task's feet.
      this.endScope(undefined);
      result.then(undefined, () => {}); // its own failure is moot now: the caller gets this error
      throw new ArgumentError(
        'tidy: the function returned a Promise; tidy scopes only synchronous code. Wrap the synchronous parts in tidy() and, across awaits, free tensors with dispose() (keep() what must outlive a tidy)',
      );
    }
    this.endScope(result);
    return result;
  }

  /** Exempts `t` from disposal by the enclosing tidy scopes. */
  keep<T extends Tensor>(t: T): T {
    for (const scope of this.scopes) scope.delete(t);
    return t;
  }

  /** Computes every pending value and submits the recorded work. */
  flush(): void {
    this.graph.realizeAll(this.current);
    this.current.flush();
  }

  memory(): MemoryInfo {
    const m = this.current.memory();
    const byOp: Record<string, number> = {};
    for (const t of this.live) byOp[t.op] = (byOp[t.op] ?? 0) + 1;
    return { numTensors: this.live.size, bytesInUse: m.bytesInUse, bytesPooled: m.bytesPooled, byOp };
  }

  /** Every live tensor, oldest first. */
  liveTensors(): LiveTensor[] {
    return [...this.live].map((t) => ({ id: t.id, op: t.op, shape: t.shape, dtype: t.dtype, ...(t.name === undefined ? {} : { name: t.name }) }));
  }

  private endScope(result: unknown): void {
    const scope = this.scopes.pop()!;
    const kept = new Set<Tensor>();
    collectTensors(result, kept);
    const parent = this.scopes[this.scopes.length - 1];
    const saved = this.tape?.saved;
    for (const t of scope) {
      // Tensors the active tape needs survive until the tidy around the gradient computation ends.
      if (kept.has(t) || (parent && saved?.has(t))) parent?.add(t);
      else t.dispose();
    }
  }

  private track(t: Tensor): void {
    this.live.add(t);
    this.scopes[this.scopes.length - 1]?.add(t);
  }

  private retain(s: Storage): void {
    this.refCounts.set(s, (this.refCounts.get(s) ?? 0) + 1);
  }

  private unretain(s: Storage, backend: Backend): void {
    const n = (this.refCounts.get(s) ?? 1) - 1;
    if (n > 0) {
      this.refCounts.set(s, n);
      return;
    }
    this.refCounts.delete(s);
    this.graph.drop(s);
    this.observer?.freed(s);
    backend.free(s);
  }

  private checkBackend(op: string, inputs: readonly Tensor[]): void {
    for (const t of inputs) {
      if (t.backend !== this.current) {
        throw new BackendError(
          `${op}: an input of shape ${fmtShape(t.shape)} lives on a ${t.backend.name} backend but the current backend is a different ${this.current.name} backend; create tensors after setBackend(), or move them with tensor(await t.data(), t.shape)`,
        );
      }
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function collectTensors(value: unknown, out: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) out.add(value);
  else if (depth > 8 || value === null || typeof value !== 'object') return;
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collectTensors(v, out, depth + 1);
}

/** The process-wide engine. */
export const engine = new Engine();
