// Choosing the backend: `await setBackend('webgpu' | 'cpu')`. WebGPU is created on demand
// (in Node through the optional `webgpu` package), and reused until `setBackend` asks again.
import { engine } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Backend, BackendStats } from './backend.js';
import { checkThreads, CpuBackend, type CpuOptions } from './cpu.js';
import { createWebGpuBackend, WebGpuBackend, type WebGpuOptions } from './webgpu/backend.js';
import { requestedTiling } from './webgpu/tiling-choice.js';

/** Names of the backends. */
export type BackendName = 'cpu' | 'webgpu';

/** Backends by name and options: asking again with the same options reuses the device. */
const cache = new Map<string, Backend>();

/**
 * Makes `name` the backend for tensors created from now on. For 'webgpu' this requests an
 * adapter and device (throwing a BackendError that says why when none is available); other
 * options than last time start another WebGPU backend beside the first. For 'cpu',
 * `{ kernels: 'js' }` runs the exact JS reference kernels instead of the wasm SIMD ones, and
 * `{ threads }` sets how many threads the wasm kernels run on (default: the core count, where the
 * platform allows workers over shared memory; see `cpuThreads()`). Setting another backend stops
 * the CPU backend's workers.
 */
export async function setBackend(name: 'cpu', options?: CpuOptions): Promise<void>;
export async function setBackend(name: 'webgpu', options?: WebGpuOptions): Promise<void>;
export async function setBackend(name: BackendName, options?: WebGpuOptions | CpuOptions): Promise<void>;
export async function setBackend(name: BackendName, options: WebGpuOptions | CpuOptions = {}): Promise<void> {
  if (name === 'webgpu') requestedTiling((options as WebGpuOptions).tiling); // a bad tiling throws before any device is made
  if (name === 'cpu') checkThreads((options as CpuOptions).threads);
  let backend = cache.get(cacheKey(name, options));
  if (backend?.lostReason) backend = undefined; // lost: start a new device
  if (!backend) {
    if (name === 'cpu') backend = makeCpuBackend(options as CpuOptions);
    else if (name === 'webgpu') backend = await createWebGpuBackend(options as WebGpuOptions);
    else throw new ArgumentError(`setBackend: unknown backend '${String(name)}' (expected 'webgpu' or 'cpu')`);
    const key = cacheKey(name, options);
    cache.set(key, backend);
    const made = backend;
    if (made instanceof WebGpuBackend) made.onLost = () => cache.get(key) === made && cache.delete(key);
  }
  // Workers of a CPU backend that is no longer current are stopped (its tensors stay readable).
  for (const other of new Set(cache.values())) if (other !== backend && other instanceof CpuBackend) other.stopThreads();
  const previous = engine.backend;
  if (previous !== backend && previous instanceof CpuBackend) previous.stopThreads();
  if (backend instanceof CpuBackend) await backend.setThreads((options as CpuOptions).threads);
  engine.setBackend(backend);
}

/** How many threads the CPU backend's kernels run on, and why (e.g. that a page is not cross-origin isolated). */
export function cpuThreads(): { threads: number; note: string } {
  const backend = engine.backend instanceof CpuBackend ? engine.backend : cache.get(cacheKey('cpu', {}));
  if (!(backend instanceof CpuBackend)) return { threads: 1, note: "one thread: setBackend('cpu') has not been called" };
  return { threads: backend.threads, note: backend.threadsNote };
}

/**
 * The CPU backend `setBackend('cpu')` gives (made on first use), current or not: where a model's
 * weights go when the device that held them is lost.
 */
export function cpuBackend(): Backend {
  const key = cacheKey('cpu', {});
  let backend = cache.get(key);
  if (!backend) cache.set(key, (backend = makeCpuBackend({})));
  return backend;
}

function cacheKey(name: BackendName, options: WebGpuOptions | CpuOptions): string {
  if (name === 'cpu') return `cpu:${(options as CpuOptions).kernels ?? 'wasm'}`;
  return `webgpu:${JSON.stringify(Object.entries(options).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/** The engine's initial CPU backend where it has the kernels asked for (its tensors stay usable), else a new one. */
function makeCpuBackend({ kernels = 'wasm' }: CpuOptions): CpuBackend {
  if (kernels !== 'js' && kernels !== 'wasm') throw new ArgumentError(`setBackend(cpu): kernels must be 'wasm' or 'js', got ${JSON.stringify(kernels)}`);
  const current = engine.backend;
  if (current instanceof CpuBackend && current.kernels === kernels) return current;
  return new CpuBackend({ kernels });
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
