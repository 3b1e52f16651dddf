// The WebGPU backend: records kernel dispatches into one command encoder and submits them
// together (at a read, an explicit flush, or every `maxDispatchesPerSubmit` dispatches).
// Buffers come from a pool; uniforms of all dispatches of a submit share one buffer.
import type { DType, TypedArray } from '../../dtype.js';
import { allocArray } from '../../dtype.js';
import { ArgumentError, BackendError, DeviceLostError } from '../../errors.js';
import { emptyStats, type Backend, type BackendStats, type Storage } from '../backend.js';
import type { KernelCall, KernelPreferences, SplitLimits, Uniform } from '../kernel.js';
import { BindGroupCache, type BoundRange } from './bind-groups.js';
import { BufferPool } from './buffer-pool.js';
import { CompletionWait, pollsWhileWaiting } from './completion-wait.js';
import { acquireDevice, type AcquiredDevice, type WebGpuOptions } from './device.js';
import { PipelineCache } from './pipelines.js';
import { defaultTiling, immediateTiling, measuredTiling, requestedTiling, type TilingChoice, type TilingRequest } from './tiling-choice.js';

export type { WebGpuOptions } from './device.js';
export type { TilingChoice } from './tiling-choice.js';

const STORAGE_USAGE = GPUBufferUsageFlagsOf('STORAGE', 'COPY_SRC', 'COPY_DST');

// GPUBufferUsage is a global only once a WebGPU implementation is loaded, so read it lazily.
function GPUBufferUsageFlagsOf(...names: (keyof GPUBufferUsage)[]): () => number {
  let value: number | undefined;
  return () => (value ??= names.reduce((acc, n) => acc | (GPUBufferUsage[n] as number), 0));
}
const READBACK_USAGE = GPUBufferUsageFlagsOf('MAP_READ', 'COPY_DST');
const UNIFORM_USAGE = GPUBufferUsageFlagsOf('UNIFORM', 'COPY_DST');

/** How long a failed read waits for `device.lost` to say whether the device is gone. */
const LOSS_SETTLE_MS = 200;

/** Uniform blocks are placed at this alignment (the WebGPU default minUniformBufferOffsetAlignment). */
const UNIFORM_ALIGN = 256;

class GpuStorage implements Storage {
  constructor(
    public buffer: GPUBuffer,
    readonly size: number,
    readonly dtype: DType,
  ) {}
}

interface PendingDispatch {
  call: KernelCall;
  ranges: BoundRange[];
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  uniformOffset: number;
  uniformBytes: number;
}

/** The binding limit kernels split at: the device's, or the smaller `maxBindingBytes` asked for. */
function bindingLimits(limits: GPUSupportedLimits, maxBindingBytes?: number): SplitLimits {
  const align = limits.minStorageBufferOffsetAlignment;
  if (maxBindingBytes !== undefined && !(Number.isFinite(maxBindingBytes) && maxBindingBytes >= align)) {
    throw new ArgumentError(`setBackend(webgpu): maxBindingBytes must be a number of at least ${align} (minStorageBufferOffsetAlignment), got ${maxBindingBytes}`);
  }
  const bytes = Math.min(limits.maxStorageBufferBindingSize, maxBindingBytes ?? Infinity);
  return { maxElements: Math.floor(bytes / 4), alignElements: align / 4 };
}

/**
 * Creates the WebGPU backend, or throws a BackendError saying why there is none (an ArgumentError
 * for a bad `tiling`). With `tiling: 'measure'` this times both kernel tilings first (once per adapter).
 */
export async function createWebGpuBackend(options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  requestedTiling(options.tiling); // validate before acquiring a device
  const backend = new WebGpuBackend(await acquireDevice(options), options);
  await backend.settleTiling();
  return backend;
}

/** Runs kernels as WGSL compute shaders. */
export class WebGpuBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly maxStorageBindings: number;
  readonly device: GPUDevice;
  /** The adapter, as reported by the browser or Dawn. */
  readonly adapterInfo: AcquiredDevice['adapterInfo'];
  /** The matMul/conv kernel tiling this backend prefers, and why (tests may set it to run each variant). */
  tilingChoice: TilingChoice;
  /** Called when the device is lost, so the registry can start a new one next time. */
  onLost?: () => void;
  /** How reads wait for the GPU: asleep through most of it where the runtime busy-polls (Node). */
  readonly completionWait: CompletionWait;
  /** Dawn's instance in Node: held so it outlives the device (see device.ts). */
  private readonly keepAlive: unknown;
  private readonly pool: BufferPool;
  private readonly pipelines: PipelineCache;
  private readonly bindGroups: BindGroupCache;
  private readonly maxDispatchesPerSubmit: number;
  /** Largest binding, and window alignment, that kernels over big tensors split to. */
  private readonly bindingLimits: SplitLimits;
  private counters: BackendStats = emptyStats();
  private pending: PendingDispatch[] = [];
  private uniformData = new ArrayBuffer(UNIFORM_ALIGN * 64);
  private uniformBuffer: GPUBuffer | null = null;
  private uniformUsed = 0;
  private lost: string | null = null;
  private deferredError: BackendError | null = null;
  private readonly tilingRequest: TilingRequest;
  /** preferences, built for this tiling choice. */
  private preferencesOf: TilingChoice | null = null;
  private kernelPreferences: KernelPreferences | null = null;
  private tilingSettled = false;

  constructor(acquired: AcquiredDevice, options: WebGpuOptions) {
    this.device = acquired.device;
    this.maxStorageBindings = this.device.limits.maxStorageBuffersPerShaderStage;
    this.adapterInfo = acquired.adapterInfo;
    this.keepAlive = acquired.keepAlive;
    this.pool = new BufferPool(this.device, this.device.limits.maxBufferSize);
    this.bindingLimits = bindingLimits(this.device.limits, options.maxBindingBytes);
    this.pipelines = new PipelineCache(this.device);
    this.bindGroups = new BindGroupCache(this.device);
    this.maxDispatchesPerSubmit = options.maxDispatchesPerSubmit ?? 64;
    this.completionWait = new CompletionWait(options.sleepWhileWaiting ?? pollsWhileWaiting());
    this.tilingRequest = requestedTiling(options.tiling) ?? { tiling: defaultTiling(this.adapterInfo), source: 'adapter-info' };
    this.tilingChoice = immediateTiling(this.tilingRequest, this.adapterInfo);
    void this.device.lost.then((info) => {
      this.lost = `${info.reason ?? 'unknown'}: ${info.message}`;
      this.onLost?.();
    });
    this.device.addEventListener?.('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.deferredError ??= new BackendError(`webgpu: ${err.message}`);
    });
  }

  /**
   * Where the tiling asked for is 'measure': times both tilings (or recalls the timing of this
   * adapter) and applies the faster. The probe's work is not left in the stats.
   */
  async settleTiling(): Promise<void> {
    if (this.tilingRequest.tiling !== 'measure' || this.tilingSettled) return;
    this.tilingSettled = true;
    this.tilingChoice = await measuredTiling(this, this.adapterInfo);
    this.resetStats();
  }

  /**
   * What ops build their kernels for: the tiling chosen for this adapter, and with register tiles
   * (software adapters, where a skipped tap costs as much as a computed one) conv input gradients
   * through patch columns of up to a quarter of a binding.
   */
  get preferences(): KernelPreferences {
    if (this.preferencesOf !== this.tilingChoice) {
      const { tiling } = this.tilingChoice;
      this.preferencesOf = this.tilingChoice;
      this.kernelPreferences = { tiling, maxColumnElements: tiling === 'register' ? Math.floor(this.bindingLimits.maxElements / 4) : 0 };
    }
    return this.kernelPreferences!;
  }

  /** Print each WGSL kernel as it is compiled. */
  set logShaders(on: boolean) {
    this.pipelines.logShaders = on;
  }

  allocate(size: number, dtype: DType): Storage {
    this.checkAlive('allocate');
    const bytes = Math.max(4, size * 4);
    // Tensors above one binding's limit are fine (kernels split over them); above one buffer's are not.
    const max = this.device.limits.maxBufferSize;
    if (bytes > max) {
      throw new BackendError(
        `allocate: a ${dtype} tensor of ${size} elements (${bytes} bytes) exceeds this device's maxBufferSize of ${max} bytes; split the data into batches`,
      );
    }
    const before = this.pool.creations;
    const buffer = this.pool.acquire(bytes, STORAGE_USAGE());
    this.counters.bufferCreations += this.pool.creations - before;
    return new GpuStorage(buffer, size, dtype);
  }

  write(storage: Storage, values: TypedArray): void {
    this.checkAlive('write');
    const s = storage as GpuStorage;
    // queue.writeBuffer runs before the open encoder's dispatches: swap a buffer that the open
    // encoder may still read for a settled one (see BufferPool).
    if (this.pool.isUnsettled(s.buffer)) {
      const before = this.pool.creations;
      const fresh = this.pool.acquire(s.buffer.size, s.buffer.usage, true);
      this.counters.bufferCreations += this.pool.creations - before;
      this.pool.release(s.buffer);
      s.buffer = fresh;
    }
    this.device.queue.writeBuffer(s.buffer, 0, values.buffer, values.byteOffset, values.byteLength);
  }

  free(storage: Storage): void {
    if (this.lost) return;
    this.pool.release((storage as GpuStorage).buffer);
  }

  run(call: KernelCall, inputs: readonly Storage[], outputs: readonly Storage[]): void {
    this.checkAlive(call.name);
    const storages = [...inputs, ...outputs];
    const { maxElements } = this.bindingLimits;
    if (!storages.some((s) => s.size > maxElements)) return this.dispatch(call, storages, inputs.length);
    if (!call.split) throw this.tooLarge(call, storages, 'cannot be split into smaller dispatches');
    const parts = call.split(this.bindingLimits);
    // Parts that carry partial results from one dispatch to the next (per-row running sums)
    // share a scratch storage, bound after the outputs; it is freed once they are recorded.
    const scratchSize = Math.max(0, ...parts.map((part) => part.scratch ?? 0));
    const scratch = scratchSize > 0 ? this.allocate(scratchSize, 'float32') : null;
    const bound = (part: KernelCall) => (part.scratch && scratch ? [...storages, scratch] : storages);
    try {
      const unfit = parts.some((part) => bound(part).some((s, i) => (part.windows?.[i]?.size ?? s.size) > maxElements));
      if (unfit) throw this.tooLarge(call, storages, 'was split into parts that still bind too much');
      for (const part of parts) this.dispatch(part, bound(part), inputs.length);
    } finally {
      if (scratch) this.free(scratch);
    }
  }

  private tooLarge(call: KernelCall, storages: readonly Storage[], why: string): BackendError {
    const sizes = storages.map((s) => `${s.size} elements (${s.size * 4} bytes)`).join(', ');
    return new BackendError(
      `${call.name}: the kernel binds tensors of ${sizes}, above this device's limit of ${this.bindingLimits.maxElements * 4} bytes per binding (maxStorageBufferBindingSize or the maxBindingBytes option), and ${why}; use smaller tensors (batches)`,
    );
  }

  /** Records one dispatch, binding each storage whole or the window the call names. */
  private dispatch(call: KernelCall, storages: readonly Storage[], inputCount: number): void {
    const hasUniforms = call.uniforms.length > 0;
    const { pipeline, layout } = this.compile(call, inputCount, storages.length - inputCount, hasUniforms);
    const ranges: BoundRange[] = storages.map((s, i) => {
      const w = call.windows?.[i];
      const buffer = (s as GpuStorage).buffer;
      return w ? { buffer, offset: w.offset * 4, size: w.size * 4 } : { buffer, offset: 0, size: Math.max(4, s.size * 4) };
    });
    const uniformBytes = Math.max(16, Math.ceil((call.uniforms.length * 4) / 16) * 16);
    const uniformOffset = hasUniforms ? this.pushUniforms(call.uniforms) : 0;
    this.pending.push({ call, ranges, pipeline, layout, uniformOffset, uniformBytes: hasUniforms ? uniformBytes : 0 });
    this.counters.dispatches++;
    if (this.pending.length >= this.maxDispatchesPerSubmit) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0 || this.lost) return;
    const encoder = this.device.createCommandEncoder();
    this.encodePending(encoder);
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits++;
    this.pool.onSubmit();
  }

  async read(storage: Storage): Promise<TypedArray> {
    return (await this.readAll([storage]))[0];
  }

  async readAll(storages: readonly Storage[]): Promise<TypedArray[]> {
    this.checkAlive('read');
    const sizes = storages.map((s) => Math.max(4, s.size * 4));
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const bytes = offsets.length ? offsets[offsets.length - 1] + sizes[sizes.length - 1] : 4;
    const before = this.pool.creations;
    const staging = this.pool.acquire(bytes, READBACK_USAGE());
    this.counters.bufferCreations += this.pool.creations - before;
    this.device.pushErrorScope('validation');
    const encoder = this.device.createCommandEncoder();
    this.encodePending(encoder);
    storages.forEach((s, i) => encoder.copyBufferToBuffer((s as GpuStorage).buffer, 0, staging, offsets[i], sizes[i]));
    this.device.queue.submit([encoder.finish()]);
    const submitError = this.device.popErrorScope();
    this.counters.submits++;
    this.counters.readbacks++;
    this.pool.onSubmit();
    try {
      await this.completionWait.wait(() => staging.mapAsync(GPUMapMode.READ, 0, bytes));
    } catch (e) {
      this.throwIfFailed('read');
      // A destroyed device fails the map before it reports its loss: give it that moment.
      if (await this.confirmLoss()) this.checkAlive('read');
      throw new BackendError(`read: mapping the result failed (${(e as Error).message})`);
    }
    // A failed submit leaves the staging buffer stale: surface its error instead of wrong values.
    const failure = await submitError;
    if (failure) {
      staging.unmap();
      this.pool.release(staging);
      this.throwIfFailed('read');
      throw new BackendError(`read: the submitted work failed: ${failure.message}`);
    }
    const mapped = staging.getMappedRange(0, bytes);
    const out = storages.map((s, i) => {
      const values = allocArray(s.dtype, s.size);
      new Uint8Array(values.buffer).set(new Uint8Array(mapped, offsets[i], s.size * 4));
      return values;
    });
    staging.unmap();
    this.pool.release(staging);
    this.throwIfFailed('read');
    return out;
  }

  /** Why the device was lost, or null while it works. */
  get lostReason(): string | null {
    return this.lost;
  }

  /** Whether the device is lost, waiting a little for `device.lost` to settle after a failure. */
  private async confirmLoss(): Promise<boolean> {
    if (!this.lost) await Promise.race([this.device.lost, new Promise((resolve) => setTimeout(resolve, LOSS_SETTLE_MS))]);
    return this.lost !== null;
  }

  async sync(): Promise<void> {
    this.flush();
    await this.completionWait.wait(() => this.device.queue.onSubmittedWorkDone());
    this.throwIfFailed('sync');
  }

  memory() {
    return { bytesInUse: this.pool.bytesInUse, bytesPooled: this.pool.bytesPooled };
  }
  stats(): BackendStats {
    return { ...this.counters };
  }
  resetStats(): void {
    this.counters = emptyStats();
  }

  destroy(): void {
    this.pending = [];
    this.bindGroups.clear();
    this.pool.destroy();
    this.uniformBuffer?.destroy();
    this.device.destroy();
  }

  private compile(call: KernelCall, inputs: number, outputs: number, hasUniforms: boolean) {
    const before = this.pipelines.compilations;
    this.device.pushErrorScope('validation');
    const compiled = this.pipelines.get(call.key, inputs, outputs, hasUniforms, call.wgsl);
    const scope = this.device.popErrorScope();
    if (this.pipelines.compilations !== before) {
      this.counters.pipelineCompilations++;
      void scope.then((err) => {
        // The compile error is the root cause; it replaces the 'invalid pipeline' errors that follow it.
        if (!err) return;
        this.deferredError = new BackendError(`${call.name}: the WGSL kernel '${call.key}' failed to compile: ${err.message}`);
        this.pipelines.forget(call.key);
      });
    }
    return compiled;
  }

  /** Appends a uniform block to this submit's uniform data; returns its byte offset. */
  private pushUniforms(values: readonly Uniform[]): number {
    if (values.length * 4 > UNIFORM_ALIGN) throw new BackendError(`run: kernel has ${values.length} uniforms, more than ${UNIFORM_ALIGN / 4}`);
    const offset = this.uniformUsed;
    const needed = offset + UNIFORM_ALIGN;
    if (needed > this.uniformData.byteLength) {
      const grown = new ArrayBuffer(this.uniformData.byteLength * 2);
      new Uint8Array(grown).set(new Uint8Array(this.uniformData));
      this.uniformData = grown;
    }
    const view = new DataView(this.uniformData, offset, UNIFORM_ALIGN);
    values.forEach((u, i) => {
      if ('u32' in u) view.setUint32(i * 4, u.u32, true);
      else if ('i32' in u) view.setInt32(i * 4, u.i32, true);
      else view.setFloat32(i * 4, u.f32, true);
    });
    this.uniformUsed = needed;
    return offset;
  }

  /** Writes this submit's uniforms and encodes every pending dispatch into one compute pass. */
  private encodePending(encoder: GPUCommandEncoder): void {
    if (this.pending.length === 0) return;
    if (this.uniformUsed > 0) {
      if (!this.uniformBuffer || this.uniformBuffer.size < this.uniformUsed) {
        // The old buffer may still be read by an earlier submit: drop it rather than destroy it.
        this.uniformBuffer = this.device.createBuffer({ size: this.uniformData.byteLength, usage: UNIFORM_USAGE() });
        this.counters.bufferCreations++;
        this.bindGroups.clear();
      }
      // Queue order puts this write after earlier submits that read the buffer, and before this one.
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformData, 0, this.uniformUsed);
    }
    const pass = encoder.beginComputePass();
    const before = this.bindGroups.creations;
    for (const d of this.pending) {
      const uniform = d.uniformBytes ? { buffer: this.uniformBuffer!, size: d.uniformBytes } : null;
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, this.bindGroups.get(d.layout, d.ranges, uniform), uniform ? [d.uniformOffset] : []);
      const [x, y, z] = d.call.workgroups;
      pass.dispatchWorkgroups(x, y, z);
    }
    pass.end();
    this.counters.bindGroupCreations += this.bindGroups.creations - before;
    this.pending = [];
    this.uniformUsed = 0;
  }

  private checkAlive(op: string): void {
    if (this.lost) {
      throw new DeviceLostError(`${op}: the WebGPU device was lost (${this.lost}); its tensors are gone; call setBackend('webgpu') to start a new device`);
    }
    this.throwIfFailed(op);
  }

  private throwIfFailed(op: string): void {
    const err = this.deferredError;
    if (err) {
      this.deferredError = null;
      throw new BackendError(`${op}: ${err.message}`);
    }
  }
}
