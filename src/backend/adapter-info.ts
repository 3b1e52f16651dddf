// Which GPU the current backend runs on, for pages and logs that want to say so
// ("WebGPU on google swiftshader"); null on the CPU backend.
import { engine } from '../engine.js';
import type { AcquiredDevice } from './webgpu/device.js';

/** What the browser (or Dawn) reports about a WebGPU adapter. */
export type AdapterInfo = AcquiredDevice['adapterInfo'];

/** The current backend's WebGPU adapter, or null when the backend is not WebGPU. */
export function getAdapterInfo(): AdapterInfo | null {
  const backend = engine.backend as { name: string; adapterInfo?: AdapterInfo };
  return backend.name === 'webgpu' && backend.adapterInfo ? { ...backend.adapterInfo } : null;
}
