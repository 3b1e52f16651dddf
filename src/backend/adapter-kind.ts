// Classifying a WebGPU adapter from what it reports: a software (CPU-emulated) adapter such as
// SwiftShader or llvmpipe, or a hardware GPU. Pure, with no imports, so Node tooling
// (src/cli/vulkan-env.ts, the configs) and the browser (the demo's worker) share it.

/** What an adapter reports of itself (the fields of GPUAdapterInfo that matter here). */
export interface AdapterSummary {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** True for CPU emulators: SwiftShader, llvmpipe/lavapipe, or an adapter that says it is a fallback. */
export function isSoftwareAdapter(adapter: AdapterSummary): boolean {
  const text = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].join(' ');
  return !!adapter.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software/i.test(text);
}

/** A one-line name of an adapter, for logs. */
export function adapterName(adapter: AdapterSummary): string {
  const parts = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter((p) => p && p.trim());
  return [...new Set(parts)].join(' / ') || 'unnamed adapter';
}
