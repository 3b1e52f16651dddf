// Every suite runs once per backend: `describe.each(BACKENDS)` with `useBackend` in beforeAll.
// WebGPU runs through Dawn on whatever adapter exists (SwiftShader on CPU-only machines).
// With NEURITE_REQUIRE_WEBGPU=1 (set by .ci/run) a missing adapter fails the suite.
import { existsSync } from 'node:fs';
import { setBackend, type BackendName } from '../../src/index.js';

const required = process.env.NEURITE_REQUIRE_WEBGPU === '1';

async function webgpuAvailable(): Promise<boolean> {
  if (required) return true;
  const icd = process.env.VK_ICD_FILENAMES;
  if (icd && !existsSync(icd)) return false;
  try {
    await setBackend('webgpu');
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

/** Switches to `name` (throws, failing the suite, when WebGPU is required and absent). */
export async function useBackend(name: BackendName): Promise<void> {
  await setBackend(name);
}
