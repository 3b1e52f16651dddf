// Step plans (src/graph/step-plans.ts): fit, evaluate, predict and trainOnBatch give the same
// results with plans on and off — bit for bit, since a replay runs the recorded kernels in the
// recorded order — over several epochs with dropout, a learning-rate change, validation and a
// partial last batch; plans are rebuilt when what they captured changes; the non-finite-loss
// guard still holds; memory stays flat while replaying.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { freshRng, uniform } from './helpers/random.js';

/** A small CNN with every kind of layer a plan must replay: conv, pooling, dropout, dense. */
function smallCnn(seed: number): nt.Sequential {
  return nt.sequential({
    layers: [
      nt.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', inputShape: [7, 7, 1], seed }),
      nt.layers.maxPooling2d({ poolSize: 2 }),
      nt.layers.flatten(),
      nt.layers.dropout({ rate: 0.3, seed: seed + 1 }),
      nt.layers.dense({ units: 4, activation: 'softmax', seed: seed + 2 }),
    ],
  });
}

/** n examples of 7×7 images with one-hot labels of 4 classes, from the test's fresh seed. */
function data(n: number): { x: Float32Array; y: Float32Array } {
  const x = Float32Array.from(uniform(n * 49, -1, 1));
  const y = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) y[i * 4 + ((x[i * 49] > 0 ? 1 : 0) + (x[i * 49 + 24] > 0 ? 2 : 0))] = 1;
  return { x, y };
}

async function weightsOf(model: nt.Sequential): Promise<Float32Array[]> {
  return Promise.all(model.weights.map(async (v) => (await v.data()) as Float32Array));
}

/** Trains a fresh model with plans on or off; returns its weights, history and a prediction. */
async function run(plans: boolean, modelSeed: number, d: { x: Float32Array; y: Float32Array }, n: number) {
  nt.setStepPlans(plans);
  const model = smallCnn(modelSeed);
  const optimizer = nt.adam({ learningRate: 0.01 });
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const xs = nt.tensor(d.x, [n, 7, 7, 1]);
  const ys = nt.tensor(d.y, [n, 4]);
  try {
    // 23 examples in batches of 4 with 5 held out: 18 trained, so the last batch has 2.
    const first = await model.fit(xs, ys, { epochs: 2, batchSize: 4, validationSplit: 0.2, seed: 3, verbose: 0 });
    optimizer.learningRate = 0.003;
    const second = await model.fit(xs, ys, { epochs: 4, initialEpoch: 2, batchSize: 4, validationSplit: 0.2, seed: 3, verbose: 0 });
    const onBatch = await model.trainOnBatch(xs, ys);
    const evaluated = (await model.evaluate(xs, ys, { batchSize: 5 })) as nt.Tensor[];
    const predicted = model.predict(xs, { batchSize: 6 });
    const result = {
      weights: await weightsOf(model),
      history: [first.history, second.history],
      onBatch,
      evaluated: await Promise.all(evaluated.map((t) => t.data())),
      predicted: await predicted.data(),
      stats: model.stepPlans.stats(),
    };
    nt.dispose([...evaluated, predicted]);
    return result;
  } finally {
    nt.dispose([xs, ys]);
    model.dispose();
    optimizer.dispose();
  }
}

describe.each(BACKENDS)('step plans on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  afterEach(() => nt.setStepPlans(true));

  it('train, evaluate and predict exactly as eager steps do, and are replayed', async () => {
    freshRng();
    const n = 23;
    const d = data(n);
    const eager = await run(false, 11, d, n);
    const planned = await run(true, 11, d, n);
    // Same kernels in the same order on the same backend: identical bits, not merely close.
    planned.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(eager.weights[i])));
    expect(planned.history).toEqual(eager.history);
    expect(planned.onBatch).toEqual(eager.onBatch);
    expect(planned.evaluated.map((v) => Array.from(v))).toEqual(eager.evaluated.map((v) => Array.from(v)));
    expect(Array.from(planned.predicted)).toEqual(Array.from(eager.predicted));
    expect(planned.history[1].loss.every(Number.isFinite)).toBe(true);
    // Each key (batch shape and kind) records two steps, and again after the rate change; the rest replay.
    expect(planned.stats.unplannable).toEqual({});
    expect(planned.stats.replayed).toBeGreaterThan(0);
    expect(eager.stats.replayed).toBe(0);
  });

  it('draw the same new dropout mask at every step as eager steps do', async () => {
    const losses = async (plans: boolean) => {
      nt.setStepPlans(plans);
      const model = nt.sequential({ layers: [nt.layers.dense({ units: 64, inputShape: [3], seed: 1 }), nt.layers.dropout({ rate: 0.5, seed: 5 })] });
      model.compile({ optimizer: nt.sgd({ learningRate: 0 }), loss: 'mse' });
      const xs = nt.ones([2, 3]);
      const ys = nt.zeros([2, 64]);
      // With a zero rate the weights stay put: each loss is the mean square of the units this step's mask kept.
      const out: number[] = [];
      for (let i = 0; i < 6; i++) out.push((await model.trainOnBatch(xs, ys)) as number);
      const replayed = model.stepPlans.stats().replayed;
      nt.dispose([xs, ys]);
      model.dispose();
      return { out, replayed };
    };
    const planned = await losses(true);
    const eager = await losses(false);
    expect(planned.replayed).toBeGreaterThan(0);
    expect(planned.out).toEqual(eager.out);
    expect(new Set(planned.out).size).toBe(planned.out.length);
  });

  it('are rebuilt when trainable flags, weights or the optimizer change', async () => {
    freshRng();
    const n = 8;
    const d = data(n);
    const xs = nt.tensor(d.x, [n, 7, 7, 1]);
    const ys = nt.tensor(d.y, [n, 4]);
    const model = smallCnn(21);
    model.compile({ optimizer: nt.sgd({ learningRate: 0.1 }), loss: 'categoricalCrossentropy' });
    const fit = () => model.fit(xs, ys, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 });
    await fit();
    expect(model.stepPlans.stats().replayed).toBeGreaterThan(0);

    // A frozen layer keeps its weights although the plan recorded before froze them updated it.
    const conv = model.layers[0];
    const frozen = await Promise.all(conv.weights.map((v) => v.data()));
    conv.trainable = false;
    await fit();
    const after = await Promise.all(conv.weights.map((v) => v.data()));
    after.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(frozen[i])));

    // Weights set from outside are the ones the next replayed step starts from: with a zero dense
    // layer the softmax is uniform, so the loss of that step is ln 4.
    for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
    const replayedBefore = model.stepPlans.stats().replayed;
    const dense = model.layers[4];
    const zeros = dense.weights.map((v) => nt.zeros(v.shape));
    dense.setWeights(zeros);
    nt.dispose(zeros);
    expect(await model.trainOnBatch(xs, ys)).toBeCloseTo(Math.log(4), 5);
    expect(model.stepPlans.stats().replayed).toBe(replayedBefore + 1);

    // A new optimizer (compile) takes effect: a zero rate leaves every weight as it is...
    conv.trainable = true;
    const optimizer = nt.sgd({ learningRate: 0 });
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const still = await weightsOf(model);
    await fit();
    (await weightsOf(model)).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(still[i])));
    // ...and so does a new learning rate of the same optimizer (a schedule).
    optimizer.learningRate = 0.1;
    await fit();
    (await weightsOf(model)).forEach((w, i) => expect(Array.from(w)).not.toEqual(Array.from(still[i])));
    nt.dispose([xs, ys]);
    model.dispose();
  });

  it('keep the non-finite-loss guard: a bad batch after the plan is built leaves the last good weights', async () => {
    freshRng();
    const n = 16;
    const d = data(n);
    const bad = d.y.slice();
    bad[13 * 4 + 1] = Number.NaN; // a label in the 4th batch of 4
    const train = async (y: Float32Array, count: number, plans: boolean) => {
      nt.setStepPlans(plans);
      const model = smallCnn(31);
      model.compile({ optimizer: nt.adam({ learningRate: 0.01 }), loss: 'categoricalCrossentropy' });
      const xs = nt.tensor(d.x.slice(0, count * 49), [count, 7, 7, 1]);
      const ys = nt.tensor(y.slice(0, count * 4), [count, 4]);
      const error = await model.fit(xs, ys, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, logEvery: 1 }).catch((e: unknown) => e);
      const weights = await weightsOf(model);
      const stats = model.stepPlans.stats();
      nt.dispose([xs, ys]);
      model.dispose();
      return { error, weights, stats };
    };
    const planned = await train(bad, n, true);
    expect(planned.error).toBeInstanceOf(nt.NonFiniteLossError);
    expect((planned.error as nt.NonFiniteLossError).step).toBe(3);
    expect(planned.stats.replayed).toBeGreaterThan(0);
    const good = await train(d.y, 12, false);
    expect(good.error).not.toBeInstanceOf(Error);
    planned.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(good.weights[i])));
  });

  it('keep memory flat while replaying', async () => {
    freshRng();
    const n = 8;
    const d = data(n);
    const model = smallCnn(41);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const xs = nt.tensor(d.x, [n, 7, 7, 1]);
    const ys = nt.tensor(d.y, [n, 4]);
    await model.fit(xs, ys, { epochs: 2, batchSize: 2, verbose: 0 });
    await nt.sync();
    const before = nt.memory();
    await model.fit(xs, ys, { epochs: 10, batchSize: 2, verbose: 0 });
    await nt.sync();
    const after = nt.memory();
    expect(model.stepPlans.stats().replayed).toBeGreaterThanOrEqual(40);
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.bytesInUse).toBe(before.bytesInUse);
    nt.dispose([xs, ys]);
    model.dispose();
  });
});
