// Memory over long runs, on every backend: 300 training steps keep live tensors and bytes in
// use flat after warm-up, and the leak report (memory().byOp, liveTensors()) names the op that
// made each live tensor, so a leak points at its source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, fitReadbackBytes, useBackend } from './helpers/backends.js';
import { integers, uniform } from './helpers/random.js';

describe.each(BACKENDS)('memory on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => nt.setBackend('cpu'));

  it('memory().byOp counts live tensors by the op that made them, and liveTensors() lists them', () => {
    const before = nt.memory();
    const ids = new Set(nt.liveTensors().map((t) => t.id));
    const x = nt.tensor([[1, 2, 3]], [1, 3]);
    const init = nt.ones([3, 2]);
    const w = nt.variable(init, { name: 'w' });
    const y = nt.matMul(x, w);
    const z = nt.tidy(() => nt.relu(nt.add(y, 1)));
    const r = nt.reshape(z, [2]);
    const after = nt.memory();
    const grown = Object.fromEntries(Object.entries(after.byOp).map(([op, n]) => [op, n - (before.byOp[op] ?? 0)]).filter(([, n]) => n !== 0));
    // ones() is a fill; the tidy's add was disposed, its relu returned.
    expect(grown).toEqual({ tensor: 1, fill: 1, variable: 1, matMul: 1, relu: 1, reshape: 1 });
    expect(after.numTensors - before.numTensors).toBe(6);
    const fresh = nt.liveTensors().filter((t) => !ids.has(t.id));
    expect(fresh.map((t) => [t.op, t.shape])).toEqual([
      ['tensor', [1, 3]],
      ['fill', [3, 2]],
      ['variable', [3, 2]],
      ['matMul', [1, 2]],
      ['relu', [1, 2]],
      ['reshape', [2]],
    ]);
    expect(fresh.find((t) => t.op === 'variable')).toMatchObject({ name: 'w', dtype: 'float32' });
    nt.dispose([x, init, w, y, z, r]);
    expect(nt.memory()).toMatchObject({ numTensors: before.numTensors, byOp: before.byOp });
  });

  it('trains 300 steps with live tensors and bytes in use flat after warm-up', async () => {
    const steps = 300;
    const batch = 4;
    const n = steps * batch;
    const model = nt.sequential({
      layers: [
        nt.layers.dense({ inputShape: [8, 8], units: 1, seed: 1 }), // per-row projection: a 3-d matMul
        nt.layers.flatten(),
        nt.layers.dense({ units: 12, activation: 'relu', seed: 2 }),
        nt.layers.dense({ units: 3, activation: 'softmax', seed: 3 }),
      ],
    });
    model.compile({ optimizer: nt.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const source = nt.data.arrays(Float32Array.from(uniform(n * 64)), [n, 8, 8], Int32Array.from(integers(n, 3)));
    const samples: nt.MemoryInfo[] = [];
    await model.fit(source, { epochs: 1, batchSize: batch, shuffle: true, seed: 5, verbose: 0, logEvery: 25, callbacks: { onBatchEnd: () => void samples.push(nt.memory()) } });
    expect(samples).toHaveLength(steps);
    // Warm-up: the first steps create the optimizer's slots and fill the buffer pool.
    const settled = samples.slice(10);
    const counts = new Set(settled.map((m) => m.numTensors));
    expect(counts.size, `live tensors per step after warm-up: ${[...counts].join(', ')}`).toBe(1);
    const inUse = settled.map((m) => m.bytesInUse);
    // A readback in flight may hold its staging buffer for a step or so, never growth: the running
    // sums (loss, accuracy, finite steps) and, on WebGPU, fit's host copy of the weights.
    expect(Math.max(...inUse) - Math.min(...inUse), `bytes in use ${Math.min(...inUse)}..${Math.max(...inUse)}`).toBeLessThanOrEqual(fitReadbackBytes(backend, model.countParams(), 3));
    const pooled = settled.map((m) => m.bytesPooled);
    expect(Math.max(...pooled.slice(-100)), 'the pool stops growing after warm-up').toBeLessThanOrEqual(Math.max(...pooled.slice(0, 100)));
    const byOpAtEnd = JSON.stringify(samples.at(-1)!.byOp);
    expect(JSON.stringify(settled[0].byOp), 'the same tensors by op at step 11 and at the end').toBe(byOpAtEnd);
    model.dispose();
  });
});
