// Which GPU the current backend runs on, for pages and logs that want to say so
// ("WebGPU on google swiftshader"), and which matMul/conv tiling it chose and why; null on the CPU backend.
// On the CPU backend, getCpuInfo says which kernels run ("WebAssembly SIMD").
import { engine } from '../engine.js';
import type { CpuKernels } from './cpu.js';
import { wasmFeatures } from './cpu/wasm/features.js';
import type { AcquiredDevice } from './webgpu/device.js';
import type { TilingChoice } from './webgpu/tiling-choice.js';

/** What the browser (or Dawn) reports about a WebGPU adapter, and the kernel tiling chosen for it. */
export type AdapterInfo = AcquiredDevice['adapterInfo'] & {
  /** The matMul/conv tiling in use, where the choice came from, and the probe's timings when it was measured. */
  tiling: TilingChoice;
};

/** The current backend's WebGPU adapter, or null when the backend is not WebGPU. */
export function getAdapterInfo(): AdapterInfo | null {
  const backend = engine.backend as { name: string; adapterInfo?: AcquiredDevice['adapterInfo']; tilingChoice?: TilingChoice };
  if (backend.name !== 'webgpu' || !backend.adapterInfo || !backend.tilingChoice) return null;
  const { timings, ...choice } = backend.tilingChoice;
  return { ...backend.adapterInfo, tiling: timings ? { ...choice, timings: { ...timings } } : choice };
}

/** Which kernels the CPU backend runs, for pages and logs ("CPU · WebAssembly SIMD"). */
export interface CpuInfo {
  /** 'wasm': the WebAssembly SIMD kernels; 'js': the exact JS reference kernels. */
  kernels: CpuKernels;
  /**
   * One line for people, e.g. "WebAssembly SIMD (relaxed-SIMD fused multiply-add)" or "JavaScript
   * (exact reference kernels)"; free text that may say more as the backend gains features.
   */
  detail: string;
  /** Threads the kernels run on, and why that many (`cpuThreads()`'s answer). */
  threads: number;
  threadsNote: string;
}

/** The current CPU backend's kernels, or null when the backend is not the CPU. */
export function getCpuInfo(): CpuInfo | null {
  const backend = engine.backend as { name: string; kernels?: CpuKernels; threads?: number; threadsNote?: string };
  if (backend.name !== 'cpu' || !backend.kernels) return null;
  const kernels = backend.kernels;
  const threads = backend.threads ?? 1;
  const threadsNote = backend.threadsNote ?? '';
  if (kernels === 'js') return { kernels, detail: 'JavaScript (exact reference kernels)', threads, threadsNote };
  const simd = wasmFeatures().relaxedSimd ? 'WebAssembly SIMD (relaxed-SIMD fused multiply-add)' : 'WebAssembly SIMD';
  return { kernels, detail: `${simd}, ${threads} thread${threads === 1 ? '' : 's'}`, threads, threadsNote };
}
