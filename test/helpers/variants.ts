// Suites of routines with two WebGPU kernels (matMul, conv2d) run once per backend and, on WebGPU,
// once per tiling, and on the CPU once per kernel set (wasm SIMD and the JS reference):
// `describe.each(VARIANTS)` with `useVariant(variant)` at the top of the suite.
import { afterAll, beforeAll } from 'vitest';
import type { BackendName, CpuKernels } from '../../src/index.js';
import { kernelPreferences, type Tiling } from '../../src/backend/kernel.js';
import { BACKENDS, useBackend } from './backends.js';

/** A backend and, on WebGPU, the kernel tiling. */
export interface Variant {
  name: string;
  backend: BackendName;
  tiling?: Tiling;
  /** On the CPU: which kernels. */
  kernels?: CpuKernels;
}

export const VARIANTS: Variant[] = BACKENDS.flatMap((backend): Variant[] =>
  backend === 'webgpu'
    ? (['register', 'workgroup'] as const).map((tiling) => ({ name: `webgpu/${tiling}`, backend, tiling }))
    : (['wasm', 'js'] as const).map((kernels) => ({ name: `cpu/${kernels}`, backend, kernels })),
);

/** Switches to the variant's backend and tiling for one suite, restoring the tiling after it. */
export function useVariant({ backend, tiling, kernels }: Variant): void {
  let saved: Tiling;
  beforeAll(async () => {
    await useBackend(backend, kernels);
    saved = kernelPreferences.tiling;
    if (tiling) kernelPreferences.tiling = tiling;
  });
  afterAll(() => {
    kernelPreferences.tiling = saved;
  });
}
