// Choosing the backend: `await setBackend('webgpu' | 'cpu')`. WebGPU is created on demand
// (in Node through the optional `webgpu` package), and reused until `setBackend` asks again.
import { engine } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Backend, BackendStats } from './backend.js';
import { CpuBackend } from './cpu.js';
import { createWebGpuBackend, type WebGpuOptions } from './webgpu/backend.js';
import { requestedTiling } from './webgpu/tiling-choice.js';

/** Names of the backends. */
export type BackendName = 'cpu' | 'webgpu';

/** Backends by name and options: asking again with the same options reuses the device. */
const cache = new Map<string, Backend>();

/**
 * Makes `name` the backend for tensors created from now on. For 'webgpu' this requests an
 * adapter and device (throwing a BackendError that says why when none is available); other
 * options than last time start another WebGPU backend beside the first.
 */
export async function setBackend(name: BackendName, options: WebGpuOptions = {}): Promise<void> {
  if (name === 'webgpu') requestedTiling(options.tiling); // a bad tiling throws before any device is made
  const key = name === 'webgpu' ? `webgpu:${JSON.stringify(Object.entries(options).sort(([a], [b]) => (a < b ? -1 : 1)))}` : name;
  let backend = cache.get(key);
  if (!backend) {
    if (name === 'cpu') backend = engine.backend.name === 'cpu' ? engine.backend : new CpuBackend();
    else if (name === 'webgpu') backend = await createWebGpuBackend(options);
    else throw new ArgumentError(`setBackend: unknown backend '${String(name)}' (expected 'webgpu' or 'cpu')`);
    cache.set(key, backend);
    if (name === 'webgpu') (backend as { onLost?: () => void }).onLost = () => cache.delete(key);
  }
  engine.setBackend(backend);
}

/** Name of the current backend. */
export function getBackend(): BackendName {
  return engine.backend.name;
}

/** Counters of the current backend since the last `resetStats()`. */
export function stats(): BackendStats {
  return engine.backend.stats();
}

/** Zeroes the current backend's counters. */
export function resetStats(): void {
  engine.backend.resetStats();
}

/** Submits recorded GPU work now (reads do this by themselves). */
export function flush(): void {
  engine.flush();
}

/**
 * Turns the fusion of elementwise chains on (the default) or off. Off, every elementwise op runs
 * as its own kernel when it is called: slower, but each op shows up on its own in stats() and in
 * error messages, which helps when debugging a kernel.
 */
export function setElementwiseFusion(enabled: boolean): void {
  engine.flush();
  engine.graph.enabled = enabled;
}

/** Resolves when the current backend has finished all submitted work. */
export function sync(): Promise<void> {
  engine.flush();
  return engine.backend.sync();
}
