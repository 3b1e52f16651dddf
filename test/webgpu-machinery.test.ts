// The WebGPU backend's machinery: dispatches batched into few submits, pipelines compiled once
// per kernel shape-independent key, buffers reused from the pool, flat memory, and GPU errors
// raised as exceptions. These run on WebGPU only: the CPU backend has no such machinery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { engine } from '../src/engine.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { linearWorkgroups } from '../src/backend/kernel.js';
import { BACKENDS } from './helpers/backends.js';
import { uniform } from './helpers/random.js';

const gpu = BACKENDS.includes('webgpu');

/** An elementwise chain (fused into one kernel) and a reduction: several dispatches, nothing read back. */
function smallStep(n: number): nt.Tensor {
  return nt.tidy(() => {
    const x = nt.tensor(Float32Array.from(uniform(n)));
    const y = nt.relu(nt.add(nt.mul(x, x), nt.exp(x)));
    return nt.sum(nt.sigmoid(y));
  });
}

describe.runIf(gpu)('webgpu machinery', () => {
  let backend: WebGpuBackend;
  beforeAll(async () => {
    backend = await createWebGpuBackend({ maxDispatchesPerSubmit: 1000 });
    engine.setBackend(backend);
  });
  afterAll(async () => {
    await nt.setBackend('cpu');
    backend.destroy();
  });

  it('records dispatches and submits once, at the read', async () => {
    nt.resetStats();
    const out = smallStep(1000);
    const before = nt.stats();
    expect(before.submits).toBe(0);
    expect(before.dispatches).toBeGreaterThanOrEqual(2);
    await out.data();
    const after = nt.stats();
    expect(after.submits).toBe(1);
    expect(after.readbacks).toBe(1);
    out.dispose();
  });

  it('compiles each kernel once, whatever the sizes', async () => {
    // Sizes that are multiples of 4 take the four-lane elementwise kernels, the others the one-lane
    // ones; sums over more than 1024 elements run in two passes.
    for (const n of [100, 9, 4099]) await smallStep(n).data();
    nt.resetStats();
    for (const n of [7, 31, 1000, 5003]) {
      const out = smallStep(n);
      await out.data();
      out.dispose();
    }
    expect(nt.stats().pipelineCompilations).toBe(0);
  });

  it('reuses pooled buffers: no creations and flat memory over repeated steps', async () => {
    // A training loop submits once per step (fit flushes at the end of each step).
    const step = () => {
      smallStep(5000).dispose();
      nt.flush();
    };
    for (let i = 0; i < 3; i++) step();
    await nt.sync();
    const tensorsBefore = nt.memory().numTensors;
    const bytesBefore = nt.memory().bytesInUse;
    nt.resetStats();
    for (let i = 0; i < 50; i++) step();
    await nt.sync();
    expect(nt.stats().bufferCreations).toBe(0);
    expect(nt.stats().submits).toBe(50);
    expect(nt.memory().numTensors).toBe(tensorsBefore);
    expect(nt.memory().bytesInUse).toBe(bytesBefore);
    expect(nt.memory().bytesPooled).toBeGreaterThan(0);
  });

  it('reuses freed buffers as kernel outputs even before a submit', async () => {
    for (let i = 0; i < 3; i++) smallStep(5000).dispose();
    await nt.sync();
    nt.resetStats();
    for (let i = 0; i < 20; i++) smallStep(5000).dispose();
    // Only the uploaded input of each step needs a buffer that no pending dispatch reads.
    expect(nt.stats().bufferCreations).toBeLessThanOrEqual(20);
    expect(nt.stats().submits).toBe(0);
    await nt.sync();
  });

  it('covers tensors beyond one dispatch dimension (more than 65535 workgroups)', async () => {
    const n = 65535 * 64 + 4099; // one workgroup row cannot hold it: the grid folds into 2-D
    const x = uniform(n, -1, 1);
    const [y, s] = nt.tidy(() => {
      const t = nt.tensor(Float32Array.from(x));
      const r = nt.relu(nt.add(t, 0.25));
      return [r, nt.sum(r)];
    });
    const got = await y.data();
    let worst = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.max(Math.fround(x[i] + 0.25), 0);
      worst = Math.max(worst, Math.abs(got[i] - e));
      total += e;
    }
    expect(worst).toBe(0);
    expect(Math.abs((await s.data())[0] - total) / total).toBeLessThan(1e-4);
    nt.dispose([y, s]);
  });

  it('splits long chains at the dispatch cap', async () => {
    const capped = await createWebGpuBackend({ maxDispatchesPerSubmit: 4 });
    engine.setBackend(capped);
    nt.setElementwiseFusion(false); // each add its own dispatch
    try {
      nt.resetStats();
      const x = nt.ones([10]);
      let y = x;
      for (let i = 0; i < 10; i++) y = nt.add(y, 1);
      // fill + 10 scalar-adds = 11 dispatches → submits at 4 and 8, then the read submits the rest.
      expect(Array.from(await y.data())).toEqual(new Array(10).fill(11));
      expect(nt.stats().dispatches).toBe(11);
      expect(nt.stats().submits).toBe(3);
    } finally {
      nt.setElementwiseFusion(true);
      engine.setBackend(backend);
      capped.destroy();
    }
  });

  it('raises a WGSL compile error as a BackendError naming the kernel', async () => {
    const x = nt.ones([4]);
    await nt.sync();
    const out = engine.makeTensor([4], 'float32');
    backend.run(
      {
        name: 'brokenKernel',
        key: 'test:broken',
        wgsl: () => '@compute @workgroup_size(64) fn main() { let a: f32 = undefined_thing; }',
        uniforms: [],
        workgroups: linearWorkgroups(4),
        cpu: () => {},
      },
      [x.storage!],
      [out.storage!],
    );
    await expect(out.data()).rejects.toThrow(/brokenKernel: the WGSL kernel 'test:broken' failed to compile/);
    // The backend stays usable after the failure.
    const y = nt.add(x, 1);
    expect(Array.from(await y.data())).toEqual([2, 2, 2, 2]);
    nt.dispose([x, out, y]);
  });

  it('in Node, polls a long wait about once a millisecond instead of on every event-loop turn, and reads the same values', async () => {
    // Dawn's Node binding reschedules its poll with setImmediate while a map is pending
    // (completion-wait.ts); vitest runs in Node. Unthrottled, that is ~10⁵ polls a second.
    expect(backend.completionWait.enabled).toBe(true);
    const a = nt.tensor(Float32Array.from(uniform(384 * 384)), [384, 384]);
    const product = async () => {
      const c = nt.matMul(a, a);
      const before = backend.completionWait.delayedPolls;
      const t0 = performance.now();
      const values = await c.data();
      c.dispose();
      return { values, ms: performance.now() - t0, delayed: backend.completionWait.delayedPolls - before };
    };
    const spin = await product();
    const runs = [await product(), await product()];
    for (const { values, ms, delayed } of runs) {
      expect(values).toEqual(spin.values);
      // A real GPU may finish within the first 2 ms, polled at full rate; SwiftShader takes tens
      // of ms, polled through the timer: at most one poll a millisecond, and the binding's polls
      // reach it (a binding that stopped calling the global setImmediate would show 0 here).
      if (ms > 20) expect(delayed).toBeGreaterThan(ms / 10);
      expect(delayed).toBeLessThanOrEqual(ms + 1);
    }
    a.dispose();
  });

  it('reports a lost device clearly, and setBackend starts a new one', async () => {
    await nt.setBackend('webgpu');
    const lost = engine.backend as WebGpuBackend;
    const x = nt.ones([3]);
    lost.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(() => nt.add(x, 1)).toThrow(/device was lost.*setBackend\('webgpu'\)/);
    await nt.setBackend('webgpu');
    expect(engine.backend).not.toBe(lost);
    const y = nt.add(nt.ones([3]), 1);
    expect(Array.from(await y.data())).toEqual([2, 2, 2]);
    engine.setBackend(backend);
  });
});
