// Which matMul/conv tiling a WebGPU backend uses, and why: the `tiling` option, else NEURITE_TILING,
// else the adapter's info — or, for 'measure', a short timing of both variants (tiling-probe.ts)
// remembered per adapter for the process and, in browsers, in localStorage across page loads.
import { ArgumentError } from '../../errors.js';
import type { Backend } from '../backend.js';
import type { Tiling, TilingOption } from '../kernel.js';
import type { AcquiredDevice } from './device.js';
import { probeTiling, type TilingTimings } from './tiling-probe.js';

type Info = AcquiredDevice['adapterInfo'];

/** The tiling an adapter runs fastest: 'register' on fallback/CPU adapters (SwiftShader, llvmpipe), else 'workgroup'. */
export function preferredTiling(info: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean }): Tiling {
  const software = /swiftshader|llvmpipe|lavapipe|software/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  return info.isFallbackAdapter || software ? 'register' : 'workgroup';
}

/** The accepted tiling options, for validation and error messages. */
const TILING_OPTIONS: readonly TilingOption[] = ['register', 'workgroup', 'measure'];

/**
 * NEURITE_TILING=register|workgroup|measure from the environment (Node), to run everything with one
 * variant or have it timed. Unset or empty: undefined; any other value throws, so a typo is not silently ignored.
 */
function tilingFromEnv(): TilingOption | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NEURITE_TILING;
  if (env === undefined || env === '') return undefined;
  if ((TILING_OPTIONS as readonly string[]).includes(env)) return env as TilingOption;
  throw new ArgumentError(`setBackend(webgpu): NEURITE_TILING must be one of ${TILING_OPTIONS.map((t) => `'${t}'`).join(', ')}, got '${env}'`);
}

/** The tiling a backend runs, where the choice came from, and the timings when it was measured. */
export interface TilingChoice {
  tiling: Tiling;
  /**
   * 'option': setBackend's `tiling`; 'env': NEURITE_TILING; 'adapter-info': the adapter's info
   * (`preferredTiling`); 'measured': timed now; 'cached': timed earlier for this adapter.
   */
  source: 'option' | 'env' | 'adapter-info' | 'measured' | 'cached';
  /** Milliseconds per tiling (a round of each probe that ran, summed; see tiling-probe.ts), when the choice was timed. */
  timings?: TilingTimings;
}

/** What was asked for, before any timing. */
export interface TilingRequest {
  tiling: TilingOption;
  source: 'option' | 'env' | 'adapter-info';
}

/** The tiling asked for by the option, else NEURITE_TILING; throws an ArgumentError for anything else. */
export function requestedTiling(option: unknown): TilingRequest | undefined {
  if (option !== undefined) {
    if (!(TILING_OPTIONS as readonly unknown[]).includes(option)) {
      const got = typeof option === 'string' ? `'${option}'` : String(option);
      throw new ArgumentError(`setBackend(webgpu): tiling must be one of ${TILING_OPTIONS.map((t) => `'${t}'`).join(', ')}, got ${got}`);
    }
    return { tiling: option as TilingOption, source: 'option' };
  }
  const env = tilingFromEnv();
  return env === undefined ? undefined : { tiling: env, source: 'env' };
}

/**
 * The default for an adapter. Software adapters (SwiftShader, llvmpipe) and named GPUs are
 * classified by their info, without timing: that costs nothing, and for them the rule is reliable.
 * An adapter that reports nothing (browsers may blank vendor, architecture and description for
 * privacy) cannot be classified, so its two variants are timed once ('measure'); the choice is
 * cached, so the cost is paid once per adapter, not per page load.
 */
export function defaultTiling(info: Info): TilingOption {
  const blank = !info.isFallbackAdapter && !`${info.vendor}${info.architecture}${info.description}`.trim();
  return blank ? 'measure' : preferredTiling(info);
}

/** The request resolved without timing; 'measure' falls back to the info rule until `measuredTiling` answers. */
export function immediateTiling(request: TilingRequest, info: Info): TilingChoice {
  if (request.tiling !== 'measure') return { tiling: request.tiling, source: request.source };
  return { tiling: preferredTiling(info), source: 'adapter-info' };
}

/** Measured choices of this process, by adapter key. */
const remembered = new Map<string, { tiling: Tiling; timings: TilingTimings }>();
const STORAGE_PREFIX = 'neurite.tiling:';

/** The key choices are cached under: what identifies the adapter. */
export function adapterKey(info: Info): string {
  return [info.vendor, info.architecture, info.device, info.description].join('/');
}

/** The page's localStorage where there is one (browsers); access can throw (sandboxed frames, Node without a file). */
function localStore(): Pick<globalThis.Storage, 'getItem' | 'setItem'> | undefined {
  try {
    return (globalThis as { localStorage?: globalThis.Storage }).localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

function recall(key: string): { tiling: Tiling; timings: TilingTimings } | undefined {
  const known = remembered.get(key);
  if (known) return known;
  try {
    const stored = JSON.parse(localStore()?.getItem(STORAGE_PREFIX + key) ?? 'null') as { tiling?: unknown; timings?: TilingTimings } | null;
    if (stored && (stored.tiling === 'register' || stored.tiling === 'workgroup') && stored.timings) {
      const entry = { tiling: stored.tiling as Tiling, timings: stored.timings };
      remembered.set(key, entry);
      return entry;
    }
  } catch {
    // An unreadable entry is as good as none: time again.
  }
  return undefined;
}

function remember(key: string, entry: { tiling: Tiling; timings: TilingTimings }): void {
  remembered.set(key, entry);
  try {
    localStore()?.setItem(STORAGE_PREFIX + key, JSON.stringify(entry));
  } catch {
    // Storage full or forbidden: the process-wide cache still holds it.
  }
}

/** Forgets the measured choices of this process (not localStorage's); for tests. */
export function forgetMeasuredTilings(): void {
  remembered.clear();
}

/**
 * The faster tiling on `backend`'s adapter: recalled from an earlier timing of the same adapter, or
 * timed now by the probe (whose work `backend` runs). A probe that fails falls back to the info rule.
 */
export async function measuredTiling(backend: Backend, info: Info): Promise<TilingChoice> {
  const key = adapterKey(info);
  const known = recall(key);
  if (known) return { ...known, timings: { ...known.timings }, source: 'cached' };
  let timings: TilingTimings;
  try {
    timings = await probeTiling(backend);
  } catch (e) {
    console.warn(`[neurite] timing the kernel tilings failed (${(e as Error).message}); choosing by the adapter's info`);
    return { tiling: preferredTiling(info), source: 'adapter-info' };
  }
  const tiling: Tiling = timings.register <= timings.workgroup ? 'register' : 'workgroup';
  remember(key, { tiling, timings });
  return { tiling, source: 'measured', timings: { ...timings } };
}
