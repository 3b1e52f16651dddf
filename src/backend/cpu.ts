// The CPU backend: the fallback without WebGPU and the oracle for GPU parity. Kernels run
// immediately: a call's `wasm` version where it has one (tensors then live in one wasm memory, so
// no kernel copies them), else its exact JS `cpu` closure; `kernels: 'js'` keeps every call on JS.
// With threads (setBackend('cpu') starts a pool sized from the core count; `threads` overrides it)
// the heap's memory is shared and the bigger wasm kernels (GEMM-based, elementwise, maxPool2d,
// sum/max) split their work across workers, bit-identical to one thread (see cpu/wasm/pool.ts).
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { ArgumentError } from '../errors.js';
import { emptyStats, type Backend, type BackendStats, type Storage } from './backend.js';
import { wasmFeatures } from './cpu/wasm/features.js';
import { defaultThreads, threadsUnavailable } from './cpu/wasm/pool.js';
import { WasmRuntime } from './cpu/wasm/runtime.js';
import type { KernelCall, KernelPreferences } from './kernel.js';

/** Which kernels the CPU backend runs: the wasm SIMD ones where available, or the JS reference. */
export type CpuKernels = 'wasm' | 'js';

/** Options of `setBackend('cpu', …)`. */
export interface CpuOptions {
  /** 'wasm' (default where the engine has WebAssembly SIMD) or 'js' (the exact reference kernels). */
  kernels?: CpuKernels;
  /**
   * Threads the wasm kernels run on (an integer ≥ 1). Default: the core count, at most
   * MAX_DEFAULT_THREADS; 1 where the platform cannot share memory with workers (a page that is
   * not cross-origin isolated). Ignored with `kernels: 'js'`.
   */
  threads?: number;
}

/** The most threads the CPU backend starts by default. */
export const MAX_DEFAULT_THREADS = 8;

/** Checks a `threads` option: undefined, or an integer ≥ 1. */
export function checkThreads(threads: unknown): void {
  if (threads === undefined) return;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new ArgumentError(`setBackend(cpu): threads must be an integer from 1 to 256, got ${typeof threads === 'number' ? threads : JSON.stringify(threads)}`);
  }
}

/** A storage of the JS kernels: its own typed array. */
class ArrayStorage implements Storage {
  constructor(readonly array: TypedArray, readonly dtype: DType) {}
  get size(): number {
    return this.array.length;
  }
}

/** A storage in the wasm heap: an address; views are made on use because growing the memory detaches old ones. */
class HeapStorage implements Storage {
  constructor(private readonly rt: WasmRuntime, readonly ptr: number, readonly size: number, readonly dtype: DType) {}
  get array(): TypedArray {
    const buffer = this.rt.heap.memory.buffer;
    return this.dtype === 'int32' ? new Int32Array(buffer, this.ptr, this.size) : new Float32Array(buffer, this.ptr, this.size);
  }
}

type CpuStorage = ArrayStorage | HeapStorage;

/** Runs every kernel on the calling thread: wasm where the call has a version, else JS. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  // No binding limit on the CPU; the WebGPU default keeps fused kernels alike on both backends.
  readonly maxStorageBindings = 8;
  // Fixed, so CPU results never depend on which GPU ran before. Register tiles cut the conv filter
  // gradient into the same chunks as on SwiftShader, whose parity tests compare with the CPU.
  readonly preferences: KernelPreferences = { tiling: 'register' };
  /** Host memory is never lost. */
  readonly lostReason = null;
  /** The kernels this backend runs ('js' where the engine lacks WebAssembly SIMD). */
  readonly kernels: CpuKernels;
  private readonly rt?: WasmRuntime;
  private counters: BackendStats = emptyStats();
  private bytesInUse = 0;
  /** Why the backend runs the threads it does (see `threads`). */
  threadsNote: string;

  constructor({ kernels = 'wasm' }: CpuOptions = {}) {
    this.kernels = kernels === 'wasm' && wasmFeatures().simd ? 'wasm' : 'js';
    if (this.kernels === 'wasm') this.rt = new WasmRuntime();
    this.threadsNote = this.rt ? 'one thread: setBackend(\'cpu\') has not started threads' : 'one thread: the JS reference kernels run on the calling thread';
  }

  /** Threads the kernels run on (the calling thread included). */
  get threads(): number {
    return this.rt?.threads ?? 1;
  }

  /** Kernel steps that ran split across the workers since the backend was made. */
  get parallelRuns(): number {
    return this.rt?.parallelRuns ?? 0;
  }

  /**
   * Runs the wasm kernels on `threads` threads (undefined: the default for this platform), starting
   * or stopping workers; resolves when they are ready. JS kernels stay on one thread.
   */
  async setThreads(threads?: number): Promise<void> {
    checkThreads(threads);
    if (!this.rt) return;
    const unavailable = threadsUnavailable();
    let n: number;
    let note: string;
    if (threads === undefined) [n, note] = await defaultThreads(MAX_DEFAULT_THREADS);
    else if (threads > 1 && unavailable) [n, note] = [1, unavailable];
    else [n, note] = [threads, `${threads} thread${threads === 1 ? '' : 's'}: set by the threads option`];
    try {
      await this.rt.setThreads(n);
      this.threadsNote = note;
    } catch (e) {
      await this.rt.setThreads(1);
      this.threadsNote = `one thread: workers could not start (${e instanceof Error ? e.message : String(e)})`;
    }
  }

  /** Stops the workers (the backend then runs on the calling thread). */
  stopThreads(reason = 'one thread: another backend was set'): void {
    if (!this.rt || this.rt.threads === 1) return;
    this.rt.stopThreads();
    this.threadsNote = reason;
  }

  allocate(size: number, dtype: DType): Storage {
    this.bytesInUse += size * 4;
    if (!this.rt) return new ArrayStorage(allocArray(dtype, size), dtype);
    return new HeapStorage(this.rt, this.rt.heap.alloc(size * 4), size, dtype);
  }

  write(storage: Storage, values: TypedArray): void {
    (storage as CpuStorage).array.set(values);
  }

  async read(storage: Storage): Promise<TypedArray> {
    return this.readSync(storage);
  }

  async readAll(storages: readonly Storage[]): Promise<TypedArray[]> {
    this.counters.readbacks++; // one transfer, as on WebGPU
    return storages.map((s) => (s as CpuStorage).array.slice());
  }

  readSync(storage: Storage): TypedArray {
    this.counters.readbacks++;
    return (storage as CpuStorage).array.slice();
  }

  free(storage: Storage): void {
    this.bytesInUse -= storage.size * 4;
    if (storage instanceof HeapStorage) this.rt!.heap.release(storage.ptr, storage.size * 4);
  }

  run(call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    this.counters.dispatches++;
    if (this.rt && call.wasm) {
      call.wasm(this.rt, inputs.map((s) => (s as HeapStorage).ptr), outputs.map((s) => (s as HeapStorage).ptr));
      return;
    }
    call.cpu(
      inputs.map((s) => (s as CpuStorage).array),
      outputs.map((s) => (s as CpuStorage).array),
    );
  }

  flush(): void {}
  async sync(): Promise<void> {}

  memory() {
    return { bytesInUse: this.bytesInUse, bytesPooled: 0 };
  }
  /** Bytes of wasm memory the heap has reserved (0 with JS kernels): flat over a steady training loop. */
  heapBytes(): number {
    return this.rt?.heap.bytesReserved ?? 0;
  }
  stats(): BackendStats {
    return { ...this.counters };
  }
  resetStats(): void {
    this.counters = emptyStats();
  }
  destroy(): void {
    this.rt?.stopThreads();
  }
}
