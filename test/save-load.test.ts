// Saving and loading models in the TF.js LayersModel format: model.json as TF.js writes it,
// identical predictions after a round trip through files (every layer type), training resumed
// from the saved training config, and clear errors (ModelFormatError) for corrupt files.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { ModelFormatError, ModelIOError, type IOHandler, type ModelArtifacts } from '../src/io/index.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { uniform } from './helpers/random.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'neurite-save-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A model using every layer type that works on images. */
function imageModel(): nt.Sequential {
  return nt.sequential({
    layers: [
      nt.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 2], seed: 1 }),
      nt.layers.batchNormalization(),
      nt.layers.maxPooling2d({ poolSize: 2 }),
      nt.layers.averagePooling2d({ poolSize: [1, 3], strides: 1, padding: 'same' }),
      nt.layers.flatten(),
      nt.layers.dropout({ rate: 0.3, seed: 2 }),
      nt.layers.dense({ units: 5, activation: 'elu', seed: 3, kernelRegularizer: nt.regularizers.l2({ l2: 1e-3 }) }),
      nt.layers.activation({ activation: 'tanh' }),
      nt.layers.dense({ units: 4, activation: 'softmax', seed: 4 }),
    ],
  });
}

function rnnModel(): nt.Sequential {
  return nt.sequential({
    layers: [
      nt.layers.simpleRNN({ units: 5, returnSequences: true, inputShape: [4, 3], seed: 5 }),
      nt.layers.simpleRNN({ units: 4, seed: 6 }),
      nt.layers.dense({ units: 2, activation: 'sigmoid', seed: 7 }),
    ],
  });
}

/** An in-memory IOHandler that keeps what it saves. */
function memoryHandler(): IOHandler & { saved?: ModelArtifacts } {
  const h: IOHandler & { saved?: ModelArtifacts } = {
    async save(a) {
      h.saved = a;
    },
    async load() {
      if (!h.saved) throw new Error('nothing saved');
      return h.saved;
    },
  };
  return h;
}

async function predictions(model: nt.BaseModel, x: nt.Tensor): Promise<Float32Array> {
  const y = model.predict(x) as nt.Tensor;
  const v = (await y.data()) as Float32Array;
  y.dispose();
  return v;
}

describe.each(BACKENDS)('save and load on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('writes model.json in the TF.js LayersModel format', async () => {
    const model = imageModel();
    model.compile({ optimizer: nt.adam({ learningRate: 2e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const target = join(dir, `format-${backend}`);
    const result = await model.save(`file://${target}`);
    const json = JSON.parse(await readFile(join(target, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toBe('Neurite');
    expect(json.modelTopology).toMatchObject({ class_name: 'Sequential', keras_version: expect.stringMatching(/^tfjs-layers/), backend: 'tensor_flow.js' });
    expect(json.modelTopology.config.name).toBe(model.name);
    expect(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual([
      'Conv2D', 'BatchNormalization', 'MaxPooling2D', 'AveragePooling2D', 'Flatten', 'Dropout', 'Dense', 'Activation', 'Dense',
    ]);
    expect(json.modelTopology.config.layers[0].config).toMatchObject({ batch_input_shape: [null, 6, 6, 2], kernel_size: [3, 3], padding: 'same' });
    expect(json.modelTopology.config.layers[6].config.kernel_regularizer).toEqual({ class_name: 'L2', config: { l2: 1e-3 } });
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    const conv = model.layers[0].name;
    const bn = model.layers[1].name;
    expect(names.slice(0, 6)).toEqual([`${conv}/kernel`, `${conv}/bias`, `${bn}/gamma`, `${bn}/beta`, `${bn}/moving_mean`, `${bn}/moving_variance`]);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(json.trainingConfig).toMatchObject({ loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'], optimizer_config: { class_name: 'Adam' } });
    const bytes = (await readFile(join(target, 'weights.bin'))).byteLength;
    expect(bytes).toBe(model.countParams() * 4);
    expect(result.modelArtifactsInfo.weightDataBytes).toBe(bytes);
    model.dispose();
  });

  it.each([
    ['image layers', imageModel, [3, 6, 6, 2]],
    ['recurrent layers', rnnModel, [3, 4, 3]],
  ] as const)('round-trips %s through files with identical predictions', async (_name, make, shape) => {
    const model = make();
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = nt.tensor(Float32Array.from(uniform(shape.reduce((a, b) => a * b, 1), -1, 1)), [...shape]);
    // Train a little so batch-norm statistics and weights are not their initial values.
    const y = nt.tidy(() => model.predict(x));
    await model.fit(x, y, { epochs: 2, batchSize: 3, verbose: 0 });
    const target = join(dir, `${_name.replace(' ', '-')}-${backend}`);
    await model.save(`file://${target}`);
    const loaded = await nt.loadModel(`file://${target}`);
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    expect(loaded.countParams()).toBe(model.countParams());
    expect(Array.from(await predictions(loaded, x))).toEqual(Array.from(await predictions(model, x)));
    nt.dispose([x, y]);
    model.dispose();
    loaded.dispose();
  });

  it('a loaded model is compiled from its training config and keeps training', async () => {
    const model = rnnModel();
    model.compile({ optimizer: nt.sgd({ learningRate: 0.5 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const handler = memoryHandler();
    await model.save(handler);
    const loaded = await nt.loadModel(handler);
    expect(loaded.optimizer?.getConfig()).toEqual({ className: 'SGD', config: expect.objectContaining({ learningRate: 0.5 }) });
    const x = nt.tensor(Float32Array.from(uniform(8 * 12, -1, 1)), [8, 4, 3]);
    const y = nt.tensor(Array.from({ length: 16 }, (_, i) => i % 2), [8, 2]);
    const h = await loaded.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
    expect(h.history.loss[2]).toBeLessThan(h.history.loss[0]);
    expect(Object.keys(h.history)).toEqual(['loss', 'acc']);
    nt.dispose([x, y]);
    model.dispose();
    loaded.dispose();
  });

  it('loads Keras-converted topologies (model_config wrapper, InputLayer, :0 weight names)', async () => {
    const artifacts: ModelArtifacts = {
      modelTopology: {
        keras_version: '2.15.0',
        backend: 'tensorflow',
        model_config: {
          class_name: 'Sequential',
          config: {
            name: 'keras_model',
            layers: [
              { class_name: 'InputLayer', config: { batch_input_shape: [null, 3], dtype: 'float32', name: 'input_1' } },
              { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'relu', use_bias: true, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } } } },
            ],
          },
        },
      },
      weightSpecs: [
        { name: 'dense/kernel:0', shape: [3, 2], dtype: 'float32' },
        { name: 'dense/bias:0', shape: [2], dtype: 'float32' },
      ],
      weightData: new Float32Array([1, -1, 2, 0.5, -3, 1, 0.25, -0.25]).buffer,
    };
    const model = await nt.loadModel({ load: async () => artifacts });
    const x = nt.tensor([[1, 2, 3]]);
    // relu([1·1 + 2·2 − 3·3 + 0.25, −1·1 + 0.5·2 + 1·3 − 0.25]) = relu([−3.75, 2.75])
    expect(Array.from(await predictions(model, x))).toEqual([0, 2.75]);
    expect(model.inputShape).toEqual([null, 3]);
    x.dispose();
    model.dispose();
  });

  describe('corrupt or mismatched files fail clearly and leak nothing', () => {
    let good: ModelArtifacts;
    let goodJson: Record<string, any>;
    let target: string;
    /** The saved model stays alive: failed loads of its files must not touch it. */
    let original: nt.Sequential;
    let originalWeights: Float32Array[];

    beforeAll(async () => {
      original = imageModel();
      const handler = memoryHandler();
      await original.save(handler);
      good = handler.saved!;
      target = join(dir, `corrupt-${backend}`);
      await original.save(`file://${target}`);
      goodJson = JSON.parse(await readFile(join(target, 'model.json'), 'utf8'));
      originalWeights = await Promise.all(original.weights.map((v) => v.data() as Promise<Float32Array>));
    });

    afterAll(async () => {
      const after = await Promise.all(original.weights.map((v) => v.data()));
      after.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(originalWeights[i])));
      original.dispose();
    });

    async function expectLoadError(artifacts: ModelArtifacts, pattern: RegExp, type: new (...a: any[]) => Error = ModelFormatError) {
      const before = nt.memory().numTensors;
      const error = await nt.loadModel({ load: async () => artifacts }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(pattern);
      expect(nt.memory().numTensors).toBe(before);
    }

    const topology = () => JSON.parse(JSON.stringify(good.modelTopology));

    it('bad JSON in model.json', async () => {
      const bad = join(dir, `badjson-${backend}`);
      await nt.sequential({ layers: [nt.layers.dense({ units: 1, inputShape: [1] })] }).save(`file://${bad}`);
      await writeFile(join(bad, 'model.json'), '{"format": "layers-model", "modelTopology": {');
      await expect(nt.loadModel(`file://${bad}`)).rejects.toThrow(ModelFormatError);
      await expect(nt.loadModel(`file://${bad}`)).rejects.toThrow(/model\.json: not valid JSON/);
    });

    it('a truncated weights file', async () => {
      const bad = join(dir, `truncated-${backend}`);
      await nt.loadModel(`file://${target}`).then((m) => m.save(`file://${bad}`).then(() => m.dispose()));
      const bytes = await readFile(join(bad, 'weights.bin'));
      await writeFile(join(bad, 'weights.bin'), bytes.subarray(0, bytes.byteLength - 10));
      await expect(nt.loadModel(`file://${bad}`)).rejects.toThrow(/weight data is 10 bytes short: weight '.*\/bias'/);
    });

    it('a missing weights file', async () => {
      const bad = join(dir, `noweights-${backend}`);
      await nt.loadModel(`file://${target}`).then((m) => m.save(`file://${bad}`).then(() => m.dispose()));
      await rm(join(bad, 'weights.bin'));
      await expect(nt.loadModel(`file://${bad}`)).rejects.toThrow(ModelIOError);
    });

    it('weights whose shapes do not match the layers', async () => {
      const specs = good.weightSpecs.map((s) => ({ ...s, shape: [...s.shape] }));
      // Same byte count, other shape: the kernel [3,3,2,3] claimed as [3,3,3,2].
      specs[0].shape = [3, 3, 3, 2];
      await expectLoadError({ ...good, weightSpecs: specs }, /weight '.*\/kernel' has shape \[3,3,3,2\] in the file, but the model's layer needs \[3,3,2,3\]/);
      const topo = topology();
      topo.config.layers[8].config.units = 5;
      await expectLoadError({ ...good, modelTopology: topo }, /needs \[5,5\]|needs \[5\]|has shape \[5,4\]/);
    });

    it('a missing or extra weight', async () => {
      const withoutLast = { ...good, weightSpecs: good.weightSpecs.slice(0, -1), weightData: good.weightData.slice(0, good.weightData.byteLength - 16) };
      await expectLoadError(withoutLast, /weight '.*\/bias' \[4\] is missing from the weights manifest/);
      const extra = new Uint8Array(good.weightData.byteLength + 4);
      extra.set(new Uint8Array(good.weightData));
      await expectLoadError({ ...good, weightSpecs: [...good.weightSpecs, { name: 'stray/w', shape: [1], dtype: 'float32' }], weightData: extra.buffer }, /1 weight\(s\) the model does not use: 'stray\/w'/);
    });

    it('an unknown layer class, an unknown model class, a functional model without its graph, a bad layer config', async () => {
      const topo = topology();
      topo.config.layers[4].class_name = 'Conv3D';
      await expectLoadError({ ...good, modelTopology: topo }, /layer 4 has class_name 'Conv3D', which this library cannot build \(supported: .*Dense/);
      await expectLoadError({ ...good, modelTopology: { ...topology(), class_name: 'Graph' } }, /modelTopology.class_name is "Graph"; expected 'Sequential', 'Model' or 'Functional'/);
      await expectLoadError({ ...good, modelTopology: { ...topology(), class_name: 'Functional' } }, /modelTopology.config.input_layers should be a non-empty list of \[layer, node, tensor\]/);
      const badUnits = topology();
      badUnits.config.layers[6].config.units = 'five';
      await expectLoadError({ ...good, modelTopology: badUnits }, /layer 6 \(Dense '.*'\): config.units should be a non-negative integer, found "five"/);
      const noShape = topology();
      delete noShape.config.layers[0].config.batch_input_shape;
      await expectLoadError({ ...good, modelTopology: noShape }, /no batch_input_shape/);
      expect(goodJson.modelTopology.config.layers.length).toBe(9);
    });

    it('saving to a load-only handler and loading from a save-only one', async () => {
      const model = nt.sequential({ layers: [nt.layers.dense({ units: 1, inputShape: [1] })] });
      await expect(model.save({ load: async () => good })).rejects.toThrow(/cannot save models/);
      await expect(nt.loadModel({ save: async () => {} })).rejects.toThrow(/cannot load models/);
      model.dispose();
    });
  });
});
