// Where the fuzz suites run: the CPU backend, WebGPU (per kernel tiling for the routines), and
// WebGPU with a 1 KiB binding limit, where larger generated shapes exceed one binding and every
// kernel runs split into dispatches over windows of its buffers (see test/split.test.ts).
import fc from 'fast-check';
import { afterAll, beforeAll } from 'vitest';
import * as nt from '../../src/index.js';
import type { Tiling } from '../../src/backend/kernel.js';
import { BACKENDS, RTOL } from './backends.js';
import type { FuzzTolerance } from './fuzz.js';
import { preferTiling } from './variants.js';

/** A backend configuration the fuzz properties run on. */
export interface FuzzTarget {
  name: string;
  backend: nt.BackendName;
  options?: nt.WebGpuOptions;
  tiling?: Tiling;
  /** Draw larger shapes (hundreds to thousands of elements), so that the split paths run. */
  large: boolean;
}

/** 256 floats per binding: small enough that shapes of a few hundred elements split. */
const SPLIT: FuzzTarget = { name: 'webgpu, 1 KiB bindings', backend: 'webgpu', options: { maxBindingBytes: 1024 }, large: true };
const gpu = BACKENDS.includes('webgpu');

/** cpu, webgpu, and webgpu with split bindings. */
export const FUZZ_TARGETS: FuzzTarget[] = [{ name: 'cpu', backend: 'cpu', large: false }, ...(gpu ? [{ name: 'webgpu', backend: 'webgpu' as const, large: false }, SPLIT] : [])];

/** As FUZZ_TARGETS, with WebGPU once per tiling of matMul and conv2d. */
export const ROUTINE_TARGETS: FuzzTarget[] = [
  { name: 'cpu', backend: 'cpu', large: false },
  ...(gpu ? (['register', 'workgroup'] as const).map((tiling) => ({ name: `webgpu/${tiling}`, backend: 'webgpu' as const, tiling, large: false })) : []),
  ...(gpu ? [SPLIT] : []),
];

/** Switches to the target for one suite, restoring the default backend and tiling after it. */
export function useFuzzTarget(target: FuzzTarget): void {
  let restore = (): void => {};
  beforeAll(async () => {
    await nt.setBackend(target.backend, target.options);
    if (target.tiling) restore = preferTiling(target.tiling);
  });
  afterAll(async () => {
    restore();
    await nt.setBackend('cpu');
  });
}

/** What a kernel says when one of its outputs needs more than one binding holds (see src/backend/split.ts). */
const SPLIT_REFUSAL = /^\w+: cannot (be )?split .*(binds more than|hold at most) \d+ bytes/;

/** The suite's fp32 tolerance on this target, and on split targets the refusals it accepts. */
export const tolerance = (target: FuzzTarget): FuzzTolerance => ({ rtol: RTOL[target.backend], ...(target.large ? { refusal: SPLIT_REFUSAL } : {}) });

/**
 * How many cases a property runs on the target: fewer on WebGPU, where SwiftShader compiles a
 * pipeline per new kernel shape and each dispatch costs milliseconds (a third unless given).
 */
export function runsOn(target: FuzzTarget, cpuRuns: number, gpuRuns = Math.ceil(cpuRuns / 3)): number {
  return target.backend === 'cpu' ? cpuRuns : gpuRuns;
}

/** Shapes: rank in [minRank, maxRank], dims in [minDim, maxDim]. */
export const shapeArb = (minRank: number, maxRank: number, maxDim: number, minDim = 1): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** Shapes for the target: `small` as given, or rank 2–3 with dims 4–10 on targets that split. */
export const shapesFor = (target: FuzzTarget, minRank: number, maxRank: number, maxDim: number): fc.Arbitrary<number[]> =>
  target.large ? shapeArb(Math.max(minRank, 2), Math.max(Math.min(maxRank, 3), 2), 10, 4) : shapeArb(minRank, maxRank, maxDim);
