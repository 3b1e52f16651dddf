// The Vulkan loader environment decision (src/cli/vulkan-env.ts): SwiftShader is added beside the
// machine's drivers, never in place of them; a retry only where nothing was found; a warning when a
// software adapter runs while device files suggest a hardware GPU.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adapterName, decideVulkanEnv, hardwareGpuHints, isSoftwareAdapter, type AdapterSummary } from '../src/cli/vulkan-env.js';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SWIFTSHADER: AdapterSummary = { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true };
const NVIDIA: AdapterSummary = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false };

describe('decideVulkanEnv before the first try', () => {
  it('adds SwiftShader with VK_ADD_DRIVER_FILES, keeping the driver list, and sets XDG_RUNTIME_DIR', () => {
    const d = decideVulkanEnv({ env: {}, swiftShaderIcd: ICD, hardwareHints: ['/dev/nvidia0'] });
    expect(d).toEqual({ set: { XDG_RUNTIME_DIR: '/tmp', VK_ADD_DRIVER_FILES: ICD }, retry: false });
    expect(d.set).not.toHaveProperty('VK_ICD_FILENAMES');
  });

  it('appends to drivers the user added, once', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/1', VK_ADD_DRIVER_FILES: '/opt/gpu.json' };
    expect(decideVulkanEnv({ env, swiftShaderIcd: ICD, hardwareHints: [] }).set).toEqual({ VK_ADD_DRIVER_FILES: `/opt/gpu.json:${ICD}` });
    const again = { ...env, VK_ADD_DRIVER_FILES: `/opt/gpu.json:${ICD}` };
    expect(decideVulkanEnv({ env: again, swiftShaderIcd: ICD, hardwareHints: [] }).set).toEqual({});
  });

  it.each(['VK_ICD_FILENAMES', 'VK_DRIVER_FILES'])('leaves a driver list the user chose with %s alone', (name) => {
    const d = decideVulkanEnv({ env: { [name]: '/opt/gpu.json', XDG_RUNTIME_DIR: '/tmp' }, swiftShaderIcd: ICD, hardwareHints: [] });
    expect(d).toEqual({ set: {}, retry: false });
  });

  it('adds nothing when SwiftShader is not installed', () => {
    expect(decideVulkanEnv({ env: { XDG_RUNTIME_DIR: '/tmp' }, swiftShaderIcd: null, hardwareHints: [] })).toEqual({ set: {}, retry: false });
  });
});

describe('decideVulkanEnv after no adapter was found', () => {
  it('retries with SwiftShader as the whole list, for loaders that ignore VK_ADD_DRIVER_FILES', () => {
    const d = decideVulkanEnv({ env: { VK_ADD_DRIVER_FILES: ICD }, swiftShaderIcd: ICD, hardwareHints: [], adapter: null });
    expect(d).toEqual({ set: { VK_ICD_FILENAMES: ICD }, retry: true });
  });

  it('keeps every installed driver ahead of SwiftShader in the retry list, so none is hidden', () => {
    const installedIcds = ['/usr/share/vulkan/icd.d/nvidia_icd.json', ICD];
    const d = decideVulkanEnv({ env: {}, swiftShaderIcd: ICD, hardwareHints: [], installedIcds, adapter: null });
    expect(d).toEqual({ set: { VK_ICD_FILENAMES: `/usr/share/vulkan/icd.d/nvidia_icd.json:${ICD}` }, retry: true });
  });

  it('does not retry when the user chose the list, when that retry already ran, or without SwiftShader', () => {
    expect(decideVulkanEnv({ env: { VK_DRIVER_FILES: '/opt/gpu.json' }, swiftShaderIcd: ICD, hardwareHints: [], adapter: null }).retry).toBe(false);
    expect(decideVulkanEnv({ env: { VK_ICD_FILENAMES: ICD }, swiftShaderIcd: ICD, hardwareHints: [], adapter: null }).retry).toBe(false);
    expect(decideVulkanEnv({ env: {}, swiftShaderIcd: null, hardwareHints: [], adapter: null })).toEqual({ set: {}, retry: false });
  });
});

describe('decideVulkanEnv after an adapter was found', () => {
  it('warns when VK_ICD_FILENAMES hides a GPU behind SwiftShader, naming the variable and the device file', () => {
    const d = decideVulkanEnv({ env: { VK_ICD_FILENAMES: ICD }, swiftShaderIcd: ICD, hardwareHints: ['/dev/nvidia0'], adapter: SWIFTSHADER });
    expect(d.retry).toBe(false);
    expect(d.set).toEqual({});
    expect(d.warning).toContain('software adapter (google / swiftshader / SwiftShader driver 5.0.0)');
    expect(d.warning).toContain('/dev/nvidia0');
    expect(d.warning).toContain(`VK_ICD_FILENAMES=${ICD} replaces`);
  });

  it('warns that the GPU has no Vulkan driver when nothing hid it', () => {
    const d = decideVulkanEnv({ env: { VK_ADD_DRIVER_FILES: ICD }, swiftShaderIcd: ICD, hardwareHints: ['/dev/dri/renderD128'], adapter: { description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } });
    expect(d.warning).toContain('/dev/dri/renderD128');
    expect(d.warning).toContain('found no driver for it');
  });

  it('is silent for a hardware adapter, and for a software one where no GPU is seen', () => {
    expect(decideVulkanEnv({ env: { VK_ADD_DRIVER_FILES: ICD }, swiftShaderIcd: ICD, hardwareHints: ['/dev/nvidia0'], adapter: NVIDIA })).toEqual({ set: {}, retry: false });
    expect(decideVulkanEnv({ env: { VK_ICD_FILENAMES: ICD }, swiftShaderIcd: ICD, hardwareHints: [], adapter: SWIFTSHADER }).warning).toBeUndefined();
  });
});

describe('adapter classification and machine facts', () => {
  it('tells software adapters from hardware ones', () => {
    expect(isSoftwareAdapter(SWIFTSHADER)).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'x', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter(NVIDIA)).toBe(false);
    expect(adapterName(NVIDIA)).toBe('nvidia / hopper / NVIDIA H100 80GB HBM3');
    expect(adapterName({})).toBe('unnamed adapter');
  });

  it('lists only GPU device files that exist', () => {
    const hints = hardwareGpuHints();
    for (const path of hints) {
      expect(path).toMatch(/^\/dev\/(nvidia\d+|kfd|dri\/renderD\d+)$/);
      expect(existsSync(path)).toBe(true);
    }
  });
});
