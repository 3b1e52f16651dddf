// The CPU backend: exact, dependency-free, the fallback without WebGPU and the oracle for GPU parity.
// Storage is a typed array; kernels run immediately.
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { emptyStats, type Backend, type BackendStats, type Storage } from './backend.js';
import type { KernelCall, KernelPreferences } from './kernel.js';

class CpuStorage implements Storage {
  constructor(readonly array: TypedArray, readonly dtype: DType) {}
  get size(): number {
    return this.array.length;
  }
}

/** Runs every kernel with its `cpu` closure on the main thread. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  // No binding limit on the CPU; the WebGPU default keeps fused kernels alike on both backends.
  readonly maxStorageBindings = 8;
  // Fixed, so CPU results never depend on which GPU ran before. Register tiles cut the conv filter
  // gradient into the same chunks as on SwiftShader, whose parity tests compare with the CPU.
  readonly preferences: KernelPreferences = { tiling: 'register' };
  private counters: BackendStats = emptyStats();
  private bytesInUse = 0;

  allocate(size: number, dtype: DType): Storage {
    this.bytesInUse += size * 4;
    return new CpuStorage(allocArray(dtype, size), dtype);
  }

  write(storage: Storage, values: TypedArray): void {
    (storage as CpuStorage).array.set(values);
  }

  async read(storage: Storage): Promise<TypedArray> {
    return this.readSync(storage);
  }

  readSync(storage: Storage): TypedArray {
    this.counters.readbacks++;
    return (storage as CpuStorage).array.slice();
  }

  free(storage: Storage): void {
    this.bytesInUse -= storage.size * 4;
  }

  run(call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    this.counters.dispatches++;
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
  stats(): BackendStats {
    return { ...this.counters };
  }
  resetStats(): void {
    this.counters = emptyStats();
  }
  destroy(): void {}
}
