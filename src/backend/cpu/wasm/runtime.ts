// What wasm kernels run against: the heap their tensors live in, the engine's features, compiled
// kernel modules (one per kernel variant, instantiated over the heap's memory once), a scratch
// block for packed operands, and, with threads, the pool of workers that share the heap.
import { wasmFeatures, type WasmFeatures } from './features.js';
import { SHARED_MAX_PAGES, WasmHeap } from './heap.js';
import { emitModule, type FunctionDef, type FunctionImport } from './module.js';
import { ThreadPool } from './pool.js';

/** A JS function a module imports (e.g. Math.exp), so wasm kernels compute what the JS reference does. */
export interface HostFunction extends FunctionImport {
  readonly fn: (...args: number[]) => number;
}

/** Exported kernel functions of one module (pointers are byte addresses in the heap). */
export type WasmExports = Record<string, (...args: number[]) => number | void>;

/**
 * Host functions a worker can import by name (the same functions as the JS reference's, see
 * elementwise/expr.ts); modules importing others run on the calling thread only.
 */
export const WORKER_HOST_FUNCTIONS = ['exp', 'log', 'tanh', 'sign', 'pow'] as const;

/**
 * Calls for one thread, after one another: [module, function, i32 count, f64 count, ...i32
 * arguments, ...f64 arguments as two int32 words each]. `module` is a `threadModule` id,
 * `function` the index of the export in the module's function list.
 */
export type Calls = number[];

const f64Word = new Float64Array(1);
const f64Words = new Int32Array(f64Word.buffer);

/** Appends one call of i32 arguments to `calls`. */
export function call(calls: Calls, module: number, fn: number, ...args: number[]): void {
  calls.push(module, fn, args.length, 0, ...args);
}

/** Appends one call of i32 arguments `ints`, then f64 arguments `floats`, to `calls`. */
export function callWithFloats(calls: Calls, module: number, fn: number, ints: readonly number[], floats: readonly number[]): void {
  calls.push(module, fn, ints.length, floats.length, ...ints);
  for (const f of floats) {
    f64Word[0] = f;
    calls.push(f64Words[0], f64Words[1]);
  }
}

/** A module threads may run: its bytes (for workers to compile) and this thread's exports in function order. */
interface ThreadModule {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly fns: ((...args: number[]) => unknown)[];
}

/** One heap, its kernels, scratch space, and the threads that run them. */
export class WasmRuntime {
  readonly heap = new WasmHeap();
  readonly features: WasmFeatures = wasmFeatures();
  private readonly modules = new Map<string, WasmExports>();
  private readonly bytes = new Map<string, Uint8Array<ArrayBuffer>>();
  /** Modules threads may run, by id (index), and ids by key; workers have loaded the first `loaded`. */
  private threadModules: ThreadModule[] = [];
  private readonly threadIds = new Map<string, number>();
  private loaded = 0;
  private readonly scratchBlocks = [{ ptr: 0, bytes: 0 }, { ptr: 0, bytes: 0 }];
  private pool: ThreadPool | null = null;
  /** Calls to `run` that woke the workers (a test's check that work was split). */
  parallelRuns = 0;

  /** Threads that run parallel kernels (the calling thread included). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /**
   * Runs kernels on `threads` threads from now on: a pool of threads − 1 workers over the heap,
   * moved to a shared memory (1 stops the pool, back to a plain memory). Resolves once the
   * workers are ready.
   */
  async setThreads(threads: number): Promise<void> {
    if (threads === this.threads) return;
    this.stopThreads();
    this.heap.setShared(threads > 1);
    this.modules.clear();
    this.threadModules = [];
    this.threadIds.clear();
    if (threads === 1) return;
    this.pool = await ThreadPool.start(threads - 1, this.heap.memory);
  }

  /**
   * The id calls name module `key` by (see `Calls`), compiling it here the first time; workers
   * load it on the first dispatch that may use it. Host imports must be WORKER_HOST_FUNCTIONS.
   */
  threadModule(key: string, build: (features: WasmFeatures) => readonly FunctionDef[], host: readonly HostFunction[] = []): number {
    let id = this.threadIds.get(key);
    if (id === undefined) {
      const names = build(this.features).map((f) => f.name);
      if (host.some((h) => !(WORKER_HOST_FUNCTIONS as readonly string[]).includes(h.name))) throw new Error(`wasm threads: module ${key} imports a function workers lack`);
      const exports = this.kernel(key, build, host);
      id = this.threadModules.length;
      this.threadModules.push({ bytes: this.moduleBytes(key, build, host), fns: names.map((n) => exports[n]) });
      this.threadIds.set(key, id);
    }
    return id;
  }

  /** Terminates the workers (kernels then run on the calling thread; the memory stays shared). */
  stopThreads(): void {
    this.pool?.terminate();
    this.pool = null;
    this.loaded = 0;
  }

  /**
   * Runs lists[0] here and lists[t] on thread t, returning when all have run. With one list (or
   * no pool) it runs here alone.
   */
  run(lists: readonly Calls[]): void {
    const busy = lists.filter((l, i) => i === 0 || l.length > 0).length;
    if (!this.pool || busy === 1) {
      for (const l of lists) this.runHere(l);
      return;
    }
    this.parallelRuns++;
    // Modules the workers have not loaded yet: their bytes in the heap, a load call first in every list.
    const loads: Calls = [];
    const blocks: [number, number][] = [];
    for (; this.loaded < this.threadModules.length; this.loaded++) {
      const { bytes } = this.threadModules[this.loaded];
      const ptr = this.heap.alloc(bytes.length);
      new Uint8Array(this.heap.memory.buffer, ptr, bytes.length).set(bytes);
      blocks.push([ptr, bytes.length]);
      loads.push(-1, this.loaded, 2, 0, ptr, bytes.length);
    }
    try {
      this.pool.run(loads.length ? lists.map((l, i) => (i === 0 ? l : [...loads, ...l])) : lists, (l) => this.runHere(l));
    } finally {
      for (const [ptr, bytes] of blocks) this.heap.release(ptr, bytes);
    }
  }

  /** Runs `calls` on this thread. */
  runHere(calls: readonly number[]): void {
    const modules = this.threadModules;
    for (let p = 0; p < calls.length;) {
      const [ni, nf] = [calls[p + 2], calls[p + 3]];
      const args = calls.slice(p + 4, p + 4 + ni);
      for (let f = 0; f < nf; f++) {
        f64Words[0] = calls[p + 4 + ni + 2 * f];
        f64Words[1] = calls[p + 5 + ni + 2 * f];
        args.push(f64Word[0]);
      }
      modules[calls[p]].fns[calls[p + 1]](...args);
      p += 4 + ni + 2 * nf;
    }
  }

  /**
   * The exports of the module `key`, emitted by `build` the first time. Compiled synchronously:
   * kernel modules are small (a few KB), and the CPU backend runs kernels synchronously.
   */
  kernel(key: string, build: (features: WasmFeatures) => readonly FunctionDef[], host: readonly HostFunction[] = []): WasmExports {
    let exports = this.modules.get(key);
    if (!exports) {
      const env = { memory: this.heap.memory, ...Object.fromEntries(host.map((h) => [h.name, h.fn])) };
      const instance = new WebAssembly.Instance(new WebAssembly.Module(this.moduleBytes(key, build, host)), { env });
      exports = instance.exports as WasmExports;
      this.modules.set(key, exports);
    }
    return exports;
  }

  /** The bytes of module `key`, importing a shared memory where the heap's is shared. */
  private moduleBytes(key: string, build: (features: WasmFeatures) => readonly FunctionDef[], host: readonly HostFunction[] = []): Uint8Array<ArrayBuffer> {
    const shared = this.heap.shared;
    const k = `${shared ? 'shared' : 'plain'}:${key}`;
    let bytes = this.bytes.get(k);
    if (!bytes) {
      bytes = emitModule(build(this.features), shared ? { minPages: 0, shared: { maxPages: SHARED_MAX_PAGES } } : { minPages: 0 }, host);
      this.bytes.set(k, bytes);
    }
    return bytes;
  }

  /**
   * The address of at least `bytes` of scratch, reused by every kernel (its contents do not
   * survive the next call). Slot 0 is the GEMM core's (packed operands); slot 1 a kernel's own
   * (e.g. conv's im2col rows). Growing it may grow the memory: derive views after calling this.
   */
  scratch(bytes: number, slot: 0 | 1 = 0): number {
    const block = this.scratchBlocks[slot];
    if (bytes > block.bytes) {
      if (block.bytes) this.heap.release(block.ptr, block.bytes);
      block.bytes = Math.max(bytes, block.bytes * 2);
      block.ptr = this.heap.alloc(block.bytes);
    }
    return block.ptr;
  }
}
