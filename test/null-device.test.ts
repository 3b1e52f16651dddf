// The null WebGPU device (bench/null-webgpu.mjs) that `npm run bench` times host cost on: Neurite's
// webgpu backend and TF.js's train a small CNN on it end to end, and Neurite's fit reads nothing
// back from the device in the middle of an epoch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installNullGpu, NULL_ADAPTER_INFO, NULL_READBACK_VALUE, type NullGpu } from '../bench/null-webgpu.mjs';
import { adam, getAdapterInfo, layers, memory, sequential, setBackend, stats, tensor, type Sequential } from '../src/index.js';
import { SEED } from './helpers/random.js';

const BATCH = 8;
const BATCHES_PER_EPOCH = 5;
const N = BATCH * BATCHES_PER_EPOCH;

/** A CNN with every kind of layer the tutorial CNN has, plus dropout, at small sizes. */
function smallCnn(): Sequential {
  return sequential({
    layers: [
      layers.conv2d({ inputShape: [9, 9, 1], filters: 4, kernelSize: 3, activation: 'relu', seed: SEED }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dropout({ rate: 0.25, seed: SEED + 1 }),
      layers.dense({ units: 5, activation: 'softmax', seed: SEED + 2 }),
    ],
  });
}

let gpu: NullGpu;
let restore: () => void;

beforeAll(async () => {
  ({ gpu, restore } = installNullGpu());
  await setBackend('webgpu');
});

afterAll(async () => {
  await setBackend('cpu');
  restore();
});

describe('the null WebGPU device', () => {
  it('is the adapter Neurite found', () => {
    expect(getAdapterInfo()).toMatchObject({ description: NULL_ADAPTER_INFO.description, isFallbackAdapter: false });
  });

  it('runs Neurite fit, evaluate and predict end to end, with no readback mid-epoch', async () => {
    const model = smallCnn();
    model.compile({ optimizer: adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const x = tensor(new Float32Array(N * 81).map((_, i) => Math.sin(i)), [N, 9, 9, 1]);
    const y = tensor(Int32Array.from({ length: N }, (_, i) => i % 5), [N], 'int32');
    gpu.resetCounters();
    const readsAtBatchEnd: number[][] = [];
    const history = await model.fit(x, y, {
      epochs: 2,
      batchSize: BATCH,
      shuffle: false,
      verbose: 0,
      logEvery: 100,
      callbacks: {
        onEpochBegin: () => void readsAtBatchEnd.push([]),
        onBatchEnd: () => void readsAtBatchEnd.at(-1)!.push(gpu.counters.reads),
      },
    });
    expect(readsAtBatchEnd.map((r) => r.length)).toEqual([BATCHES_PER_EPOCH, BATCHES_PER_EPOCH]);
    for (const epoch of readsAtBatchEnd) expect(new Set(epoch).size).toBe(1); // no read between batches
    expect(gpu.counters.reads).toBeGreaterThanOrEqual(2); // each epoch's logs come from one read
    expect(gpu.counters.reads).toBeLessThanOrEqual(4);
    expect(gpu.counters.dispatches).toBeGreaterThan(BATCHES_PER_EPOCH * 2 * 5);
    expect(gpu.counters.submits).toBeGreaterThanOrEqual(BATCHES_PER_EPOCH * 2);
    // The logs hold what the device "read back": finite values, NaN never.
    for (const values of Object.values(history.history)) for (const v of values) expect(Number.isFinite(v)).toBe(true);

    const predictions = model.predict(x, { batchSize: BATCH });
    expect(predictions.shape).toEqual([N, 5]);
    expect(Array.from(await predictions.data())).toEqual(new Array(N * 5).fill(NULL_READBACK_VALUE));
    predictions.dispose();
    const evaluate = async (): Promise<number[]> => {
      const evaluated = [await model.evaluate(x, y, { batchSize: BATCH })].flat();
      const scores = await Promise.all(evaluated.map(async (t) => (await t.data())[0]));
      evaluated.forEach((t) => t.dispose());
      return scores;
    };
    await evaluate(); // the first call may keep state for its step plan
    const tensorsBeforeEvaluate = memory().numTensors;
    for (const s of await evaluate()) expect(Number.isFinite(s)).toBe(true);
    expect(memory().numTensors).toBe(tensorsBeforeEvaluate);
    expect(stats().readbacks).toBeGreaterThan(0);
    x.dispose();
    y.dispose();
    model.dispose();
  });

  it('runs a TF.js 4.22 webgpu fit end to end', async () => {
    // TF.js registers its webgpu backend on import only where navigator.gpu exists: import now.
    // By computed names, untyped: TF.js's types bring an older @webgpu/types that clashes with ours.
    const load = (name: string): Promise<any> => import(/* @vite-ignore */ name); // eslint-disable-line @typescript-eslint/no-explicit-any
    const tf = await load('@tensorflow/tfjs-core');
    await load('@tensorflow/tfjs-backend-webgpu');
    const tfl = await load('@tensorflow/tfjs-layers');
    expect(await tf.setBackend('webgpu')).toBe(true);
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [9, 9, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 5, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
    const x = tf.tensor(new Float32Array(N * 81).map((_, i) => Math.cos(i)), [N, 9, 9, 1]);
    const y = tf.tensor(Float32Array.from({ length: N }, (_, i) => i % 5), [N]);
    gpu.resetCounters();
    const history = await model.fit(x, y, { epochs: 1, batchSize: BATCH, verbose: 0 });
    expect(history.history.loss).toHaveLength(1);
    expect(Number.isFinite(history.history.loss[0] as number)).toBe(true);
    expect(gpu.counters.dispatches).toBeGreaterThan(0);
    tf.dispose([x, y]);
    model.dispose();
  });
});
