// A kernel call: one unit of work described once, run by either backend.
// The WebGPU backend compiles `wgsl` (cached by `key`) and dispatches it with `uniforms`;
// the CPU backend calls `cpu`. Ops build both from the same parameters, so they cannot drift.
import type { DType, TypedArray } from '../dtype.js';
import type { ElementwiseSpec } from '../ops/elementwise/kernel.js';
import type { WasmRuntime } from './cpu/wasm/runtime.js';

/** A 32-bit uniform value with its WGSL type. */
export type Uniform = { u32: number } | { i32: number } | { f32: number };

/** Everything a backend needs to run one kernel. */
export interface KernelCall {
  /** Name used in errors and stats (the op or routine). */
  readonly name: string;
  /**
   * Pipeline cache key: the op, dtypes, rank and flags, never sizes (those go in uniforms),
   * so a training loop compiles each pipeline once.
   */
  readonly key: string;
  /**
   * WGSL source, only called on a pipeline-cache miss. Bindings: group 0, inputs first
   * (read-only storage), then outputs (read-write storage), then one uniform buffer
   * holding `uniforms` in order, if any.
   */
  readonly wgsl: () => string;
  /** Uniform values in declaration order (each one 32-bit word). */
  readonly uniforms: readonly Uniform[];
  /** Workgroup counts for the dispatch; already split to respect the 65535-per-dimension limit. */
  readonly workgroups: readonly [number, number, number];
  /** The CPU implementation: reads `inputs`, writes every element of `outputs`. */
  readonly cpu: (inputs: readonly TypedArray[], outputs: TypedArray[]) => void;
  /**
   * The WebAssembly implementation, where the op has one: the CPU backend calls it instead of
   * `cpu` unless asked for the JS reference kernels. Storages are given as byte addresses in
   * `rt.heap`, where the CPU backend keeps every tensor; it writes every element of `outputs`.
   */
  readonly wasm?: (rt: WasmRuntime, inputs: readonly number[], outputs: readonly number[]) => void;
  /**
   * Set on elementwise kernels: the expression and strided inputs the call was built from, so the
   * engine can defer it and fuse it with its elementwise consumers (src/graph/fusion.ts).
   */
  readonly elementwise?: ElementwiseSpec;
  /**
   * The part of each storage this call binds (inputs then outputs; undefined: all of it).
   * Set only on the parts that `split` returns; the CPU backend never reads it.
   */
  readonly windows?: readonly (BindingWindow | undefined)[];
  /**
   * Set on parts that `split` returns which carry partial results to later parts (e.g. a running
   * max and sum per row): elements of a float32 scratch storage that all such parts of one split
   * share, bound after the outputs (its window, if any, last in `windows`). Its contents are
   * undefined before the first part writes them.
   */
  readonly scratch?: number;
  /**
   * Splits the call into parts (run in order) whose windows each hold at most
   * `limits.maxElements` elements, for storages larger than a GPU binding may be
   * (maxStorageBufferBindingSize). Absent when the kernel cannot be split.
   */
  readonly split?: (limits: SplitLimits) => KernelCall[];
}

/** A range of a storage's elements bound in place of the whole storage. */
export interface BindingWindow {
  /** First element; a multiple of `SplitLimits.alignElements`. */
  readonly offset: number;
  /** Elements bound. */
  readonly size: number;
}

/** What a split must respect, in elements of 4 bytes. */
export interface SplitLimits {
  /** Most elements one binding may hold. */
  readonly maxElements: number;
  /** Window offsets are multiples of this (minStorageBufferOffsetAlignment / 4). */
  readonly alignElements: number;
}

/** Output declared by an op before its kernel runs. */
export interface OutputSpec {
  shape: number[];
  dtype: DType;
}

/** Most invocations per workgroup we use: 64 runs well on SwiftShader's SIMD lanes and on real GPUs. */
export const WORKGROUP_SIZE = 64;

/**
 * Workgroup counts for `invocations` threads of `WORKGROUP_SIZE`, folded into two dimensions
 * because one dimension holds at most 65535 workgroups. Shaders recover the flat index as
 * `(wid.y * nwg.x + wid.x) * WORKGROUP_SIZE + lid.x` and bound-check it.
 */
export function linearWorkgroups(invocations: number, perGroup = WORKGROUP_SIZE): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / perGroup));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * How routines with a choice of kernels (matMul and conv) tile their work on the GPU.
 * 'register': each invocation computes an unrolled tile in registers, no workgroup memory —
 * several times faster on CPU-emulated adapters (SwiftShader runs a workgroup as SIMD lanes, and
 * barriers and dynamically indexed arrays cost it dearly; BENCHMARKS.md has the measurements).
 * 'workgroup': workgroups stage tiles in workgroup memory behind barriers — what real GPUs prefer.
 */
export type Tiling = 'register' | 'workgroup';

/**
 * What `setBackend('webgpu', { tiling })` and NEURITE_TILING accept: a variant, or 'measure' to time
 * both once per adapter and keep the faster (see src/backend/webgpu/tiling-choice.ts).
 */
export type TilingOption = Tiling | 'measure';

/**
 * What a backend prefers when an op builds its kernel: passed to `OpDef.kernel` by the engine, so
 * an op's kernel, and its rounding, depend only on its inputs and the backend it runs on. (Binding
 * limits reach a call the same way, as the argument of `split`.)
 */
export interface KernelPreferences {
  readonly tiling: Tiling;
  /**
   * The most elements of patch columns conv2dBackpropInput may build to run as a GEMM where the
   * direct kernel would skip most of its taps (ops/conv-columns.ts); absent or 0: never.
   */
  readonly maxColumnElements?: number;
}
