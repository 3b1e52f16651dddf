// Which backend `npm start` trains on when --backend is not given. A hardware WebGPU adapter wins
// outright; a software one (SwiftShader, llvmpipe, a fallback adapter) is often slower than the
// CPU backend's WebAssembly kernels, so then both are timed on the model and batch size about to
// be trained and the faster is kept, cached in a JSON file keyed by everything the timing
// depends on. `decideBackend`, `lookupChoice`, `recordChoice` and `pickFaster` are pure; the
// file helpers at the end do the I/O.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';

/** What the WebGPU probe found. */
export type AdapterProbe =
  | { kind: 'none'; reason: string }
  | { kind: 'hardware'; name: string }
  | { kind: 'software'; name: string };

/** What a cached measurement is valid for: if any of it changes, measure again. */
export interface ChoiceKey {
  model: string;
  batchSize: number;
  adapter: string;
  cpu: string;
  cores: number;
  node: string;
  neurite: string;
}

/** Training throughput of each backend, in samples per second. */
export interface Measurement {
  cpu: number;
  webgpu: number;
}

/** A cached decision. */
export interface CachedChoice {
  backend: 'cpu' | 'webgpu';
  samplesPerSecond: Measurement;
  /** ISO date of the measurement. */
  measuredAt: string;
}

/** Why the cache gave no decision. */
export type CacheMiss = 'missing' | 'corrupt' | 'mismatch';

/** What to do. */
export type BackendDecision =
  | { backend: 'cpu'; why: 'no-adapter'; reason: string }
  | { backend: 'webgpu'; why: 'hardware' }
  | { backend: 'cpu' | 'webgpu'; why: 'cached'; cached: CachedChoice }
  | { measure: true; miss: CacheMiss };

const CACHE_VERSION = 1;

/** The cache key as a string: fields in a fixed order. */
export function keyString(key: ChoiceKey): string {
  return JSON.stringify([key.model, key.batchSize, key.adapter, key.cpu, key.cores, key.node, key.neurite]);
}

/** Same machine and software, whatever the model and batch size. */
function sameMachine(a: ChoiceKey, b: ChoiceKey): boolean {
  return a.adapter === b.adapter && a.cpu === b.cpu && a.cores === b.cores && a.node === b.node && a.neurite === b.neurite;
}

interface CacheFile {
  version: number;
  entries: { key: ChoiceKey; choice: CachedChoice }[];
}

function parseCache(text: string | null): CacheFile | 'missing' | 'corrupt' {
  if (text === null) return 'missing';
  try {
    const file = JSON.parse(text) as CacheFile;
    if (file?.version !== CACHE_VERSION || !Array.isArray(file.entries)) return 'corrupt';
    return file;
  } catch {
    return 'corrupt';
  }
}

function validChoice(c: unknown): c is CachedChoice {
  const choice = c as CachedChoice | null;
  return (
    !!choice &&
    (choice.backend === 'cpu' || choice.backend === 'webgpu') &&
    Number.isFinite(choice.samplesPerSecond?.cpu) &&
    Number.isFinite(choice.samplesPerSecond?.webgpu)
  );
}

/** The cached choice for `key` in the cache file's text (null: no file), or why there is none. */
export function lookupChoice(text: string | null, key: ChoiceKey): CachedChoice | CacheMiss {
  const file = parseCache(text);
  if (typeof file === 'string') return file;
  const want = keyString(key);
  const entry = file.entries.find((e) => e?.key && keyString(e.key) === want);
  if (!entry) return 'mismatch';
  return validChoice(entry.choice) ? entry.choice : 'corrupt';
}

/** The cache file's new text with `choice` recorded for `key`; entries of other machines or versions are dropped. */
export function recordChoice(text: string | null, key: ChoiceKey, choice: CachedChoice): string {
  const file = parseCache(text);
  const want = keyString(key);
  const kept = typeof file === 'string' ? [] : file.entries.filter((e) => e?.key && sameMachine(e.key, key) && keyString(e.key) !== want);
  const out: CacheFile = { version: CACHE_VERSION, entries: [...kept, { key, choice }] };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * The decision before any measurement: no adapter → cpu; a hardware adapter → webgpu; a
 * software adapter → the cached choice for `key`, or measure when the cache has none.
 */
export function decideBackend(adapter: AdapterProbe, key: ChoiceKey, cacheText: string | null): BackendDecision {
  if (adapter.kind === 'none') return { backend: 'cpu', why: 'no-adapter', reason: adapter.reason };
  if (adapter.kind === 'hardware') return { backend: 'webgpu', why: 'hardware' };
  const found = lookupChoice(cacheText, key);
  if (typeof found === 'string') return { measure: true, miss: found };
  return { backend: found.backend, why: 'cached', cached: found };
}

/** The faster backend of a measurement (cpu on a tie: it needs no adapter). */
export function pickFaster(m: Measurement): 'cpu' | 'webgpu' {
  return m.webgpu > m.cpu ? 'webgpu' : 'cpu';
}

const CPU_NAME = 'cpu (WebAssembly SIMD)';

/** The line that says which backend was picked and why. */
export function describeChoice(choice: CachedChoice, adapterName: string, cachePath: string, fresh: boolean): string {
  const { cpu, webgpu } = choice.samplesPerSecond;
  const r = (n: number) => (n >= 100 ? Math.round(n).toString() : n.toPrecision(2));
  const how = fresh ? `measured just now, cached in ${cachePath}` : `measured ${choice.measuredAt.slice(0, 10)}, cached in ${cachePath}`;
  const other = choice.backend === 'cpu' ? 'webgpu' : 'cpu';
  if (choice.backend === 'cpu') {
    return `Backend: ${CPU_NAME}: ${r(cpu)} samples/s vs ${r(webgpu)} on the software WebGPU adapter '${adapterName}' (${how}; --backend ${other} to override)`;
  }
  return `Backend: webgpu on the software adapter '${adapterName}': ${r(webgpu)} samples/s vs ${r(cpu)} on the CPU backend (${how}; --backend ${other} to override)`;
}

/** The key for this machine and process. */
export function machineKey(model: string, batchSize: number, adapter: string, neurite: string): ChoiceKey {
  const list = cpus();
  return { model, batchSize, adapter, cpu: list[0]?.model?.trim() ?? 'unknown', cores: list.length, node: process.version, neurite };
}

/** Where the choice is cached: $NEURITE_BACKEND_CACHE, else node_modules/.cache/neurite/backend-choice.json under the working directory. */
export function cachePath(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  return env.NEURITE_BACKEND_CACHE || join(cwd, 'node_modules', '.cache', 'neurite', 'backend-choice.json');
}

/** The cache file's text, or null when it cannot be read. */
export function readCache(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Writes the cache atomically (a temporary file renamed over it); false when it cannot be written. */
export function writeCache(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, path);
    return true;
  } catch {
    return false;
  }
}
