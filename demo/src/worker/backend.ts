// Picks the worker's backend: WebGPU when asked and available, otherwise the CPU, with a
// sentence the page shows to say which adapter runs the maths or why WebGPU is off.
import { getAdapterInfo, setBackend } from '../../../src/index.js';
import type { BackendChoice, BackendInfo } from '../protocol.js';

/** What the page told the worker about WebGPU (see InitOptions.pageHasWebGpu). */
let pageHasWebGpu = true;

/** Records whether the page itself has WebGPU. */
export function setPageHasWebGpu(has: boolean): void {
  pageHasWebGpu = has;
}

/** Switches to `wanted`, falling back to the CPU (and saying why) if WebGPU cannot start. */
export async function chooseBackend(wanted: BackendChoice): Promise<BackendInfo> {
  if (wanted === 'cpu') {
    await setBackend('cpu');
    return { backend: 'cpu' };
  }
  if (!pageHasWebGpu) {
    await setBackend('cpu');
    return { backend: 'cpu', fallbackReason: 'this page has no navigator.gpu (WebGPU is off or unsupported)' };
  }
  try {
    await setBackend('webgpu');
    return { backend: 'webgpu', adapter: describeAdapter() };
  } catch (err) {
    await setBackend('cpu');
    return { backend: 'cpu', fallbackReason: err instanceof Error ? err.message : String(err) };
  }
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
