// The CPU backend: the fallback without WebGPU and the oracle for GPU parity. Kernels run
// immediately: a call's `wasm` version where it has one (tensors then live in one wasm memory, so
// no kernel copies them), else its exact JS `cpu` closure; `kernels: 'js'` keeps every call on JS.
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { emptyStats, type Backend, type BackendStats, type Storage } from './backend.js';
import { wasmFeatures } from './cpu/wasm/features.js';
import { WasmRuntime } from './cpu/wasm/runtime.js';
import type { KernelCall, KernelPreferences } from './kernel.js';

/** Which kernels the CPU backend runs: the wasm SIMD ones where available, or the JS reference. */
export type CpuKernels = 'wasm' | 'js';

/** Options of `setBackend('cpu', …)`. */
export interface CpuOptions {
  /** 'wasm' (default where the engine has WebAssembly SIMD) or 'js' (the exact reference kernels). */
  kernels?: CpuKernels;
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

  constructor({ kernels = 'wasm' }: CpuOptions = {}) {
    this.kernels = kernels === 'wasm' && wasmFeatures().simd ? 'wasm' : 'js';
    if (this.kernels === 'wasm') this.rt = new WasmRuntime();
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
  destroy(): void {}
}
