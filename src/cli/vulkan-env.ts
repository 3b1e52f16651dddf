// Which Vulkan drivers Dawn sees in Node, decided so that a hardware GPU is never hidden:
// SwiftShader (a CPU emulator) is *added* to the loader's list with VK_ADD_DRIVER_FILES, never
// put in place of it as VK_ICD_FILENAMES does. Used by `npm start`, the vitest config, the
// benchmarks and the test helpers; `decideVulkanEnv` is pure, the rest reads the machine.
import { existsSync, readdirSync } from 'node:fs';
import { adapterName, isSoftwareAdapter, type AdapterSummary } from '../backend/adapter-kind.js';

// The adapter classification lives in src/backend/adapter-kind.ts (shared with the browser);
// re-exported here for the scripts and tests that import it from this module.
export { adapterName, isSoftwareAdapter, type AdapterSummary };

/** Where Debian's chromium package installs SwiftShader's Vulkan ICD. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The facts the decision rests on. */
export interface VulkanEnvInputs {
  /** The process environment (only the Vulkan loader's variables and XDG_RUNTIME_DIR are read). */
  env: Readonly<Record<string, string | undefined>>;
  /** SwiftShader's ICD file when it exists, else null. */
  swiftShaderIcd: string | null;
  /** Device files suggesting a hardware GPU (/dev/nvidia0, /dev/dri/renderD128, /dev/kfd). */
  hardwareHints: readonly string[];
  /** The machine's installed Vulkan driver manifests (the loader's standard folders); none when omitted. */
  installedIcds?: readonly string[];
  /** undefined: before the first try; null: no adapter was found; else the adapter found. */
  adapter?: AdapterSummary | null;
}

/** What to do. */
export interface VulkanEnvDecision {
  /** Variables to set before Dawn's instance is created (the loader reads them then). */
  set: Record<string, string>;
  /** True when no adapter was found and another try, with `set` applied and a fresh Dawn instance, may find one. */
  retry: boolean;
  /** Said to the user when a software adapter runs while a hardware GPU seems to exist. */
  warning?: string;
}

/**
 * Decides the loader's environment. Before the first try: add SwiftShader's ICD with
 * VK_ADD_DRIVER_FILES (Dawn ranks hardware adapters above it, so it only serves where nothing
 * else exists), unless the user chose the driver list with VK_ICD_FILENAMES or VK_DRIVER_FILES.
 * After no adapter was found: retry with VK_ICD_FILENAMES listing every installed driver and then
 * SwiftShader, for loaders older than 1.3.207 that ignore VK_ADD_DRIVER_FILES: the list keeps the
 * machine's own drivers, so it adds SwiftShader without hiding any of them. After
 * an adapter was found: warn if it is software while device files suggest a hardware GPU.
 */
export function decideVulkanEnv({ env, swiftShaderIcd, hardwareHints, installedIcds = [], adapter }: VulkanEnvInputs): VulkanEnvDecision {
  const chosenList = (['VK_ICD_FILENAMES', 'VK_DRIVER_FILES'] as const).find((name) => env[name]);
  if (adapter === undefined) {
    const set: Record<string, string> = {};
    // Vulkan loaders complain on every start without it.
    if (!env.XDG_RUNTIME_DIR) set.XDG_RUNTIME_DIR = '/tmp';
    const added = (env.VK_ADD_DRIVER_FILES ?? '').split(':').filter(Boolean);
    if (!chosenList && swiftShaderIcd && !added.includes(swiftShaderIcd)) {
      set.VK_ADD_DRIVER_FILES = [...added, swiftShaderIcd].join(':');
    }
    return { set, retry: false };
  }
  if (adapter === null) {
    const retry = !chosenList && !!swiftShaderIcd;
    const drivers = [...installedIcds.filter((f) => f !== swiftShaderIcd), swiftShaderIcd].join(':');
    return { set: retry ? { VK_ICD_FILENAMES: drivers } : {}, retry };
  }
  if (!isSoftwareAdapter(adapter) || hardwareHints.length === 0) return { set: {}, retry: false };
  const seen = `WebGPU runs on a software adapter (${adapterName(adapter)}), CPU-emulated and slow, though this machine seems to have a GPU (${hardwareHints.join(', ')})`;
  const warning = chosenList
    ? `${seen}: ${chosenList}=${env[chosenList]} replaces the Vulkan loader's driver list and hides it. Unset ${chosenList}; SwiftShader is then only added as a fallback (VK_ADD_DRIVER_FILES).`
    : `${seen}, but the Vulkan loader found no driver for it: install the GPU's Vulkan driver and its ICD file (/usr/share/vulkan/icd.d/ or /etc/vulkan/icd.d/), or name it with VK_ADD_DRIVER_FILES.`;
  return { set: {}, retry: false, warning };
}

/** Paths of the entries of `dir` whose names match `pattern`, sorted; none when `dir` cannot be read. */
function filesIn(dir: string, pattern: RegExp): string[] {
  try {
    return readdirSync(dir).filter((name) => pattern.test(name)).sort().map((name) => `${dir}/${name}`);
  } catch {
    return [];
  }
}

/** Device files on this machine that suggest a hardware GPU (Linux; none elsewhere). */
export function hardwareGpuHints(): string[] {
  return [...filesIn('/dev', /^(nvidia\d+|kfd)$/), ...filesIn('/dev/dri', /^renderD\d+$/)];
}

/** Driver manifests in the Vulkan loader's standard folders (Linux; none elsewhere). */
export function installedVulkanIcds(): string[] {
  return ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'].flatMap((dir) => filesIn(dir, /\.json$/));
}

/** The decision's inputs read from this process and machine. */
export function machineFacts(adapter?: AdapterSummary | null): VulkanEnvInputs {
  const swiftShaderIcd = existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : null;
  return { env: process.env, swiftShaderIcd, hardwareHints: hardwareGpuHints(), installedIcds: installedVulkanIcds(), adapter };
}

/** Applies the decision for this machine before any Dawn instance exists; returns what was set. */
export function prepareVulkanEnv(): Record<string, string> {
  const { set } = decideVulkanEnv(machineFacts());
  Object.assign(process.env, set);
  return set;
}

/**
 * Runs `acquire` (say `() => setBackend('webgpu')`) with the decision applied, and once more
 * with the retry's environment when it fails and a retry may help. Throws the first error when
 * the retry fails too: it says why the machine's own drivers gave nothing.
 */
export async function withVulkanRetry<T>(acquire: () => Promise<T>): Promise<T> {
  prepareVulkanEnv();
  try {
    return await acquire();
  } catch (first) {
    const { set, retry } = decideVulkanEnv(machineFacts(null));
    if (!retry) throw first;
    Object.assign(process.env, set);
    try {
      return await acquire();
    } catch {
      throw first;
    }
  }
}

/** The warning for an adapter found on this machine, if any (see `decideVulkanEnv`). */
export function adapterWarning(adapter: AdapterSummary): string | undefined {
  return decideVulkanEnv(machineFacts(adapter)).warning;
}
