// What wasm kernels run against: the heap their tensors live in, the engine's features, compiled
// kernel modules (one per kernel variant, instantiated over the heap's memory once) and a scratch
// block for packed operands.
import { wasmFeatures, type WasmFeatures } from './features.js';
import { WasmHeap } from './heap.js';
import { emitModule, type FunctionDef, type FunctionImport } from './module.js';

/** A JS function a module imports (e.g. Math.exp), so wasm kernels compute what the JS reference does. */
export interface HostFunction extends FunctionImport {
  readonly fn: (...args: number[]) => number;
}

/** Exported kernel functions of one module (pointers are byte addresses in the heap). */
export type WasmExports = Record<string, (...args: number[]) => number | void>;

/** One heap, its kernels, and scratch space. */
export class WasmRuntime {
  readonly heap = new WasmHeap();
  readonly features: WasmFeatures = wasmFeatures();
  private readonly modules = new Map<string, WasmExports>();
  private readonly scratchBlocks = [{ ptr: 0, bytes: 0 }, { ptr: 0, bytes: 0 }];

  /**
   * The exports of the module `key`, emitted by `build` the first time. Compiled synchronously:
   * kernel modules are small (a few KB), and the CPU backend runs kernels synchronously.
   */
  kernel(key: string, build: (features: WasmFeatures) => readonly FunctionDef[], host: readonly HostFunction[] = []): WasmExports {
    let exports = this.modules.get(key);
    if (!exports) {
      const bytes = emitModule(build(this.features), { minPages: 0 }, host);
      const env = { memory: this.heap.memory, ...Object.fromEntries(host.map((h) => [h.name, h.fn])) };
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env });
      exports = instance.exports as WasmExports;
      this.modules.set(key, exports);
    }
    return exports;
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
