// Picks the worker's backend: WebGPU when asked and available, otherwise the CPU, with a
// sentence the page shows to say which adapter (or which CPU kernels) runs the maths, whether the
// adapter is a software one, or why WebGPU is off.
import { isSoftwareAdapter } from '../../../src/backend/adapter-kind.js';
import { getAdapterInfo, getCpuInfo, setBackend } from '../../../src/index.js';
import type { BackendChoice, BackendInfo } from '../protocol.js';

/** What the page told the worker about WebGPU (see InitOptions.pageHasWebGpu). */
let pageHasWebGpu = true;

/** Records whether the page itself has WebGPU. */
export function setPageHasWebGpu(has: boolean): void {
  pageHasWebGpu = has;
}

/** Switches to `wanted`, falling back to the CPU (and saying why) if WebGPU cannot start. */
export async function chooseBackend(wanted: BackendChoice): Promise<BackendInfo> {
  if (wanted === 'cpu') return cpu();
  if (!pageHasWebGpu) return cpu('this page has no navigator.gpu (WebGPU is off or unsupported)');
  try {
    await setBackend('webgpu');
    const info = getAdapterInfo();
    return { backend: 'webgpu', adapter: describeAdapter(), software: info ? isSoftwareAdapter(info) : false };
  } catch (err) {
    return cpu(err instanceof Error ? err.message : String(err));
  }
}

/** The CPU backend (its default: the WebAssembly SIMD kernels where the engine has SIMD128). */
async function cpu(fallbackReason?: string): Promise<BackendInfo> {
  await setBackend('cpu');
  return { backend: 'cpu', cpu: getCpuInfo() ?? undefined, ...(fallbackReason !== undefined ? { fallbackReason } : {}) };
}

/** "google swiftshader (fallback adapter)", from what the adapter reports. */
function describeAdapter(): string {
  const info = getAdapterInfo();
  if (!info) return 'unknown adapter';
  const name = [info.vendor, info.architecture, info.device, info.description].filter((s) => s !== '');
  // Browsers may hide the details; de-duplicate what they do report ("apple apple m1").
  const words = [...new Set(name.join(' ').split(/\s+/))].join(' ');
  return `${words || 'unnamed adapter'}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
}
