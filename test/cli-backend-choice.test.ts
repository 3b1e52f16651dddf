// The backend `npm start` picks without --backend: the pure decision (hardware → webgpu, no
// adapter → cpu, software → the cached choice or a measurement), the cache file (hit, miss,
// mismatch, corrupt; written atomically), and the measurement itself (short, leaks nothing).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memory, setBackend } from '../src/index.js';
import {
  cachePath,
  decideBackend,
  describeChoice,
  lookupChoice,
  pickFaster,
  readCache,
  recordChoice,
  writeCache,
  type CachedChoice,
  type ChoiceKey,
} from '../src/cli/backend-choice.js';
import { measureTraining } from '../src/cli/backend-measure.js';
import { neuriteVersion } from '../src/cli/choose-backend.js';
import { MNIST_MODELS } from '../src/examples/mnist-models.js';

const key: ChoiceKey = { model: 'keras-cnn', batchSize: 64, adapter: 'Google / SwiftShader Device', cpu: 'AMD EPYC', cores: 2, node: 'v20.20.2', neurite: '0.1.0' };
const choice: CachedChoice = { backend: 'cpu', samplesPerSecond: { cpu: 520, webgpu: 48 }, measuredAt: '2026-12-07T21:00:00.000Z' };
const software = { kind: 'software', name: key.adapter } as const;

describe('backend choice', () => {
  it('a hardware adapter → webgpu, without measuring or reading the cache', () => {
    expect(decideBackend({ kind: 'hardware', name: 'NVIDIA H100' }, key, recordChoice(null, key, choice))).toEqual({ backend: 'webgpu', why: 'hardware' });
  });

  it('no adapter → cpu, with the reason', () => {
    expect(decideBackend({ kind: 'none', reason: 'no adapter found' }, key, null)).toEqual({ backend: 'cpu', why: 'no-adapter', reason: 'no adapter found' });
  });

  it('a software adapter → the cached choice on a hit', () => {
    const text = recordChoice(null, key, choice);
    expect(decideBackend(software, key, text)).toEqual({ backend: 'cpu', why: 'cached', cached: choice });
    const faster = { ...choice, backend: 'webgpu' as const, samplesPerSecond: { cpu: 10, webgpu: 90 } };
    expect(decideBackend(software, key, recordChoice(text, key, faster))).toMatchObject({ backend: 'webgpu', why: 'cached' });
  });

  it('a software adapter → measure when the cache is missing, corrupt or for something else', () => {
    expect(decideBackend(software, key, null)).toEqual({ measure: true, miss: 'missing' });
    expect(decideBackend(software, key, '{"version":1,"entr')).toEqual({ measure: true, miss: 'corrupt' });
    expect(decideBackend(software, key, '[]')).toEqual({ measure: true, miss: 'corrupt' });
    const bad = JSON.stringify({ version: 1, entries: [{ key, choice: { backend: 'tpu' } }] });
    expect(decideBackend(software, key, bad)).toEqual({ measure: true, miss: 'corrupt' });
    const text = recordChoice(null, key, choice);
    for (const change of [{ model: 'lstm' }, { batchSize: 32 }, { adapter: 'llvmpipe' }, { cpu: 'Intel Xeon' }, { cores: 16 }, { node: 'v22.0.0' }, { neurite: '0.2.0' }]) {
      expect(decideBackend(software, { ...key, ...change }, text)).toEqual({ measure: true, miss: 'mismatch' });
    }
  });

  it('the cache keeps one entry per model and batch size, and drops entries of another machine or version', () => {
    const lstm = { ...key, model: 'lstm' };
    let text = recordChoice(null, key, choice);
    text = recordChoice(text, lstm, { ...choice, backend: 'webgpu' });
    expect(lookupChoice(text, key)).toEqual(choice);
    expect(lookupChoice(text, lstm)).toMatchObject({ backend: 'webgpu' });
    text = recordChoice(text, key, { ...choice, measuredAt: 'later' });
    expect((JSON.parse(text) as { entries: unknown[] }).entries).toHaveLength(2);
    expect(lookupChoice(text, key)).toMatchObject({ measuredAt: 'later' });
    const upgraded = { ...key, neurite: '0.2.0' };
    text = recordChoice(text, upgraded, choice);
    expect((JSON.parse(text) as { entries: unknown[] }).entries).toHaveLength(1);
    expect(lookupChoice(text, key)).toBe('mismatch');
    expect(recordChoice('not json', key, choice)).toBe(recordChoice(null, key, choice));
  });

  it('picks the faster, cpu on a tie, and says so', () => {
    expect(pickFaster({ cpu: 520, webgpu: 48 })).toBe('cpu');
    expect(pickFaster({ cpu: 40, webgpu: 48 })).toBe('webgpu');
    expect(pickFaster({ cpu: 48, webgpu: 48 })).toBe('cpu');
    expect(describeChoice(choice, 'SwiftShader', '/c.json', true)).toBe(
      "Backend: cpu (WebAssembly SIMD): 520 samples/s vs 48 on the software WebGPU adapter 'SwiftShader' (measured just now, cached in /c.json; --backend webgpu to override)",
    );
    expect(describeChoice({ ...choice, backend: 'webgpu' }, 'SwiftShader', '/c.json', false)).toMatch(/^Backend: webgpu on the software adapter 'SwiftShader': 48 samples\/s vs 520 .*measured 2026-12-07.*--backend cpu to override/);
  });

  it("keys the cache by the package's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(neuriteVersion()).toBe(pkg.version);
  });

  describe('the cache file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'neurite-choice-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is at $NEURITE_BACKEND_CACHE, else under node_modules/.cache/neurite', () => {
      expect(cachePath({ NEURITE_BACKEND_CACHE: '/x/y.json' }, '/repo')).toBe('/x/y.json');
      expect(cachePath({}, '/repo')).toBe('/repo/node_modules/.cache/neurite/backend-choice.json');
    });

    it('is written atomically, creating its folder, and read back; unreadable reads as missing', () => {
      const path = join(dir, 'sub', 'choice.json');
      expect(readCache(path)).toBeNull();
      expect(writeCache(path, recordChoice(null, key, choice))).toBe(true);
      expect(readdirSync(join(dir, 'sub'))).toEqual(['choice.json']);
      expect(lookupChoice(readCache(path), key)).toEqual(choice);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ version: 1 });
      expect(writeCache(join(path, 'inside-a-file.json'), '{}')).toBe(false);
    });
  });

  it('measures a few training steps on the CPU backend and frees what it made', async () => {
    await setBackend('cpu');
    const before = memory().numTensors;
    const t0 = performance.now();
    const rate = await measureTraining(MNIST_MODELS.mlp, 32, 1, { warmup: 1, seconds: 0.2, minSteps: 2 });
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(rate).toBeGreaterThan(0);
    expect(memory().numTensors).toBe(before);
    const ae = await measureTraining(MNIST_MODELS.autoencoder, 8, 1, { warmup: 1, seconds: 0, minSteps: 1 });
    expect(ae).toBeGreaterThan(0);
    expect(memory().numTensors).toBe(before);
  });
});
