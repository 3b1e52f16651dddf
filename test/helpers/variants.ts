// Suites of routines with two WebGPU kernels (matMul, conv2d) run once per backend and, on WebGPU,
// once per tiling: `describe.each(VARIANTS)` with `useVariant(variant)` at the top of the suite.
import { afterAll, beforeAll } from 'vitest';
import type { BackendName } from '../../src/index.js';
import { kernelPreferences, type Tiling } from '../../src/backend/kernel.js';
import { BACKENDS, useBackend } from './backends.js';

/** A backend and, on WebGPU, the kernel tiling. */
export interface Variant {
  name: string;
  backend: BackendName;
  tiling?: Tiling;
}

export const VARIANTS: Variant[] = BACKENDS.flatMap((backend): Variant[] =>
  backend === 'webgpu' ? (['register', 'workgroup'] as const).map((tiling) => ({ name: `webgpu/${tiling}`, backend, tiling })) : [{ name: backend, backend }],
);

/** Switches to the variant's backend and tiling for one suite, restoring the tiling after it. */
export function useVariant({ backend, tiling }: Variant): void {
  let saved: Tiling;
  beforeAll(async () => {
    await useBackend(backend);
    saved = kernelPreferences.tiling;
    if (tiling) kernelPreferences.tiling = tiling;
  });
  afterAll(() => {
    kernelPreferences.tiling = saved;
  });
}
