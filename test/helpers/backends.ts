// Every suite runs once per backend: `describe.each(BACKENDS)` with `useBackend` in beforeAll.
// WebGPU runs through Dawn on whatever adapter exists (SwiftShader on CPU-only machines).
// With NEURITE_REQUIRE_WEBGPU=1 (set by .ci/run) a missing adapter fails the suite.
import { getAdapterInfo, setBackend, type BackendName, type CpuKernels } from '../../src/index.js';
import { adapterWarning, withVulkanRetry } from '../../src/cli/vulkan-env.js';

const required = process.env.NEURITE_REQUIRE_WEBGPU === '1';

// vite.config.ts applied the loader's environment (src/cli/vulkan-env.ts); withVulkanRetry retries
// once for loaders that ignore VK_ADD_DRIVER_FILES, and the adapter found is checked for a hidden GPU.
async function webgpuAvailable(): Promise<boolean> {
  if (required) return true;
  try {
    await withVulkanRetry(() => setBackend('webgpu'));
    const warning = adapterWarning(getAdapterInfo() ?? {});
    if (warning) console.warn(`[neurite] ${warning}`);
    await setBackend('cpu');
    return true;
  } catch {
    console.warn('[neurite] no WebGPU adapter here: the webgpu suites are not run (CI sets NEURITE_REQUIRE_WEBGPU=1 and fails instead)');
    return false;
  }
}

/** The backends every suite is run on. */
export const BACKENDS: BackendName[] = (await webgpuAvailable()) ? ['cpu', 'webgpu'] : ['cpu'];

/** Relative tolerance per backend (fp32): exact-ish on the CPU, a little looser on GPUs. */
export const RTOL: Record<BackendName, number> = { cpu: 1e-5, webgpu: 1e-4 };

/** Switches to `name` (throws, failing the suite, when WebGPU is required and absent); on the CPU, with `kernels`. */
export async function useBackend(name: BackendName, kernels?: CpuKernels): Promise<void> {
  if (name === 'webgpu') await withVulkanRetry(() => setBackend(name));
  else await setBackend(name, { kernels });
}

/**
 * The most bytes a readback of fit in flight holds in a staging buffer (rounded up to the pool's
 * size class): the running sums (`sums`: loss, metrics, finite steps) and, on WebGPU, fit's host
 * copy of the weights. Memory tests allow bytes in use to move by this much, never more.
 */
export function fitReadbackBytes(backend: BackendName, params: number, sums: number): number {
  return Math.max(256, 1.25 * 4 * (sums + (backend === 'webgpu' ? params : 0)));
}
