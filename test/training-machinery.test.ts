// What a training step of the tutorial CNN costs on WebGPU: one submit per step (more only when
// the dispatch cap splits it), no pipeline compilations once the first two steps have run, no
// buffer creations once the step plan is built (step 3), and memory that stays flat over 200 steps. Counted with stats() inside
// fit's batch callbacks. WebGPU only: the CPU backend has no submits or pipelines to count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS } from './helpers/backends.js';
import { integers, uniform } from './helpers/random.js';

const gpu = BACKENDS.includes('webgpu');
const CAP = 64; // the default maxDispatchesPerSubmit
/**
 * Steps before nothing is created: step 1 makes the optimizer's slots, steps 2 and 3 are recorded,
 * and step 3's recording, matching step 2's, becomes the step plan, which allocates its
 * temporaries then (by exact size, where the eager step's pool shares buffers within a size class).
 */
const WARM_STEPS = 3;

function tutorialCnn(): nt.Sequential {
  const L = nt.layers;
  const model = nt.sequential({
    layers: [
      L.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', seed: 1 }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', seed: 2 }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', seed: 3 }),
      L.flatten(),
      L.dense({ units: 64, activation: 'relu', seed: 4 }),
      L.dense({ units: 10, activation: 'softmax', seed: 5 }),
    ],
  });
  model.compile({ optimizer: nt.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

interface StepCost {
  stats: nt.BackendStats;
  numTensors: number;
  bytesInUse: number;
}

/** Fits one epoch and records each step's counters and the memory after it. */
async function recordSteps(model: nt.Sequential, steps: number, batchSize: number): Promise<StepCost[]> {
  const n = steps * batchSize;
  const x = nt.tensor(Float32Array.from(uniform(n * 784, 0, 1)), [n, 28, 28, 1]);
  const y = nt.tensor(integers(n, 10), [n], 'int32');
  const costs: StepCost[] = [];
  await model.fit(x, y, {
    epochs: 1,
    batchSize,
    shuffle: false,
    verbose: 0,
    logEvery: steps + 1, // no mid-epoch reads: the steps themselves are what is counted
    callbacks: {
      onBatchBegin: () => nt.resetStats(),
      onBatchEnd: () => {
        const m = nt.memory();
        costs.push({ stats: nt.stats(), numTensors: m.numTensors, bytesInUse: m.bytesInUse });
      },
    },
  });
  nt.dispose([x, y]);
  return costs;
}

describe.runIf(gpu)('a tutorial CNN training step on webgpu', () => {
  beforeAll(() => nt.setBackend('webgpu'));
  afterAll(() => nt.setBackend('cpu'));

  it('submits once per step (or as the dispatch cap implies), compiles nothing after two steps, creates no buffers once the plan is built, nor bind groups once settled', async () => {
    const model = tutorialCnn();
    const costs = await recordSteps(model, 10, 16);
    expect(costs).toHaveLength(10);
    for (const [i, { stats }] of costs.entries()) {
      expect(stats.readbacks, `step ${i + 1} reads nothing back`).toBe(0);
      expect(stats.submits, `step ${i + 1}: ${stats.dispatches} dispatches`).toBe(Math.ceil(stats.dispatches / CAP));
      if (i >= 2) expect(stats.pipelineCompilations, `step ${i + 1} compiles`).toBe(0);
      if (i >= WARM_STEPS) expect(stats.bufferCreations, `step ${i + 1} creates buffers`).toBe(0);
    }
    // After the first step (which creates the optimizer's slots) every step does the same work.
    expect(new Set(costs.slice(1).map((c) => c.stats.dispatches)).size).toBe(1);
    console.info(`[neurite] tutorial CNN step: ${costs[1].stats.dispatches} dispatches, ${costs[1].stats.submits} submits`);
    // The pool hands out buffers oldest first, so each op soon gets the same buffers every step and
    // finds its bind group in the cache.
    const bindGroups = costs.map((c) => c.stats.bindGroupCreations);
    console.info(`[neurite] bind groups created per step: ${bindGroups.join(', ')}`);
    expect(bindGroups.slice(-2), 'bind groups created in the last two steps').toEqual([0, 0]);
    model.dispose();
  });

  it('keeps memory flat over 200 steps', async () => {
    const model = tutorialCnn();
    const costs = await recordSteps(model, 200, 2);
    const settled = costs[WARM_STEPS - 1];
    for (const [i, c] of costs.entries()) {
      if (i < WARM_STEPS) continue;
      expect(c.numTensors, `live tensors after step ${i + 1}`).toBe(settled.numTensors);
      expect(c.bytesInUse, `bytes in use after step ${i + 1}`).toBe(settled.bytesInUse);
      expect(c.stats.bufferCreations, `buffers created at step ${i + 1}`).toBe(0);
    }
    model.dispose();
  });
});
