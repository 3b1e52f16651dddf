// Suites of routines with two WebGPU kernels (matMul, conv2d) run once per backend and, on WebGPU,
// once per tiling, and on the CPU once per kernel set (wasm SIMD and the JS reference):
// `describe.each(VARIANTS)` with `useVariant(variant)` at the top of the suite.
import { afterAll, beforeAll } from 'vitest';
import type { BackendName, CpuKernels } from '../../src/index.js';
import type { Tiling } from '../../src/backend/kernel.js';
import { WebGpuBackend } from '../../src/backend/webgpu/backend.js';
import { engine } from '../../src/engine.js';
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

/** Makes the current WebGPU backend prefer `tiling` (as if set by option); returns what restores its choice. */
export function preferTiling(tiling: Tiling): () => void {
  const backend = engine.backend;
  if (!(backend instanceof WebGpuBackend)) throw new Error(`preferTiling: the current backend is ${backend.name}, not webgpu`);
  const saved = backend.tilingChoice;
  backend.tilingChoice = { tiling, source: 'option' };
  return () => {
    backend.tilingChoice = saved;
  };
}

/** Switches to the variant's backend and tiling for one suite, restoring the tiling after it. */
export function useVariant({ backend, tiling, kernels }: Variant): void {
  let restore = (): void => {};
  beforeAll(async () => {
    await useBackend(backend, kernels);
    if (tiling) restore = preferTiling(tiling);
  });
  afterAll(() => restore());
}
