// The device-loss page: trains a small model on WebGPU, destroys the device from a batch callback
// in the middle of fit, and reports what the error said, whether the weights (the host copy) are
// readable, and how training went on after setBackend('webgpu'). e2e/device-loss.spec.ts drives it.
import * as nt from '../src/index.js';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.js';
import { mulberry32 } from '../src/data/random.js';
import { engine } from '../src/engine.js';

/** What the page found, for the spec to check. */
export interface DeviceLossReport {
  adapter: string;
  error: { name: string; message: string; isDeviceLost: boolean; epoch: number; batch: number; weightsStep: number | null } | null;
  /** Backends the weights lived on after the loss. */
  weightBackends: string[];
  /** The weights read back after the loss (flattened). */
  weights: number[];
  /** The weights read right after the step the host copy was taken at, in the same run. */
  weightsAtCopy: number[] | null;
  /** Losses of the fit after setBackend('webgpu'). */
  lossesAfter: number[];
  sameDevice: boolean;
}

async function flatWeights(model: nt.Sequential): Promise<number[]> {
  const parts = await Promise.all(model.weights.map((v) => v.data()));
  return parts.flatMap((p) => Array.from(p));
}

async function run(seed: number): Promise<DeviceLossReport> {
  await nt.setBackend('webgpu');
  const info = nt.getAdapterInfo();
  const random = mulberry32(seed);
  const n = 40;
  const x = Float32Array.from({ length: n * 6 }, () => random() * 2 - 1);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * 6] + x[i * 6 + 1] > 0 ? 1 : 0));
  const model = nt.sequential({
    layers: [nt.layers.dense({ inputShape: [6], units: 8, activation: 'relu', seed }), nt.layers.dense({ units: 2, activation: 'softmax', seed: seed + 1 })],
  });
  model.compile({ optimizer: nt.adam({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
  const train = nt.data.arrays(x, [n, 6], y);
  const lost = engine.backend;
  // The weights after every step, read in the callbacks, to compare with the copy fit kept.
  model.build();
  const afterStep: number[][] = [await flatWeights(model)];
  let error: DeviceLossReport['error'] = null;
  try {
    await model.fit(train, {
      epochs: 3,
      batchSize: 4,
      logEvery: 2,
      verbose: 0,
      callbacks: {
        onBatchEnd: async (batch: number) => {
          afterStep.push(await flatWeights(model));
          if (batch === 6) (engine.backend as WebGpuBackend).device.destroy();
        },
      },
    });
  } catch (e) {
    const f = e as nt.FitDeviceLostError;
    error = { name: f.name, message: f.message, isDeviceLost: e instanceof nt.DeviceLostError, epoch: f.epoch, batch: f.batch, weightsStep: f.weightsStep };
  }
  const weightBackends = [...new Set(model.weights.map((v) => v.backend.name))];
  const weights = await flatWeights(model);
  await nt.setBackend('webgpu');
  const history = await model.fit(train, { epochs: 2, batchSize: 4, verbose: 0 });
  const step = error?.weightsStep;
  return {
    adapter: info ? `${info.vendor} ${info.architecture} ${info.description}` : 'none',
    error,
    weightBackends,
    weights,
    weightsAtCopy: step === undefined || step === null ? null : afterStep[step],
    lossesAfter: history.history.loss,
    sameDevice: engine.backend === lost,
  };
}

declare global {
  interface Window {
    deviceLoss: { run: typeof run };
  }
}

window.deviceLoss = { run };
