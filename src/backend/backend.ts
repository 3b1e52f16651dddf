// The interface every backend implements: a handful of methods, as in tinygrad.
// Tensors hold an opaque `Storage`; ops never touch it directly, they describe KernelCalls.
import type { DType, TypedArray } from '../dtype.js';
import type { KernelCall, KernelPreferences } from './kernel.js';

/** Backend-owned memory for one tensor. */
export interface Storage {
  /** Elements the storage holds. */
  readonly size: number;
  readonly dtype: DType;
}

/** Counters of what the backend did since the last `resetStats()`. */
export interface BackendStats {
  /** Kernel runs (GPU dispatches, or CPU kernel calls). */
  dispatches: number;
  /** `queue.submit` calls (0 on the CPU). */
  submits: number;
  /** Pipelines compiled (0 on the CPU). */
  pipelineCompilations: number;
  /** Device buffers created, excluding those served from the pool. */
  bufferCreations: number;
  /** Bind groups created (0 on the CPU); a steady training loop reuses cached ones. */
  bindGroupCreations: number;
  /** Reads of tensor data back to the host. */
  readbacks: number;
}

/** Memory held by the backend, in bytes. */
interface BackendMemory {
  /** Bytes held by live storages. */
  bytesInUse: number;
  /** Bytes kept in the pool for reuse. */
  bytesPooled: number;
}

/** What a backend offers the engine. */
export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** What the backend prefers when ops build their kernels (OpDef.kernel's `prefs`). */
  readonly preferences: KernelPreferences;
  /** Storage buffers one kernel may bind (inputs and outputs together); bounds how many fused values share a kernel. */
  readonly maxStorageBindings: number;
  /** Allocates uninitialised storage of `size` elements. */
  allocate(size: number, dtype: DType): Storage;
  /** Copies host values into storage (same element count). */
  write(storage: Storage, values: TypedArray): void;
  /** Reads the values back; flushes recorded work first. */
  read(storage: Storage): Promise<TypedArray>;
  /**
   * Reads several storages back in one transfer (on WebGPU: copies into one staging buffer, one
   * map), in order; flushes recorded work first.
   */
  readAll(storages: readonly Storage[]): Promise<TypedArray[]>;
  /** Synchronous read, where the backend can do it (the CPU); undefined otherwise. */
  readSync?(storage: Storage): TypedArray;
  /** Returns the storage to the backend (pooled, or released once pending work is done). */
  free(storage: Storage): void;
  /** Runs, or records for the next submit, one kernel call. */
  run(call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void;
  /** Submits recorded work. */
  flush(): void;
  /** Resolves when all submitted work has finished. */
  sync(): Promise<void>;
  memory(): BackendMemory;
  stats(): BackendStats;
  resetStats(): void;
  /** Why the backend's device was lost, or null while it works (always null on the CPU). */
  readonly lostReason: string | null;
  /** Releases every resource; the backend is unusable afterwards. */
  destroy(): void;
}

/** A zeroed stats record. */
export function emptyStats(): BackendStats {
  return { dispatches: 0, submits: 0, pipelineCompilations: 0, bufferCreations: 0, bindGroupCreations: 0, readbacks: 0 };
}
