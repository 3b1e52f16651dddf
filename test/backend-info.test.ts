// getCpuInfo: which kernels the CPU backend runs (the demo says "CPU · WebAssembly SIMD"), and
// null off the CPU; the adapter classification shared by the CLI and the browser.
import { afterAll, describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../src/backend/adapter-kind.js';
import { wasmFeatures } from '../src/backend/cpu/wasm/features.js';
import { isSoftwareAdapter as fromVulkanEnv } from '../src/cli/vulkan-env.js';
import { cpuThreads, getAdapterInfo, getCpuInfo, setBackend } from '../src/index.js';

describe('getCpuInfo', () => {
  afterAll(() => setBackend('cpu'));

  it('reports the WebAssembly SIMD kernels that setBackend("cpu") runs by default', async () => {
    await setBackend('cpu');
    expect(wasmFeatures().simd).toBe(true); // Node ≥ 16 has SIMD128
    const info = getCpuInfo();
    expect(info?.kernels).toBe('wasm');
    expect(info?.detail).toMatch(/^WebAssembly SIMD.*, \d+ threads?$/);
    expect(info?.detail).toContain(`${cpuThreads().threads} thread`);
    expect(getAdapterInfo()).toBeNull();
  });

  it("reports the JS reference kernels with { kernels: 'js' }", async () => {
    await setBackend('cpu', { kernels: 'js' });
    expect(getCpuInfo()).toMatchObject({ kernels: 'js', detail: 'JavaScript (exact reference kernels)', threads: 1 });
  });
});

describe('isSoftwareAdapter', () => {
  it('is the same function from its neutral module and from vulkan-env', () => {
    expect(fromVulkanEnv).toBe(isSoftwareAdapter);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', description: 'NVIDIA H100' })).toBe(false);
  });
});
