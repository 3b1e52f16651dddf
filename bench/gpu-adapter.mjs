// Finding the GPU for `npm run bench:gpu`: which Vulkan ICD files and loader exist (printed, since
// a lent machine may lack either), a Dawn instance installed as navigator.gpu for both libraries,
// and one retry naming the NVIDIA ICD when the loader's own search found only software.
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { isSoftwareAdapter, prepareVulkanEnv } from '../dist/cli/vulkan-env.js';

/** Where the Vulkan loader looks for ICD files on Linux. */
const LOADER_ICD_DIRS = ['/usr/local/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d'];
/** Where NVIDIA's container toolkit puts its ICD, which the loader does not search. */
const OTHER_ICD_DIRS = ['/usr/local/nvidia/share/vulkan/icd.d'];
const LIBVULKAN_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu'];

function jsonFiles(dir) {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** ICD files on this machine: those the loader finds by itself, and others. */
export function icdFiles() {
  return { loader: LOADER_ICD_DIRS.flatMap(jsonFiles), other: OTHER_ICD_DIRS.flatMap(jsonFiles) };
}

/** The Vulkan loader library's path, or null: without it Dawn finds no adapter at all. */
export function libvulkanPath() {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean), ...LIBVULKAN_DIRS];
  return dirs.map((d) => join(d, 'libvulkan.so.1')).find((p) => existsSync(p)) ?? null;
}

/** An NVIDIA ICD file on this machine, or null. */
function nvidiaIcd({ loader, other }) {
  return [...loader, ...other].find((f) => /nvidia/i.test(f)) ?? null;
}

/**
 * Creates Dawn's instance (kept by the caller for the process's life) and installs it as
 * navigator.gpu; returns it with the high-performance adapter it found (or null) and `notes`,
 * the [what, value] lines it printed (to stderr) about the machine. Where only a software adapter (or none) is found and an NVIDIA ICD
 * exists, a fresh instance is tried with VK_DRIVER_FILES naming it.
 */
export async function findGpu() {
  const notes = [];
  const log = (what, value) => {
    notes.push([what, value]);
    console.error(`${what}: ${value}`);
  };
  const icds = icdFiles();
  log('Vulkan ICD files (loader dirs)', icds.loader.join(', ') || 'none');
  if (icds.other.length) log('other Vulkan ICD files', icds.other.join(', '));
  log('Vulkan loader', libvulkanPath() ?? 'libvulkan.so.1 not found (carry it and set LD_LIBRARY_PATH; see bench/README.md)');
  const nvidia = nvidiaIcd(icds);
  if (nvidia && !icds.loader.includes(nvidia) && !process.env.VK_DRIVER_FILES && !process.env.VK_ICD_FILENAMES) {
    // The loader would not find it: name it (this replaces the loader's list: the run is for the GPU).
    process.env.VK_DRIVER_FILES = nvidia;
    log('VK_DRIVER_FILES', `${nvidia} (the loader finds no NVIDIA ICD by itself)`);
  }
  prepareVulkanEnv();
  const dawn = await import('webgpu');
  Object.assign(globalThis, dawn.globals);
  let instance = dawn.create([]);
  let adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
  if ((!adapter || isSoftwareAdapter(adapter.info)) && nvidia && process.env.VK_DRIVER_FILES !== nvidia) {
    log('retry', `only ${adapter ? 'a software adapter' : 'no adapter'} found; again with VK_DRIVER_FILES=${nvidia}`);
    process.env.VK_DRIVER_FILES = nvidia;
    delete process.env.VK_ICD_FILENAMES;
    const retry = dawn.create([]);
    const found = await retry.requestAdapter({ powerPreference: 'high-performance' });
    if (found && !isSoftwareAdapter(found.info)) [instance, adapter] = [retry, found];
  }
  if (typeof globalThis.navigator === 'undefined') globalThis.navigator = {};
  Object.defineProperty(globalThis.navigator, 'gpu', { value: instance, configurable: true });
  return { instance, adapter, notes };
}
