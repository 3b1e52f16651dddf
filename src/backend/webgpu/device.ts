// Finding a GPU: navigator.gpu in browsers and workers, the optional `webgpu` package (Dawn)
// in Node. The Dawn instance is kept referenced for the device's lifetime: if it is
// garbage-collected while devices live, the process crashes.
import { BackendError } from '../../errors.js';
import type { TilingOption } from '../kernel.js';

/** Options for creating the WebGPU backend. */
export interface WebGpuOptions {
  /** Adapter power preference (default 'high-performance'). */
  powerPreference?: GPUPowerPreference;
  /** Most dispatches recorded before a submit (default 64), so a page's compositor is not starved. */
  maxDispatchesPerSubmit?: number;
  /**
   * Kernel tiling of matMul and conv: 'register', 'workgroup', or 'measure' (time both once per
   * adapter, cached). Default: NEURITE_TILING, else chosen by the adapter's info (`preferredTiling`),
   * and measured for adapters whose info is blank. `getAdapterInfo().tiling` says what was chosen.
   */
  tiling?: TilingOption;
  /**
   * Testing and debugging knob: the most bytes one storage binding may hold, below the device's
   * maxStorageBufferBindingSize (the smaller one applies). Kernels over larger tensors run as
   * several dispatches over windows of their buffers, so a small value exercises that path
   * without huge tensors. At least minStorageBufferOffsetAlignment (256 bytes).
   */
  maxBindingBytes?: number;
  /**
   * While waiting for the GPU, let the main thread sleep between polls of the device (one a
   * millisecond after the first 2 ms) instead of polling on every event-loop turn (default: on in
   * Node, whose Dawn binding polls so and takes a CPU core; a software adapter runs on those
   * cores). See completion-wait.ts.
   */
  sleepWhileWaiting?: boolean;
}

/** A device and what we learned about it. */
export interface AcquiredDevice {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean };
  /** Keeps Dawn's instance alive in Node (see file comment). */
  keepAlive: unknown;
}

let dawnInstance: { requestAdapter(o?: GPURequestAdapterOptions): Promise<GPUAdapter | null> } | undefined;

async function gpuEntry(): Promise<{ gpu: Pick<GPU, 'requestAdapter'>; keepAlive: unknown }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, keepAlive: nav.gpu };
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) {
    throw new BackendError('setBackend(webgpu): this browser exposes no navigator.gpu (WebGPU is off or unsupported); use the cpu backend');
  }
  if (!dawnInstance) {
    let mod: { create(flags: string[]): typeof dawnInstance; globals: object };
    try {
      const name = 'webgpu';
      mod = await import(/* @vite-ignore */ name);
    } catch (e) {
      throw new BackendError(`setBackend(webgpu): Node has no WebGPU; install the optional dependency 'webgpu' (${(e as Error).message})`);
    }
    Object.assign(globalThis, mod.globals);
    dawnInstance = mod.create([]);
  }
  return { gpu: dawnInstance!, keepAlive: dawnInstance };
}

/** Requests an adapter and a device with the adapter's full storage limits. */
export async function acquireDevice(options: WebGpuOptions): Promise<AcquiredDevice> {
  const { gpu, keepAlive } = await gpuEntry();
  // 'high-performance': on machines with two GPUs, the discrete one; never the software fallback when a GPU exists.
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    // Dawn's instance lists drivers once, when created: forget it so a later try (after the
    // environment changed, say a driver was added) creates another that looks again.
    if (gpu === dawnInstance) dawnInstance = undefined;
    throw new BackendError(
      'setBackend(webgpu): no WebGPU adapter was found (no GPU driver the system can see; in Node on a machine without a GPU, add a software driver without hiding others: VK_ADD_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json, from Debian\'s chromium package)',
    );
  }
  const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'minStorageBufferOffsetAlignment', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage'] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredLimits });
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  return {
    device,
    keepAlive,
    adapterInfo: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    },
  };
}
