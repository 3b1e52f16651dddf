// Types of the null WebGPU implementation (null-webgpu.mjs), for the tests that import it.

/** Calls counted over every device a null GPU made. */
export interface NullGpuCounters {
  devices: number;
  buffers: number;
  pipelines: number;
  bindGroups: number;
  encoders: number;
  dispatches: number;
  copies: number;
  submits: number;
  writes: number;
  /** mapAsync calls in READ mode: readbacks. */
  reads: number;
}

/** A navigator.gpu whose devices accept every call and do no work. */
export interface NullGpu extends Pick<GPU, 'requestAdapter' | 'getPreferredCanvasFormat'> {
  readonly counters: NullGpuCounters;
  resetCounters(): void;
}

/** The WebGPU flag constants (GPUBufferUsage, GPUMapMode, GPUShaderStage, GPUTextureUsage, GPUColorWrite). */
export const WEBGPU_CONSTANTS: Record<string, Record<string, number>>;

/** The float32 value every mapped range of a null buffer holds. */
export const NULL_READBACK_VALUE: number;

/** The null adapter's info. */
export const NULL_ADAPTER_INFO: Readonly<{
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}>;

/** A null GPU, not installed anywhere. */
export function createNullGpu(): NullGpu;

/** Installs a null GPU as navigator.gpu (and the flag constants where absent); `restore` undoes it. */
export function installNullGpu(): { gpu: NullGpu; restore(): void };
