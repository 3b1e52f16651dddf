// A WebGPU device destroyed in the middle of fit: the call ends with a FitDeviceLostError naming
// the epoch and batch; the weights are the host copy of the last read, bit for bit those a run
// without the loss had after that step, and readable on the CPU; setBackend('webgpu') and fit go
// on (the optimizer's state restarted). Also: a model follows setBackend between CPU and WebGPU.
import { describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { engine } from '../src/engine.js';
import { HostCopy } from '../src/nn/host-copy.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { integers, uniform } from './helpers/random.js';

const N = 48;
const BATCH = 4;
/** Batches per epoch. */
const BATCHES = N / BATCH;
const LOG_EVERY = 3;
/** The device is destroyed at the end of this 0-based batch of the first epoch. */
const DESTROY_AFTER = 7;

function mlp(seed: number): nt.Sequential {
  return nt.sequential({
    layers: [
      nt.layers.dense({ inputShape: [5], units: 7, activation: 'relu', seed }),
      nt.layers.dropout({ rate: 0.2, seed: seed + 1 }),
      nt.layers.dense({ units: 3, activation: 'softmax', seed: seed + 2 }),
    ],
  });
}

function compiled(seed: number): { model: nt.Sequential; optimizer: nt.Optimizer } {
  const model = mlp(seed);
  const optimizer = nt.adam({ learningRate: 0.02 });
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return { model, optimizer };
}

/** The examples as a host data source (so a lost device takes no input tensors with it). */
function source(x: Float32Array, y: Int32Array): nt.DataSource {
  return nt.data.arrays(x, [N, 5], y);
}

async function weightsOf(model: nt.Sequential): Promise<Float32Array[]> {
  return Promise.all(model.weights.map(async (v) => Float32Array.from(await v.data())));
}

function destroyCurrentDevice(): void {
  (engine.backend as WebGpuBackend).device.destroy();
}

describe.each(BACKENDS.filter((b) => b === 'webgpu'))('a lost device on %s', (backend) => {
  it('ends fit with a clear error, keeps the last host copy readable, and training goes on after setBackend', async () => {
    await useBackend(backend);
    const x = Float32Array.from(uniform(N * 5));
    const y = integers(N, 3);
    const fitArgs = { epochs: 2, batchSize: BATCH, logEvery: LOG_EVERY, seed: 5, verbose: 0 as const };

    // The run without a loss, with the weights after every step of the first epoch.
    const reference = compiled(9);
    const afterStep: Float32Array[][] = [];
    await reference.model.fit(source(x, y), { ...fitArgs, epochs: 1, callbacks: { onBatchEnd: async () => void afterStep.push(await weightsOf(reference.model)) } });
    const initial = compiled(9);
    initial.model.build([null, 5]);
    const initialWeights = await weightsOf(initial.model);
    reference.model.dispose();
    initial.model.dispose();

    const { model, optimizer } = compiled(9);
    const lostBackend = engine.backend;
    const error = await model
      .fit(source(x, y), { ...fitArgs, callbacks: { onBatchEnd: (b: number) => void (b === DESTROY_AFTER && destroyCurrentDevice()) } })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(nt.FitDeviceLostError);
    expect(error).toBeInstanceOf(nt.DeviceLostError);
    expect(error).toBeInstanceOf(nt.BackendError);
    const lost = error as nt.FitDeviceLostError;
    console.info(`[neurite] ${lost.message}`);
    expect(lost.epoch).toBe(0);
    expect(lost.batch).toBe(DESTROY_AFTER + 1);
    // Reads start every LOG_EVERY batches; the copy is the last one that landed before the loss.
    expect(lost.weightsStep).not.toBeNull();
    expect(lost.weightsStep! % LOG_EVERY).toBe(0);
    expect(lost.weightsStep!).toBeLessThanOrEqual(DESTROY_AFTER + 1);
    expect(lost.message).toContain(`fit: the WebGPU device was lost (destroyed`);
    expect(lost.message).toContain(`during epoch 1, batch ${DESTROY_AFTER + 2}`);
    expect(lost.message).toContain(lost.weightsStep === 0 ? 'before the first step' : `after step ${lost.weightsStep} of this call`);
    expect(lost.message).toContain("The optimizer's state (its moments and step count) was lost with the device and starts again from its initial values");
    expect(lost.message).toContain("Call setBackend('webgpu') and fit again");

    // The weights are that host copy, on the CPU: bit for bit those of the run without the loss.
    const expected = lost.weightsStep === 0 ? initialWeights : afterStep[lost.weightsStep! - 1];
    expect(model.weights.every((v) => v.backend.name === 'cpu')).toBe(true);
    const held = model.getWeights();
    const readable = await Promise.all(held.map((t) => t.data()));
    readable.forEach((w, i) => expect(Array.from(w), `weight ${i}`).toEqual(Array.from(expected[i])));
    nt.dispose(held);
    expect(optimizer.variables!()).toEqual([]);

    // A new device: fit moves the model onto it, and the optimizer starts from step 0.
    await nt.setBackend('webgpu');
    expect(engine.backend).not.toBe(lostBackend);
    const history = await model.fit(source(x, y), { ...fitArgs, epochs: 1 });
    expect(Number.isFinite(history.history.loss[0])).toBe(true);
    expect(model.weights.every((v) => v.backend === engine.backend)).toBe(true);
    const [iterations] = optimizer.getWeights();
    expect(Array.from(await iterations.tensor.data())).toEqual([BATCHES]);
    iterations.tensor.dispose();
    const p = model.predict(nt.tensor(x.subarray(0, 10), [2, 5]));
    expect(Array.from(await p.data()).every(Number.isFinite)).toBe(true);
    p.dispose();
    model.dispose();
    optimizer.dispose();
  });

  it('says the weights are gone when no host copy was kept, and again when they are used', async () => {
    await useBackend(backend);
    const x = Float32Array.from(uniform(N * 5));
    const y = integers(N, 3);
    const { model, optimizer } = compiled(3);
    const error = await model
      .fit(source(x, y), { epochs: 1, batchSize: BATCH, verbose: 0, keepHostCopy: false, callbacks: { onBatchEnd: (b: number) => void (b === 1 && destroyCurrentDevice()) } })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(nt.FitDeviceLostError);
    expect((error as nt.FitDeviceLostError).weightsStep).toBeNull();
    expect((error as Error).message).toContain('no host copy was kept: keepHostCopy was off');
    await expect(model.weights[0].data()).rejects.toThrow(nt.DeviceLostError);
    await nt.setBackend('webgpu');
    await expect(model.fit(source(x, y), { epochs: 1, verbose: 0 })).rejects.toThrow(/weight '.*' was on a WebGPU device that was lost .* no host copy/);
    expect(() => model.predict(nt.tensor(x.subarray(0, 5), [1, 5]))).toThrow(nt.DeviceLostError);
    model.dispose();
    optimizer.dispose();
  });

  it('says so when the device was lost before fit could read the weights back', async () => {
    await useBackend(backend);
    const { model, optimizer } = compiled(6);
    model.build();
    destroyCurrentDevice();
    const error = await model.fit(source(Float32Array.from(uniform(N * 5)), integers(N, 3)), { epochs: 1, verbose: 0 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(nt.FitDeviceLostError);
    expect((error as nt.FitDeviceLostError).weightsStep).toBeNull();
    expect((error as Error).message).toContain('during epoch 1, batch 1 (step 1 of this fit call)');
    expect((error as Error).message).toContain('the device was lost before fit read them back');
    await nt.setBackend('webgpu');
    model.dispose();
    optimizer.dispose();
  });

  it('moves a model, and its optimizer state, between the CPU and WebGPU with setBackend', async () => {
    const x = Float32Array.from(uniform(N * 5));
    const y = integers(N, 3);
    await nt.setBackend('cpu');
    const { model, optimizer } = compiled(4);
    await model.fit(source(x, y), { epochs: 1, batchSize: BATCH, verbose: 0, seed: 1 });
    const onCpu = await weightsOf(model);
    const xs = nt.tensor(x.subarray(0, 10), [2, 5]);
    const cpuPrediction = await model.predict(xs).data();

    // predict carries host weights over synchronously; the values do not change on the way.
    await nt.setBackend('webgpu');
    const gpuPrediction = await model.predict(nt.tensor(x.subarray(0, 10), [2, 5])).data();
    gpuPrediction.forEach((p, i) => expect(Math.abs(p - cpuPrediction[i])).toBeLessThan(1e-5));
    expect(await weightsOf(model)).toEqual(onCpu);
    await model.fit(source(x, y), { epochs: 1, batchSize: BATCH, verbose: 0, seed: 2 });
    expect([...model.weights, ...optimizer.variables!()].every((v) => v.backend === engine.backend)).toBe(true);

    // And back: fit reads the WebGPU weights and Adam's state back (asynchronously) onto the CPU.
    const onGpu = await weightsOf(model);
    await nt.setBackend('cpu');
    const evaluated = (await model.evaluate(nt.tensor(x, [N, 5]), nt.tensor(y, [N], 'int32'))) as nt.Tensor[];
    expect(await weightsOf(model)).toEqual(onGpu);
    expect(Number.isFinite((await evaluated[0].data())[0])).toBe(true);
    await model.fit(source(x, y), { epochs: 1, batchSize: BATCH, verbose: 0, seed: 3 });
    const [iterations] = optimizer.getWeights();
    expect(Array.from(await iterations.tensor.data())).toEqual([3 * BATCHES]);
    model.dispose();
    optimizer.dispose();
  });
});

describe('host copies', () => {
  it('are kept only where memory can be lost', async () => {
    await nt.setBackend('cpu');
    expect(HostCopy.forBackend(engine.backend, [], true)).toBeNull();
    expect(engine.backend.lostReason).toBeNull();
  });
});
