// Sets the backend `npm start` trains on and says which and why: --backend when given; else
// webgpu on a hardware adapter, cpu without one, and on a software adapter the faster of the
// two for this model and batch size, measured once and cached (backend-choice.ts decides).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getAdapterInfo, getCpuInfo, setBackend } from '../index.js';
import type { MnistModelSpec } from '../examples/mnist-models.js';
import {
  cachePath,
  decideBackend,
  describeChoice,
  machineKey,
  pickFaster,
  readCache,
  recordChoice,
  writeCache,
  type AdapterProbe,
  type CachedChoice,
} from './backend-choice.js';
import { measureTraining } from './backend-measure.js';
import { adapterName, adapterWarning, isSoftwareAdapter, withVulkanRetry } from './vulkan-env.js';

/** The CPU backend as it runs now, e.g. "cpu (WebAssembly SIMD, 2 threads)". */
const cpuLabel = (): string => `cpu (${getCpuInfo()?.detail ?? 'JavaScript'})`;

/** Neurite's version, from the package.json above this module (src/cli or dist). */
export function neuriteVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'neurite' && pkg.version) return pkg.version;
    } catch {
      // not ours: keep looking
    }
  }
  return 'unknown';
}

/** Tries WebGPU (leaving it the current backend when an adapter is found) and says what it found. */
async function probeWebGpu(): Promise<AdapterProbe> {
  try {
    await withVulkanRetry(() => setBackend('webgpu'));
  } catch (e) {
    return { kind: 'none', reason: (e as Error).message };
  }
  const info = getAdapterInfo() ?? {};
  const warning = adapterWarning(info);
  if (warning) console.warn(`Warning: ${warning}`);
  return { kind: isSoftwareAdapter(info) ? 'software' : 'hardware', name: adapterName(info) };
}

/** Sets the backend for training `spec` with batches of `batchSize`; returns the line that says which and why. */
export async function chooseBackend(requested: 'cpu' | 'webgpu' | undefined, spec: MnistModelSpec, batchSize: number, seed: number): Promise<string> {
  if (requested === 'cpu') {
    await setBackend('cpu');
    return `Backend: ${cpuLabel()} (--backend cpu)`;
  }
  if (requested === 'webgpu') {
    await withVulkanRetry(() => setBackend('webgpu'));
    const info = getAdapterInfo() ?? {};
    const warning = adapterWarning(info);
    if (warning) console.warn(`Warning: ${warning}`);
    return `Backend: webgpu (adapter: ${adapterName(info)}${isSoftwareAdapter(info) ? '; a software, CPU-emulated adapter' : ''}; --backend webgpu)`;
  }
  const adapter = await probeWebGpu();
  const name = adapter.kind === 'none' ? '' : adapter.name;
  const key = machineKey(spec.kind, batchSize, name, neuriteVersion());
  const path = cachePath();
  const text = readCache(path);
  const decision = decideBackend(adapter, key, text);
  if ('why' in decision) {
    if (decision.why === 'no-adapter') {
      await setBackend('cpu');
      return `Backend: ${cpuLabel()}: no WebGPU adapter (${decision.reason})`;
    }
    if (decision.why === 'hardware') return `Backend: webgpu on the hardware adapter '${name}'`;
    await setBackend(decision.backend);
    return describeChoice(decision.cached, name, path, false);
  }
  console.log(`The only WebGPU adapter is a software one ('${name}'); timing a few training steps of ${spec.kind} on it and on the CPU backend (${decision.miss === 'missing' ? 'no cached choice' : `cached choice ${decision.miss}`})…`);
  const webgpu = await measureTraining(spec, batchSize, seed);
  await setBackend('cpu');
  const cpu = await measureTraining(spec, batchSize, seed);
  const choice: CachedChoice = { backend: pickFaster({ cpu, webgpu }), samplesPerSecond: { cpu, webgpu }, measuredAt: new Date().toISOString() };
  await setBackend(choice.backend);
  const saved = writeCache(path, recordChoice(text, key, choice));
  const line = describeChoice(choice, name, path, true);
  return saved ? line : `${line.replace(/, cached in [^;]*;/, ', not cached: the file could not be written;')}`;
}
