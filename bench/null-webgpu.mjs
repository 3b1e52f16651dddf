// A null WebGPU implementation: navigator.gpu → adapter → device with the whole compute API, that
// accepts every call and does no work (mapped buffers read back one fixed float32 value). Timing a training step on
// it measures host cost alone — what bounds a real GPU that computes the step in a millisecond.
// Plain JS so that the bench (on dist/) and vitest both import it; types in null-webgpu.d.ts.

/** The WebGPU flag constants, installed as globals where no WebGPU implementation defined them. */
export const WEBGPU_CONSTANTS = {
  GPUBufferUsage: { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 },
  GPUMapMode: { READ: 1, WRITE: 2 },
  GPUShaderStage: { VERTEX: 1, FRAGMENT: 2, COMPUTE: 4 },
  GPUTextureUsage: { COPY_SRC: 1, COPY_DST: 2, TEXTURE_BINDING: 4, STORAGE_BINDING: 8, RENDER_ATTACHMENT: 16 },
  GPUColorWrite: { RED: 1, GREEN: 2, BLUE: 4, ALPHA: 8, ALL: 15 },
};

/**
 * The float32 every readback holds: finite, exact, and large, so that a count read back from the
 * device (Neurite's fit reads how many steps had a finite loss) never looks short of the steps run.
 */
export const NULL_READBACK_VALUE = 2 ** 24;

/** What the adapter reports: a named, non-fallback adapter, so libraries classify it without timing it. */
export const NULL_ADAPTER_INFO = Object.freeze({
  vendor: 'neurite',
  architecture: 'null',
  device: 'null-webgpu',
  description: 'Neurite null WebGPU device (accepts every call, does no work)',
  isFallbackAdapter: false,
  subgroupMinSize: 4,
  subgroupMaxSize: 128,
});

// The limits of a typical desktop GPU under Dawn: large enough that no kernel splits its bindings.
const LIMITS = Object.freeze({
  maxTextureDimension1D: 16384, maxTextureDimension2D: 16384, maxTextureDimension3D: 2048, maxTextureArrayLayers: 2048,
  maxBindGroups: 4, maxBindGroupsPlusVertexBuffers: 24, maxBindingsPerBindGroup: 1000,
  maxDynamicUniformBuffersPerPipelineLayout: 8, maxDynamicStorageBuffersPerPipelineLayout: 4,
  maxSampledTexturesPerShaderStage: 16, maxSamplersPerShaderStage: 16, maxStorageBuffersPerShaderStage: 10,
  maxStorageTexturesPerShaderStage: 8, maxUniformBuffersPerShaderStage: 12,
  maxUniformBufferBindingSize: 65536, maxStorageBufferBindingSize: 2 ** 31 - 4, maxBufferSize: 2 ** 32,
  minUniformBufferOffsetAlignment: 256, minStorageBufferOffsetAlignment: 256,
  maxVertexBuffers: 8, maxVertexAttributes: 30, maxVertexBufferArrayStride: 2048, maxInterStageShaderVariables: 28,
  maxColorAttachments: 8, maxColorAttachmentBytesPerSample: 128,
  maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024, maxComputeWorkgroupSizeY: 1024, maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
});

/** A fresh count of the calls that matter to a step's cost; `counters` of the GPU object hold one. */
function zeroCounters() {
  return { devices: 0, buffers: 0, pipelines: 0, bindGroups: 0, encoders: 0, dispatches: 0, copies: 0, submits: 0, writes: 0, reads: 0 };
}

class NullBuffer {
  constructor(counters, { size, usage, mappedAtCreation = false, label = '' }) {
    this.counters = counters;
    this.size = size;
    this.usage = usage;
    this.label = label;
    this.mapState = mappedAtCreation ? 'mapped' : 'unmapped';
    this.mapped = null;
  }
  mapAsync(mode, offset = 0, size) {
    if (this.mapState !== 'unmapped') return Promise.reject(new Error(`mapAsync: buffer '${this.label}' is ${this.mapState}`));
    const { MAP_READ, MAP_WRITE } = WEBGPU_CONSTANTS.GPUBufferUsage;
    if (!(this.usage & (MAP_READ | MAP_WRITE))) return Promise.reject(new Error(`mapAsync: buffer '${this.label}' lacks MAP_READ/MAP_WRITE usage`));
    if (mode & WEBGPU_CONSTANTS.GPUMapMode.READ) this.counters.reads++;
    this.mapState = 'pending';
    // Real mapping resolves after the GPU finished the buffer's work: never synchronously.
    return Promise.resolve().then(() => {
      this.mapState = 'mapped';
    });
  }
  getMappedRange(offset = 0, size = this.size - offset) {
    if (this.mapState !== 'mapped') throw new Error(`getMappedRange: buffer '${this.label}' is not mapped (${this.mapState})`);
    const range = new ArrayBuffer(size);
    new Float32Array(range, 0, size >> 2).fill(NULL_READBACK_VALUE);
    return range;
  }
  unmap() {
    this.mapState = 'unmapped';
  }
  destroy() {
    this.mapState = 'unmapped';
  }
}

class NullTexture {
  constructor(descriptor) {
    Object.assign(this, descriptor);
  }
  createView() {
    return {};
  }
  destroy() {}
}

class NullComputePass {
  constructor(counters) {
    this.counters = counters;
  }
  setPipeline() {}
  setBindGroup() {}
  dispatchWorkgroups() {
    this.counters.dispatches++;
  }
  dispatchWorkgroupsIndirect() {
    this.counters.dispatches++;
  }
  pushDebugGroup() {}
  popDebugGroup() {}
  insertDebugMarker() {}
  end() {}
}

class NullCommandEncoder {
  constructor(counters) {
    this.counters = counters;
    counters.encoders++;
  }
  beginComputePass() {
    return new NullComputePass(this.counters);
  }
  copyBufferToBuffer() {
    this.counters.copies++;
  }
  copyBufferToTexture() {}
  copyTextureToBuffer() {}
  copyTextureToTexture() {}
  clearBuffer() {}
  resolveQuerySet() {}
  writeTimestamp() {}
  pushDebugGroup() {}
  popDebugGroup() {}
  insertDebugMarker() {}
  finish() {
    return { label: '' };
  }
}

class NullComputePipeline {
  constructor(counters, descriptor) {
    counters.pipelines++;
    this.label = descriptor.label ?? '';
    this.layout = descriptor.layout;
    this.autoLayouts = [];
  }
  getBindGroupLayout(index) {
    if (this.layout && this.layout !== 'auto') return this.layout.bindGroupLayouts[index];
    return (this.autoLayouts[index] ??= { label: `${this.label} auto layout ${index}` });
  }
}

class NullQueue {
  constructor(counters) {
    this.counters = counters;
    this.label = '';
  }
  submit(commandBuffers) {
    this.counters.submits++;
    void commandBuffers;
  }
  writeBuffer() {
    this.counters.writes++;
  }
  writeTexture() {}
  copyExternalImageToTexture() {}
  onSubmittedWorkDone() {
    return Promise.resolve();
  }
}

class NullDevice extends EventTarget {
  constructor(counters, adapter) {
    super();
    counters.devices++;
    this.counters = counters;
    this.adapterInfo = adapter.info;
    this.limits = adapter.limits;
    this.features = new Set();
    this.queue = new NullQueue(counters);
    this.label = '';
    this.onuncapturederror = null;
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
  }
  createBuffer(descriptor) {
    this.counters.buffers++;
    return new NullBuffer(this.counters, descriptor);
  }
  createShaderModule(descriptor) {
    return { label: descriptor.label ?? '', getCompilationInfo: () => Promise.resolve({ messages: [] }) };
  }
  createComputePipeline(descriptor) {
    return new NullComputePipeline(this.counters, descriptor);
  }
  createComputePipelineAsync(descriptor) {
    return Promise.resolve(new NullComputePipeline(this.counters, descriptor));
  }
  createBindGroupLayout(descriptor) {
    return { label: descriptor.label ?? '', entries: descriptor.entries };
  }
  createPipelineLayout(descriptor) {
    return { label: descriptor.label ?? '', bindGroupLayouts: descriptor.bindGroupLayouts };
  }
  createBindGroup(descriptor) {
    this.counters.bindGroups++;
    return { label: descriptor.label ?? '', layout: descriptor.layout };
  }
  createCommandEncoder() {
    return new NullCommandEncoder(this.counters);
  }
  createQuerySet(descriptor) {
    return { type: descriptor.type, count: descriptor.count, destroy() {} };
  }
  createTexture(descriptor) {
    return new NullTexture(descriptor);
  }
  createSampler() {
    return {};
  }
  importExternalTexture() {
    return {};
  }
  pushErrorScope() {}
  popErrorScope() {
    return Promise.resolve(null);
  }
  destroy() {
    this.resolveLost({ reason: 'destroyed', message: 'the null device was destroyed' });
  }
}

class NullAdapter {
  constructor(counters) {
    this.counters = counters;
    this.info = NULL_ADAPTER_INFO;
    this.limits = LIMITS;
    this.features = new Set();
    this.isFallbackAdapter = false;
  }
  requestDevice(descriptor = {}) {
    for (const [name, value] of Object.entries(descriptor.requiredLimits ?? {})) {
      if (value !== undefined && !(name in LIMITS)) return Promise.reject(new TypeError(`requestDevice: unknown limit '${name}'`));
    }
    return Promise.resolve(new NullDevice(this.counters, this));
  }
  requestAdapterInfo() {
    return Promise.resolve(this.info);
  }
}

/**
 * A `navigator.gpu` whose adapters and devices do no work. Its `counters` count the calls of
 * every device it made (buffers, pipelines, bind groups, dispatches, submits, reads…).
 */
export function createNullGpu() {
  const counters = zeroCounters();
  return {
    counters,
    wgslLanguageFeatures: new Set(),
    requestAdapter: () => Promise.resolve(new NullAdapter(counters)),
    getPreferredCanvasFormat: () => 'bgra8unorm',
    /** Zeroes `counters`. */
    resetCounters() {
      Object.assign(counters, zeroCounters());
    },
  };
}

/**
 * The interface classes libraries test with `instanceof` (TF.js: `resource instanceof GPUBuffer`),
 * so they must be the null ones while the null GPU is installed, even where Dawn defined its own.
 */
const WEBGPU_CLASSES = { GPUBuffer: NullBuffer, GPUTexture: NullTexture, GPUDevice: NullDevice, GPUAdapter: NullAdapter, GPUQueue: NullQueue, GPUCommandEncoder: NullCommandEncoder, GPUComputePassEncoder: NullComputePass, GPUComputePipeline: NullComputePipeline };

/**
 * Installs a null GPU as `navigator.gpu` (creating `navigator` in Node 20), with the WebGPU
 * interface classes and flag constants as globals. Returns the GPU and a function that puts back
 * what was there before. TF.js's webgpu backend registers itself on import only when
 * navigator.gpu exists: install first.
 */
export function installNullGpu() {
  const gpu = createNullGpu();
  const g = globalThis;
  const hadNavigator = Object.prototype.hasOwnProperty.call(g, 'navigator');
  if (g.navigator === undefined) Object.defineProperty(g, 'navigator', { value: {}, configurable: true, writable: true });
  const previousGpu = Object.getOwnPropertyDescriptor(g.navigator, 'gpu');
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  const globals = { ...WEBGPU_CONSTANTS, ...WEBGPU_CLASSES };
  const previous = Object.fromEntries(Object.keys(globals).map((name) => [name, Object.getOwnPropertyDescriptor(g, name)]));
  for (const [name, value] of Object.entries(globals)) Object.defineProperty(g, name, { value, configurable: true, writable: true });
  const restore = () => {
    if (previousGpu) Object.defineProperty(g.navigator, 'gpu', previousGpu);
    else delete g.navigator.gpu;
    if (!hadNavigator) delete g.navigator;
    for (const [name, descriptor] of Object.entries(previous)) {
      if (descriptor) Object.defineProperty(g, name, descriptor);
      else delete g[name];
    }
  };
  return { gpu, restore };
}
