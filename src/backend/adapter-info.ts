// Which GPU the current backend runs on, for pages and logs that want to say so
// ("WebGPU on google swiftshader"), and which matMul/conv tiling it chose and why; null on the CPU backend.
import { engine } from '../engine.js';
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
