// Compiled pipelines cached by kernel key, and bind-group layouts cached by binding counts.
// Layouts are explicit rather than 'auto' so a kernel that ignores a binding still validates.
// The uniform block has a dynamic offset, so a dispatch's bind group can be reused whatever
// place its uniforms take in a submit (see bind-groups.ts).

/** A compiled kernel. */
interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** Pipelines by kernel key; compiles on first use. */
export class PipelineCache {
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  /** Pipelines compiled, for stats. */
  compilations = 0;
  /** Print every WGSL source compiled (debugging aid: `setBackend('webgpu', …)` then set this). */
  logShaders = false;

  constructor(private readonly device: GPUDevice) {}

  /** Forgets a pipeline (one that failed to compile), so the next use tries again. */
  forget(key: string): void {
    this.pipelines.delete(key);
  }

  get(key: string, inputs: number, outputs: number, hasUniforms: boolean, source: () => string): CachedPipeline {
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const layout = this.layout(inputs, outputs, hasUniforms);
    const code = source();
    if (this.logShaders) console.log(`// kernel ${key}\n${code}`);
    const module = this.device.createShaderModule({ code, label: key });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    this.compilations++;
    const entry = { pipeline, layout };
    this.pipelines.set(key, entry);
    return entry;
  }

  private layout(inputs: number, outputs: number, hasUniforms: boolean): GPUBindGroupLayout {
    const key = `${inputs}:${outputs}:${hasUniforms}`;
    let layout = this.layouts.get(key);
    if (layout) return layout;
    const entries: GPUBindGroupLayoutEntry[] = [];
    for (let i = 0; i < inputs + outputs; i++) {
      entries.push({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: i < inputs ? 'read-only-storage' : 'storage' } });
    }
    if (hasUniforms) {
      entries.push({ binding: inputs + outputs, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } });
    }
    layout = this.device.createBindGroupLayout({ entries });
    this.layouts.set(key, layout);
    return layout;
  }
}
