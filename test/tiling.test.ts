// How the WebGPU backend chooses between register and workgroup tiles: the `tiling` option, then
// NEURITE_TILING, then the adapter's info; 'measure' times both once per adapter and caches the
// choice in the process and in localStorage. Never asserts which variant wins (that is timing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import type { Backend } from '../src/backend/backend.js';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from '../src/backend/webgpu/backend.js';
import { adapterKey, defaultTiling, forgetMeasuredTilings, preferredTiling } from '../src/backend/webgpu/tiling-choice.js';
import { probeCalls, tilingProbeRuns } from '../src/backend/webgpu/tiling-probe.js';
import { BACKENDS } from './helpers/backends.js';
import { normRelativeError } from './helpers/close.js';
import { uniform } from './helpers/random.js';

const gpu = BACKENDS.includes('webgpu');

describe('default tiling by adapter info', () => {
  const info = { vendor: '', architecture: '', device: '', description: '', isFallbackAdapter: false };
  it('classifies software adapters and named GPUs, and measures adapters that report nothing', () => {
    expect(defaultTiling({ ...info, vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true })).toBe('register');
    expect(defaultTiling({ ...info, vendor: 'nvidia', architecture: 'hopper' })).toBe('workgroup');
    expect(defaultTiling({ ...info, isFallbackAdapter: true })).toBe('register');
    expect(defaultTiling(info)).toBe('measure');
  });

  it("the probe's warm-up builds the same pipelines as its timed calls, so compilation is never timed", () => {
    for (const tiling of ['register', 'workgroup'] as const) {
      const calls = probeCalls(tiling);
      expect(calls.map((c) => c.name)).toEqual(['matMul', 'conv2d']);
      for (const { call, warm } of calls) {
        expect(warm.key).toBe(call.key);
        expect(call.key).toContain(tiling);
      }
    }
  });
});

/** A Map standing in for a browser's localStorage. */
function fakeLocalStorage(): Map<string, string> & { getItem(k: string): string | null; setItem(k: string, v: string): void } {
  const m = new Map<string, string>();
  return Object.assign(m, { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) });
}

/** Float64 matMul [M,K]·[K,N]. */
function refMatMul(a: Float64Array, b: Float64Array, M: number, K: number, N: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) out[i * N + j] += a[i * K + k] * b[k * N + j];
  return out;
}

/** Float64 'valid' conv2d, stride 1: x [B,H,W,C] ⋆ f [kh,kw,C,O]. */
function refConv(x: Float64Array, f: Float64Array, [B, H, W, C]: number[], [kh, kw, , O]: number[]): Float64Array {
  const oh = H - kh + 1;
  const ow = W - kw + 1;
  const out = new Float64Array(B * oh * ow * O);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let o = 0; o < O; o++) {
          let s = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++)
              for (let c = 0; c < C; c++) s += x[((b * H + y + i) * W + xx + j) * C + c] * f[((i * kw + j) * C + c) * O + o];
          out[((b * oh + y) * ow + xx) * O + o] = s;
        }
  return out;
}

describe.runIf(gpu)('tiling choice on webgpu', () => {
  let previous: Backend;
  let savedEnv: string | undefined;
  let storage: ReturnType<typeof fakeLocalStorage>;
  let measured: WebGpuBackend;
  const created: WebGpuBackend[] = [];

  async function create(options: WebGpuOptions): Promise<WebGpuBackend> {
    const b = await createWebGpuBackend(options);
    created.push(b);
    return b;
  }

  beforeAll(async () => {
    previous = engine.backend;
    savedEnv = process.env.NEURITE_TILING;
    delete process.env.NEURITE_TILING;
    forgetMeasuredTilings();
    storage = fakeLocalStorage();
    (globalThis as { localStorage?: unknown }).localStorage = storage;
    const runs = tilingProbeRuns();
    const t0 = performance.now();
    measured = await create({ tiling: 'measure' });
    console.log(`[tiling] probe + device: ${(performance.now() - t0).toFixed(0)} ms; ${JSON.stringify(measured.tilingChoice)}`);
    expect(tilingProbeRuns()).toBe(runs + 1);
  });

  afterAll(() => {
    delete (globalThis as { localStorage?: unknown }).localStorage;
    if (savedEnv === undefined) delete process.env.NEURITE_TILING;
    else process.env.NEURITE_TILING = savedEnv;
    engine.setBackend(previous);
    for (const b of created) b.destroy();
  });

  it("'measure' times both variants and picks the one with the lower time", () => {
    const { tiling, source, timings } = measured.tilingChoice;
    expect(source).toBe('measured');
    for (const ms of [timings!.register, timings!.workgroup]) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0);
    }
    expect(tiling).toBe(timings!.register <= timings!.workgroup ? 'register' : 'workgroup');
    expect(measured.preferences.tiling).toBe(tiling);
    // The probe's dispatches are not left in the new backend's stats.
    expect(measured.stats().dispatches).toBe(0);
  });

  it('getAdapterInfo reports the choice, its source and the timings', () => {
    engine.setBackend(measured);
    const info = nt.getAdapterInfo()!;
    expect(info.tiling).toEqual(measured.tilingChoice);
    expect(info.vendor).toBe(measured.adapterInfo.vendor);
  });

  it('a second backend on the same adapter reuses the measured choice without timing again', async () => {
    const runs = tilingProbeRuns();
    const again = await create({ tiling: 'measure' });
    expect(again.tilingChoice).toEqual({ ...measured.tilingChoice, source: 'cached' });
    expect(tilingProbeRuns()).toBe(runs);
    expect(again.stats().dispatches).toBe(0);
  });

  it('recalls the choice from localStorage after the process forgets it (a page reload)', async () => {
    expect([...storage.keys()].some((k) => k.endsWith(adapterKey(measured.adapterInfo)))).toBe(true);
    forgetMeasuredTilings();
    const runs = tilingProbeRuns();
    const reloaded = await create({ tiling: 'measure' });
    expect(reloaded.tilingChoice).toEqual({ ...measured.tilingChoice, source: 'cached' });
    expect(tilingProbeRuns()).toBe(runs);
  });

  it('runs matMul and conv2d correctly with the measured choice', async () => {
    engine.setBackend(measured);
    const [M, K, N] = [13, 37, 21];
    const a = uniform(M * K);
    const b = uniform(K * N);
    const xs = [2, 9, 11, 5];
    const fs = [3, 3, 5, 7];
    const x = uniform(xs.reduce((p, q) => p * q));
    const f = uniform(fs.reduce((p, q) => p * q));
    const [mm, conv] = nt.tidy(() => [
      nt.matMul(nt.tensor(Float32Array.from(a), [M, K]), nt.tensor(Float32Array.from(b), [K, N])),
      nt.conv2d(nt.tensor(Float32Array.from(x), xs), nt.tensor(Float32Array.from(f), fs)),
    ]);
    const kernels = nt.stats().dispatches;
    expect(kernels).toBeGreaterThanOrEqual(2);
    expect(normRelativeError(await mm.data(), refMatMul(a, b, M, K, N))).toBeLessThan(1e-3);
    expect(normRelativeError(await conv.data(), refConv(x, f, xs, fs))).toBeLessThan(1e-3);
    mm.dispose();
    conv.dispose();
  });

  it('the tiling option and NEURITE_TILING override the adapter info and the cache', async () => {
    const runs = tilingProbeRuns();
    for (const tiling of ['register', 'workgroup'] as const) {
      const b = await create({ tiling });
      expect(b.tilingChoice).toEqual({ tiling, source: 'option' });
      expect(b.preferences.tiling).toBe(tiling);
    }
    try {
      process.env.NEURITE_TILING = 'workgroup';
      expect((await create({})).tilingChoice).toEqual({ tiling: 'workgroup', source: 'env' });
      expect((await create({ tiling: 'register' })).tilingChoice).toEqual({ tiling: 'register', source: 'option' });
      process.env.NEURITE_TILING = 'measure';
      expect((await create({})).tilingChoice.source).toBe('cached');
    } finally {
      delete process.env.NEURITE_TILING;
    }
    const byInfo = await create({});
    expect(byInfo.tilingChoice).toEqual({ tiling: preferredTiling(byInfo.adapterInfo), source: 'adapter-info' });
    expect(tilingProbeRuns()).toBe(runs);
  });

  it('rejects an unknown tiling, naming setBackend and the allowed values', async () => {
    // Through setBackend too, where the WebGPU backend already exists (the test helpers created it).
    await expect(nt.setBackend('webgpu', { tiling: 'fastest' as never })).rejects.toThrow(nt.ArgumentError);
    await expect(createWebGpuBackend({ tiling: 'fastest' as never })).rejects.toThrow(nt.ArgumentError);
    await expect(createWebGpuBackend({ tiling: 'fastest' as never })).rejects.toThrow(
      "setBackend(webgpu): tiling must be one of 'register', 'workgroup', 'measure', got 'fastest'",
    );
    try {
      process.env.NEURITE_TILING = 'regster';
      await expect(createWebGpuBackend({})).rejects.toThrow(/setBackend\(webgpu\): NEURITE_TILING must be one of 'register', 'workgroup', 'measure', got 'regster'/);
    } finally {
      delete process.env.NEURITE_TILING;
    }
  });
});
