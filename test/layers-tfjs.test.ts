// The newer layers (LSTM and GRU too) against TF.js 4.22 itself: models built in TF.js with random weights are
// saved in memory and loaded by Neurite, and Neurite's saved models are loaded by TF.js; the
// predictions must agree within 1e-5 both ways, so configs, weight order and maths all match.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import type { ModelArtifacts } from '../src/io/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { sizeOf } from './helpers/numeric.js';
import { integers, uniform } from './helpers/random.js';

// By computed names, untyped: TF.js's types bring an older @webgpu/types that clashes with ours.
/* eslint-disable @typescript-eslint/no-explicit-any */
const load = (name: string): Promise<any> => import(/* @vite-ignore */ name);
const tf = await load('@tensorflow/tfjs-core');
await load('@tensorflow/tfjs-backend-cpu');
const tfl = await load('@tensorflow/tfjs-layers');
await tf.setBackend('cpu');

/** A TF.js model's artifacts, saved in memory. */
async function tfjsArtifacts(model: any): Promise<ModelArtifacts> {
  let saved: ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a: ModelArtifacts) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  return saved!;
}

/** Gives every weight of a TF.js model fresh random values (variances positive). */
function randomizeTfjs(model: any): void {
  model.setWeights(model.getWeights().map((w: any) => tf.tensor(Float32Array.from(uniform(w.size, 0.2, 1.2)).map((v, i) => (i % 2 ? v : -v + 1.4)), w.shape)));
}

// The recurrent layers below use recurrentInitializer 'zeros' (their weights are randomised
// anyway): TF.js's orthogonal initializer fails under vitest (its QR sees another tfjs-core).
interface Case {
  name: string;
  build: () => any;
  input: () => { values: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
}

const CASES: Case[] = [
  {
    // Only the last axis for batchNormalization: TF.js's CPU batchNorm kernel cycles the mean,
    // variance, gamma and beta along the last dim whatever the axis, so it is wrong for others
    // (layers-reshaping.test.ts checks those against float64).
    name: 'zeroPadding2d, conv2d, batchNormalization, layerNormalization, globalAveragePooling2d',
    build: () =>
      tfl.sequential({
        layers: [
          tfl.layers.zeroPadding2d({ inputShape: [5, 6, 3], padding: [[1, 0], [2, 1]] }),
          tfl.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
          tfl.layers.batchNormalization({ axis: 3 }),
          tfl.layers.layerNormalization({ axis: -1 }),
          tfl.layers.globalAveragePooling2d({}),
          tfl.layers.dense({ units: 3 }),
        ],
      }),
    input: () => ({ values: Float32Array.from(uniform(2 * 5 * 6 * 3)), shape: [2, 5, 6, 3], dtype: 'float32' }),
  },
  {
    name: 'globalMaxPooling2d, permute, reshape',
    build: () =>
      tfl.sequential({
        layers: [
          tfl.layers.permute({ inputShape: [4, 5, 3], dims: [2, 1, 3] }),
          tfl.layers.reshape({ targetShape: [5, -1, 2] }),
          tfl.layers.globalMaxPooling2d({}),
          tfl.layers.dense({ units: 2, activation: 'tanh' }),
        ],
      }),
    input: () => ({ values: Float32Array.from(uniform(3 * 4 * 5 * 3)), shape: [3, 4, 5, 3], dtype: 'float32' }),
  },
  {
    name: 'embedding, repeatVector, layerNormalization over two axes',
    build: () =>
      tfl.sequential({
        layers: [
          tfl.layers.embedding({ inputDim: 9, outputDim: 4, inputLength: 6 }),
          tfl.layers.flatten(),
          tfl.layers.repeatVector({ n: 3 }),
          tfl.layers.layerNormalization({ axis: [1, 2] }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
    input: () => ({ values: integers(4 * 6, 9), shape: [4, 6], dtype: 'int32' }),
  },
  {
    name: 'a MobileNet-style block: depthwiseConv2d, batchNormalization, separableConv2d',
    build: () =>
      tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [9, 8, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
          tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }),
          tfl.layers.batchNormalization({}),
          tfl.layers.separableConv2d({ filters: 4, kernelSize: [2, 3], depthMultiplier: 1, activation: 'relu' }),
          tfl.layers.globalAveragePooling2d({}),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
    input: () => ({ values: Float32Array.from(uniform(2 * 9 * 8 * 2)), shape: [2, 9, 8, 2], dtype: 'float32' }),
  },
  {
    name: 'upSampling2d, conv2dTranspose (valid and same, strided)',
    build: () =>
      tfl.sequential({
        layers: [
          tfl.layers.upSampling2d({ inputShape: [3, 4, 2], size: [2, 3] }),
          tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, activation: 'relu' }),
          tfl.layers.conv2dTranspose({ filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: 'same' }),
        ],
      }),
    input: () => ({ values: Float32Array.from(uniform(2 * 3 * 4 * 2)), shape: [2, 3, 4, 2], dtype: 'float32' }),
  },
  {
    name: 'lstm (sequences, backwards) into lstm, dense',
    build: () =>
      tfl.sequential({
        layers: [
          tfl.layers.lstm({ inputShape: [5, 3], units: 4, recurrentInitializer: 'zeros', returnSequences: true, goBackwards: true }),
          tfl.layers.lstm({ units: 3, recurrentInitializer: 'zeros', recurrentActivation: 'sigmoid' }),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
    input: () => ({ values: Float32Array.from(uniform(3 * 5 * 3, -2, 2)), shape: [3, 5, 3], dtype: 'float32' }),
  },
  {
    name: 'gru (sequences) into gru (backwards), dense',
    build: () =>
      tfl.sequential({
        layers: [
          tfl.layers.gru({ inputShape: [6, 2], units: 5, recurrentInitializer: 'zeros', returnSequences: true }),
          tfl.layers.gru({ units: 3, recurrentInitializer: 'zeros', goBackwards: true, recurrentActivation: 'sigmoid' }),
          tfl.layers.dense({ units: 2 }),
        ],
      }),
    input: () => ({ values: Float32Array.from(uniform(2 * 6 * 2, -2, 2)), shape: [2, 6, 2], dtype: 'float32' }),
  },
];

describe.each(BACKENDS)('TF.js models with the newer layers on %s ', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(CASES)('$name: TF.js → Neurite and Neurite → TF.js predict alike', async ({ build, input }) => {
    const reference = build();
    randomizeTfjs(reference);
    const { values, shape, dtype } = input();
    const xTf = tf.tensor(values, shape, dtype);
    const expected = await reference.predict(xTf).data();

    const ours = nt.modelFromArtifacts(await tfjsArtifacts(reference));
    const x = nt.tensor(values, shape, dtype);
    const y = ours.predict(x) as nt.Tensor;
    expect(y.shape).toEqual(reference.outputs[0].shape.map((d: number | null) => d ?? shape[0]));
    expectAllClose(await y.data(), expected, { rtol: 1e-5, atol: 1e-5 }, 'Neurite on the TF.js model');

    let saved: ModelArtifacts | undefined;
    await ours.save({ save: async (a: ModelArtifacts) => void (saved = a) });
    const back = await tfl.loadLayersModel(tf.io.fromMemory(saved));
    const again = await back.predict(xTf).data();
    expect(again.length).toBe(sizeOf(y.shape));
    expectAllClose(again, expected, { rtol: 1e-5, atol: 1e-5 }, 'TF.js on the model Neurite saved');

    nt.dispose([x, y]);
    ours.dispose();
    tf.dispose(xTf);
    reference.dispose();
    back.dispose();
  });
});
