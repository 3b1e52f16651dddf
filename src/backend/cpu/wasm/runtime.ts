// What wasm kernels run against: the heap their tensors live in, the engine's features, compiled
// kernel modules (one per kernel variant, instantiated over the heap's memory once), a scratch
// block for packed operands, and, with threads, the pool of workers that share the heap.
import { im2colFunction } from '../../../ops/conv-im2col-wasm.js';
import { wasmFeatures, type WasmFeatures } from './features.js';
import { GEMM_FUNCTIONS, GEMM_KEY, gemmModule } from './gemm.js';
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
 * The modules threads can run, by index: a call list's entry is [module, function, argument
 * count, ...arguments], function indexing the module's `functions`.
 */
export const THREAD_MODULES = [
  { key: GEMM_KEY, build: gemmModule, functions: GEMM_FUNCTIONS },
  { key: 'im2col:forward', build: () => [im2colFunction(true)], functions: ['im2col'] },
  { key: 'im2col:backprop', build: () => [im2colFunction(false)], functions: ['im2col'] },
] as const satisfies readonly { key: string; build: (f: WasmFeatures) => readonly FunctionDef[]; functions: readonly string[] }[];

/** THREAD_MODULES' indices. */
export const TM = { gemm: 0, im2colForward: 1, im2colBackprop: 2 } as const;
/** GEMM functions' indices in calls. */
export const GF = { pack: 0, tiles: 1, epilogue: 2, copy: 3 } as const;
/** im2col's index in its module. */
export const IM2COL = 0;

/** Calls for one thread: [module, function, argument count, ...arguments] after one another. */
export type Calls = number[];

/** Appends one call to `calls`. */
export function call(calls: Calls, module: number, fn: number, ...args: number[]): void {
  calls.push(module, fn, args.length, ...args);
}

/** One heap, its kernels, scratch space, and the threads that run them. */
export class WasmRuntime {
  readonly heap = new WasmHeap();
  readonly features: WasmFeatures = wasmFeatures();
  private readonly modules = new Map<string, WasmExports>();
  private readonly bytes = new Map<string, Uint8Array<ArrayBuffer>>();
  private threadFns: ((...args: number[]) => unknown)[][] | null = null;
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
    this.threadFns = null;
    if (threads === 1) return;
    const modules = THREAD_MODULES.map((m) => new WebAssembly.Module(this.moduleBytes(m.key, m.build)));
    this.pool = await ThreadPool.start(threads - 1, { memory: this.heap.memory, modules, names: THREAD_MODULES.map((m) => m.functions) });
  }

  /** Terminates the workers (kernels then run on the calling thread; the memory stays shared). */
  stopThreads(): void {
    this.pool?.terminate();
    this.pool = null;
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
    this.pool.run(lists, (l) => this.runHere(l));
  }

  /** Runs `calls` on this thread. */
  runHere(calls: readonly number[]): void {
    this.threadFns ??= THREAD_MODULES.map((m) => {
      const exports = this.kernel(m.key, m.build);
      return m.functions.map((f) => exports[f]);
    });
    const fns = this.threadFns;
    for (let p = 0; p < calls.length;) {
      const n = calls[p + 2];
      fns[calls[p]][calls[p + 1]](...calls.slice(p + 3, p + 3 + n));
      p += 3 + n;
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
