// Functional models in the TF.js LayersModel format, both ways, against TF.js itself: a graph
// with two inputs, conv2d, batchNormalization, a residual add, multiply, average, maxPooling2d,
// flatten, concatenate and a dense head, built in TF.js and loaded in Neurite, and built in Neurite and
// loaded in TF.js; predictions agree within 1e-5. (MobileNet's depthwise convolutions and global
// pooling are the layers branch's; its round trip belongs with them.)
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import type { ModelArtifacts } from '../src/io/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { uniform } from './helpers/random.js';

/** The layer API both libraries share for this graph (TF.js's and Neurite's factories take the same options). */
interface LayerFactories {
  conv2d(args: object): { apply(x: unknown): unknown };
  batchNormalization(args: object): { apply(x: unknown): unknown };
  activation(args: object): { apply(x: unknown): unknown };
  add(args: object): { apply(x: unknown): unknown };
  multiply(args: object): { apply(x: unknown): unknown };
  average(args: object): { apply(x: unknown): unknown };
  maxPooling2d(args: object): { apply(x: unknown): unknown };
  flatten(args: object): { apply(x: unknown): unknown };
  dense(args: object): { apply(x: unknown): unknown };
  concatenate(args: object): { apply(x: unknown): unknown };
}

/** The residual graph, in either library: image [6,6,3] and side vector [5] → 3 classes. */
function residualGraph(layers: LayerFactories, image: unknown, side: unknown): unknown {
  const c1 = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(image);
  const bn = layers.batchNormalization({ name: 'bn' }).apply(c1);
  const r1 = layers.activation({ activation: 'relu', name: 'r1' }).apply(bn);
  const c2 = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }).apply(r1);
  const residual = layers.add({ name: 'residual' }).apply([r1, c2]);
  const gated = layers.multiply({ name: 'gated' }).apply([residual, layers.average({ name: 'mean' }).apply([r1, c2, bn])]);
  const pooled = layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(gated);
  const flat = layers.flatten({ name: 'flat' }).apply(pooled);
  const sideFeatures = layers.dense({ units: 6, activation: 'tanh', name: 'side_dense' }).apply(side);
  const joined = layers.concatenate({ name: 'joined' }).apply([flat, sideFeatures]);
  return layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(joined);
}

/** Random weights for every variable, positive where it is a variance. */
function randomWeights(specs: { name: string; shape: number[] }[]): Float32Array[] {
  return specs.map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return Float32Array.from(name.includes('moving_variance') ? uniform(n, 0.5, 1.5) : uniform(n, -0.7, 0.7));
  });
}

const N = 5;

/** Both models' predictions on the same fresh random inputs agree within 1e-5. */
async function expectSamePredictions(tfModel: tfl.LayersModel, model: nt.LayersModel): Promise<void> {
  const [xi, xs] = [uniform(N * 6 * 6 * 3), uniform(N * 5)];
  const expected = tf.tidy(() => (tfModel.predict([tf.tensor(Float32Array.from(xi), [N, 6, 6, 3]), tf.tensor(Float32Array.from(xs), [N, 5])]) as tf.Tensor).dataSync());
  const inputs = [nt.tensor(Float32Array.from(xi), [N, 6, 6, 3]), nt.tensor(Float32Array.from(xs), [N, 5])];
  const out = model.predict(inputs) as nt.Tensor;
  expectAllClose(await out.data(), expected, { rtol: 0, atol: 1e-5 }, 'Neurite vs TF.js predictions');
  nt.dispose([...inputs, out]);
}

describe.each(BACKENDS)('functional models and TF.js on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await useBackend(backend);
  });

  it('a graph built and saved by TF.js loads in Neurite with the same predictions', async () => {
    const image = tfl.input({ shape: [6, 6, 3], name: 'image' });
    const side = tfl.input({ shape: [5], name: 'side' });
    const tfModel = tfl.model({ inputs: [image, side], outputs: residualGraph(tfl.layers as unknown as LayerFactories, image, side) as tfl.SymbolicTensor });
    const values = randomWeights(tfModel.weights.map((w) => ({ name: w.name, shape: w.shape as number[] })));
    tfModel.setWeights(values.map((v, i) => tf.tensor(v, tfModel.weights[i].shape as number[])));
    let artifacts: tf.io.ModelArtifacts | undefined;
    await tfModel.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const model = nt.modelFromArtifacts(artifacts as unknown as ModelArtifacts, 'tfjs') as nt.LayersModel;
    expect(model).toBeInstanceOf(nt.LayersModel);
    expect(model.layers.map((l) => l.name)).toEqual(tfModel.layers.map((l) => l.name));

    await expectSamePredictions(tfModel, model);
    model.dispose();
    tfModel.dispose();
  });

  it('a graph built and saved by Neurite loads in TF.js with the same predictions', async () => {
    const image = nt.input({ shape: [6, 6, 3], name: 'image' });
    const side = nt.input({ shape: [5], name: 'side' });
    const model = nt.model({ inputs: [image, side], outputs: residualGraph(nt.layers as unknown as LayerFactories, image, side) as nt.SymbolicTensor });
    const values = randomWeights(model.weights.map((w) => ({ name: w.name!, shape: [...w.shape] })));
    const tensors = values.map((v, i) => nt.tensor(v, [...model.weights[i].shape]));
    model.setWeights(tensors);
    nt.dispose(tensors);
    let artifacts: ModelArtifacts | undefined;
    await model.save({ save: async (a) => void (artifacts = a) });
    const tfModel = await tfl.loadLayersModel(tf.io.fromMemory(artifacts as unknown as tf.io.ModelArtifacts));
    expect(tfModel.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));

    await expectSamePredictions(tfModel, model);
    model.dispose();
    tfModel.dispose();
  });
});
