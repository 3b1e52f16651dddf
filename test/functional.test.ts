// Functional models: input(), layer.apply on symbolic tensors and model({ inputs, outputs }) with
// several inputs and outputs, a shared layer and the merge layers (add, multiply, average,
// concatenate): forward against a float64 reference, gradients against central differences,
// training with a loss per output, the same steps as Sequential, summary, errors, save and load.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { ModelFormatError, type IOHandler, type ModelArtifacts } from '../src/io/index.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { expectAllClose } from './helpers/close.js';
import { integers, uniform } from './helpers/random.js';

/** x·W + b over rows, in float64: x [n, k], W [k, m], b [m]. */
function dense64(x: ArrayLike<number>, n: number, w: ArrayLike<number>, b: ArrayLike<number>, k: number, m: number): Float64Array {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = b[j];
    for (let p = 0; p < k; p++) s += x[i * k + p] * w[p * m + j];
    y[i * m + j] = s;
  }
  return y;
}

/** Rows of several [n, w_i] matrices side by side. */
function concat64(parts: [Float64Array, number][], n: number): Float64Array {
  const width = parts.reduce((a, [, w]) => a + w, 0);
  const out = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    let at = 0;
    for (const [p, w] of parts) {
      for (let j = 0; j < w; j++) out[i * width + at + j] = p[i * w + j];
      at += w;
    }
  }
  return out;
}

/**
 * Inputs a [3], b [5], c [3]; a layer `shared` (dense 4, tanh) applied to a and to c; every
 * merge layer; outputs: a dense head over concatenate([add, multiply, average]), and the
 * shared layer's second application.
 */
function mergeGraph() {
  const a = nt.input({ shape: [3], name: 'a' });
  const b = nt.input({ shape: [5], name: 'b' });
  const c = nt.input({ shape: [3], name: 'c' });
  const shared = nt.layers.dense({ units: 4, activation: 'tanh', name: 'shared' });
  const h1 = shared.apply(a);
  const h3 = shared.apply(c);
  const h2 = nt.layers.dense({ units: 4, name: 'db' }).apply(b);
  const s = nt.layers.add({ name: 'sum' }).apply([h1, h2]);
  const m = nt.layers.multiply({ name: 'product' }).apply([h1, h2]);
  const av = nt.layers.average({ name: 'mean' }).apply([h1, h2, h3]);
  const joined = nt.layers.concatenate({ name: 'joined' }).apply([s, m, av]);
  const head = nt.layers.dense({ units: 2, name: 'head' }).apply(joined);
  return nt.model({ inputs: [a, b, c], outputs: [head, h3], name: 'merges' });
}

/** mergeGraph's outputs in float64 from its weights (in model.weights order) and inputs. */
function mergeGraph64(w: Float32Array[], a: Float64Array, b: Float64Array, c: Float64Array, n: number): [Float64Array, Float64Array] {
  const [sk, sb, dk, db, hk, hb] = w;
  const h1 = dense64(a, n, sk, sb, 3, 4).map(Math.tanh);
  const h3 = dense64(c, n, sk, sb, 3, 4).map(Math.tanh);
  const h2 = dense64(b, n, dk, db, 5, 4);
  const s = h1.map((v, i) => v + h2[i]);
  const m = h1.map((v, i) => v * h2[i]);
  const av = h1.map((v, i) => (v + h2[i] + h3[i]) / 3);
  const joined = concat64([[s, 4], [m, 4], [av, 4]], n);
  return [dense64(joined, n, hk, hb, 12, 2), h3];
}

/** Random values for every weight of `model` (biases included, so they are exercised). */
function randomizeWeights(model: nt.BaseModel): void {
  const values = model.weights.map((v) => nt.tensor(Float32Array.from(uniform(v.size, -0.8, 0.8)), [...v.shape]));
  model.setWeights(values);
  nt.dispose(values);
}

async function values(t: nt.Tensor | nt.Tensor[]): Promise<Float32Array[]> {
  const list = Array.isArray(t) ? t : [t];
  const out = await Promise.all(list.map(async (x) => (await x.data()) as Float32Array));
  nt.dispose(list);
  return out;
}

function memoryHandler(): IOHandler & { saved?: ModelArtifacts } {
  const handler: IOHandler & { saved?: ModelArtifacts } = {
    save: async (artifacts) => {
      handler.saved = artifacts;
    },
    load: async () => handler.saved!,
  };
  return handler;
}

describe.each(BACKENDS)('functional models on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  it('run two inputs through a shared layer and every merge layer as a float64 reference does', async () => {
    const model = mergeGraph();
    randomizeWeights(model);
    const n = 7;
    const [a, b, c] = [uniform(n * 3), uniform(n * 5), uniform(n * 3)];
    const xs = [nt.tensor(Float32Array.from(a), [n, 3]), nt.tensor(Float32Array.from(b), [n, 5]), nt.tensor(Float32Array.from(c), [n, 3])];
    const weights = await values(model.getWeights());
    const [head, h3] = mergeGraph64(weights, a, b, c, n);
    const out = model.predict(xs) as nt.Tensor[];
    expect(out.map((t) => t.shape)).toEqual([[n, 2], [n, 4]]);
    const [headOut, h3Out] = await values(out);
    expectAllClose(headOut, head, { rtol, atol: 1e-5 }, 'head');
    expectAllClose(h3Out, h3, { rtol, atol: 1e-5 }, 'shared layer, second application');
    // Batched prediction (3 + 3 + 1 examples) gives the same rows.
    const [batched] = await values(model.predict(xs, { batchSize: 3 }));
    expectAllClose(batched, head, { rtol, atol: 1e-5 }, 'head, predicted in batches');
    expect(model.countParams()).toBe(3 * 4 + 4 + 5 * 4 + 4 + 12 * 2 + 2); // the shared layer counted once
    nt.dispose(xs);
    model.dispose();
  });

  it('differentiate through merge layers and a shared layer as central differences do', async () => {
    const model = mergeGraph();
    const n = 5;
    const xs = [nt.tensor(Float32Array.from(uniform(n * 3)), [n, 3]), nt.tensor(Float32Array.from(uniform(n * 5)), [n, 5]), nt.tensor(Float32Array.from(uniform(n * 3)), [n, 3])];
    const r = nt.tensor(Float32Array.from(uniform(n * 2)), [n, 2]);
    const f = (a: nt.Tensor, b: nt.Tensor, c: nt.Tensor) => {
      const [head, h3] = model.forward([a, b, c], false);
      return nt.add(nt.sum(nt.mul(head, r)), nt.sum(nt.square(h3)));
    };
    const result = await nt.checkGradients(f, xs, { maxChecksPerInput: 12 });
    expect(Number.isNaN(result.maxRelativeError)).toBe(false);
    expect(result.maxRelativeError).toBeLessThan(2e-2);
    nt.dispose([...xs, r]);
    model.dispose();
  });

  it('train with one loss per output; evaluate gives their sum and each output’s metric', async () => {
    const x = nt.input({ shape: [4], name: 'x' });
    const trunk = nt.layers.dense({ units: 8, activation: 'tanh', name: 'trunk' }).apply(x);
    const value = nt.layers.dense({ units: 1, name: 'value' }).apply(trunk);
    const label = nt.layers.dense({ units: 3, activation: 'softmax', name: 'label' }).apply(trunk);
    const model = nt.model({ inputs: x, outputs: [value, label] });
    model.compile({ optimizer: nt.adam({ learningRate: 0.05 }), loss: ['meanSquaredError', 'sparseCategoricalCrossentropy'], metrics: ['accuracy'] });
    const n = 48;
    const xv = uniform(n * 4);
    const target = Float32Array.from({ length: n }, (_, i) => xv[i * 4] - xv[i * 4 + 1]);
    const classes = Int32Array.from({ length: n }, (_, i) => (xv[i * 4 + 2] > 0.3 ? 2 : xv[i * 4 + 2] > -0.3 ? 1 : 0));
    const xt = nt.tensor(Float32Array.from(xv), [n, 4]);
    const yv = nt.tensor(target, [n, 1]);
    const yl = nt.tensor(classes, [n], 'int32');
    const history = await model.fit(xt, [yv, yl], { epochs: 25, batchSize: 16, verbose: 0, seed: 2, validationData: [xt, [yv, yl]] });
    expect(Object.keys(history.history).sort()).toEqual(['label_acc', 'loss', 'val_label_acc', 'val_loss', 'val_value_acc', 'value_acc']);
    const losses = history.history.loss;
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 2);
    expect(history.history.label_acc[losses.length - 1]).toBeGreaterThan(0.7);

    const [loss, valueAcc, labelAcc] = await values(await model.evaluate(xt, [yv, yl], { batchSize: 20 }));
    const [pv, pl] = await values(model.predict(xt));
    let mse = 0;
    let ce = 0;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      mse += (pv[i] - target[i]) ** 2 / n;
      const row = Array.from(pl.subarray(i * 3, i * 3 + 3));
      ce -= Math.log(row[classes[i]]) / n;
      if (row.indexOf(Math.max(...row)) === classes[i]) hits++;
    }
    expectAllClose(loss, [mse + ce], { rtol: 1e-4, atol: 1e-5 }, 'evaluate loss = Σ output losses');
    expectAllClose([history.history.val_loss[losses.length - 1]], [mse + ce], { rtol: 1e-4, atol: 1e-5 }, 'the last epoch’s validation loss');
    expectAllClose(labelAcc, [hits / n], { rtol: 0, atol: 1e-6 }, 'label accuracy');
    expect(Number.isFinite(valueAcc[0])).toBe(true);

    // Another round of fit, evaluate and batched predict leaves no tensor behind.
    const live = nt.memory().numTensors;
    await model.fit(xt, [yv, yl], { epochs: 2, batchSize: 16, verbose: 0, validationSplit: 0.25 });
    await values(await model.evaluate(xt, [yv, yl], { batchSize: 20 }));
    await values(model.predict(xt, { batchSize: 10 }));
    expect(nt.memory().numTensors).toBe(live);
    nt.dispose([xt, yv, yl]);
    model.dispose();
  });

  it('train a chain exactly as the same Sequential model does', async () => {
    const seq = nt.sequential({ layers: [nt.layers.dense({ units: 5, activation: 'relu', inputShape: [4] }), nt.layers.dense({ units: 3, activation: 'softmax' })] });
    const x = nt.input({ shape: [4] });
    const fn = nt.model({ inputs: x, outputs: nt.layers.dense({ units: 3, activation: 'softmax' }).apply(nt.layers.dense({ units: 5, activation: 'relu' }).apply(x)) });
    const start = seq.getWeights();
    fn.setWeights(start);
    nt.dispose(start);
    const n = 21;
    const xt = nt.tensor(Float32Array.from(uniform(n * 4)), [n, 4]);
    const yt = nt.tensor(integers(n, 3), [n], 'int32');
    for (const m of [seq, fn]) {
      m.compile({ optimizer: nt.sgd({ learningRate: 0.3 }), loss: 'sparseCategoricalCrossentropy', metrics: 'accuracy' });
      await m.fit(xt, yt, { epochs: 3, batchSize: 8, verbose: 0, seed: 5 });
    }
    const [ws, wf] = [await values(seq.getWeights()), await values(fn.getWeights())];
    ws.forEach((w, i) => expect(Array.from(wf[i]), `weight ${i}`).toEqual(Array.from(w)));
    nt.dispose([xt, yt]);
    seq.dispose();
    fn.dispose();
  });

  it('save and load with the graph, the shared layer and the losses intact', async () => {
    const model = mergeGraph();
    randomizeWeights(model);
    model.compile({ optimizer: 'sgd', loss: ['meanSquaredError', 'meanAbsoluteError'] });
    const handler = memoryHandler();
    await model.save(handler);
    const topology = handler.saved!.modelTopology as { class_name: string; config: { layers: { name: string; inbound_nodes: unknown[] }[] } };
    expect(topology.class_name).toBe('Model');
    const sharedEntry = topology.config.layers.find((l) => l.name === 'shared')!;
    expect(sharedEntry.inbound_nodes).toEqual([[['a', 0, 0, {}]], [['c', 0, 0, {}]]]);
    const loaded = await nt.loadModel(handler);
    expect(loaded).toBeInstanceOf(nt.LayersModel);
    expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    expect(loaded.losses.map((l) => l.name)).toEqual(['meanSquaredError', 'meanAbsoluteError']);
    const n = 3;
    const xs = [nt.tensor(Float32Array.from(uniform(n * 3)), [n, 3]), nt.tensor(Float32Array.from(uniform(n * 5)), [n, 5]), nt.tensor(Float32Array.from(uniform(n * 3)), [n, 3])];
    const [before, after] = [await values(model.predict(xs)), await values(loaded.predict(xs))];
    before.forEach((v, i) => expect(Array.from(after[i])).toEqual(Array.from(v)));
    nt.dispose(xs);
    model.dispose();
    loaded.dispose();
  });
});

describe('functional models on cpu: summary, files, host data and errors', () => {
  beforeAll(() => useBackend('cpu'));

  it('summarise each layer with what it receives, and count frozen weights as non-trainable', () => {
    const model = mergeGraph();
    model.getLayer('shared').trainable = false;
    const lines: string[] = [];
    model.summary((line) => lines.push(line));
    expect(lines[0]).toBe('Model: "merges"');
    expect(lines[2]).toMatch(/^Layer \(type\) +Output shape +Param # +Receives inputs$/);
    expect(lines.find((l) => l.startsWith('shared (Dense)'))).toMatch(/\[null,4\] +16 +a\[0\]\[0\], c\[0\]\[0\]$/);
    expect(lines.find((l) => l.startsWith('mean (Average)'))).toMatch(/shared\[0\]\[0\], db\[0\]\[0\], shared\[1\]\[0\]$/);
    expect(lines).toContain('Total params: 66');
    expect(lines).toContain('Trainable params: 50');
    expect(lines).toContain('Non-trainable params: 16');
    model.dispose();
  });

  it('train from host arrays zipped into one source as from lists of tensors', async () => {
    const n = 30;
    const [pixels, extra] = [Float32Array.from(uniform(n * 6)), Float32Array.from(uniform(n * 2))];
    const labels = integers(n, 3);
    const build = () => {
      const a = nt.input({ shape: [6] });
      const b = nt.input({ shape: [2] });
      const joined = nt.layers.concatenate().apply([nt.layers.dense({ units: 4, activation: 'relu', seed: 1 }).apply(a), b]);
      const m = nt.model({ inputs: [a, b], outputs: nt.layers.dense({ units: 3, activation: 'softmax', seed: 2 }).apply(joined) });
      m.compile({ optimizer: nt.sgd({ learningRate: 0.2 }), loss: 'sparseCategoricalCrossentropy' });
      return m;
    };
    const [fromHost, fromTensors] = [build(), build()];
    const source = nt.data.zip([nt.data.arrays(pixels, [n, 6], labels), nt.data.arrays(extra, [n, 2])]);
    await fromHost.fit(source, { epochs: 2, batchSize: 8, verbose: 0, seed: 4, validationSplit: 0.2 });
    const xs = [nt.tensor(pixels, [n, 6]), nt.tensor(extra, [n, 2])];
    const y = nt.tensor(labels, [n], 'int32');
    await fromTensors.fit(xs, y, { epochs: 2, batchSize: 8, verbose: 0, seed: 4, validationSplit: 0.2 });
    const [wh, wt] = [await values(fromHost.getWeights()), await values(fromTensors.getWeights())];
    wh.forEach((w, i) => expect(Array.from(wt[i]), `weight ${i}`).toEqual(Array.from(w)));
    expect(() => nt.data.zip([nt.data.arrays(pixels, [n, 6]), nt.data.arrays(extra.subarray(0, 4), [2, 2])])).toThrow(
      new nt.ArgumentError('data.zip: source 1 has 2 examples, source 0 has 30; they should match'),
    );
    nt.dispose([...xs, y]);
    fromHost.dispose();
    fromTensors.dispose();
  });

  it('refuse a disconnected graph, naming the missing input', () => {
    const a = nt.input({ shape: [2], name: 'in_a' });
    const b = nt.input({ shape: [2], name: 'in_b' });
    const out = nt.layers.add().apply([a, b]);
    expect(() => nt.model({ inputs: a, outputs: out, name: 'm' })).toThrow(
      new nt.ArgumentError("model 'm': the graph is disconnected: output 0 ('add_Add" + out.sourceLayer.name.slice('add_Add'.length) + "') depends on input 'in_b', which is not among the model's inputs"),
    );
  });

  it('reject merges of mismatched shapes and single tensors with the layer and the shapes', () => {
    const a = nt.input({ shape: [3] });
    const b = nt.input({ shape: [4] });
    expect(() => nt.layers.add({ name: 'plus' }).apply([a, b])).toThrow(new nt.ShapeError("Add 'plus': inputs should all have one shape, got [null,3], [null,4]"));
    const img = nt.input({ shape: [2, 2, 1] });
    expect(() => nt.layers.concatenate({ name: 'cat' }).apply([a, img])).toThrow(/Concatenate 'cat': inputs should have one rank and agree on every dim but axis -1, got \[null,3\], \[null,2,2,1\]/);
    expect(() => nt.layers.multiply({ name: 'times' }).apply([a])).toThrow(new nt.ArgumentError("Multiply 'times' merges a list of at least 2 inputs; got 1"));
    expect(() => nt.layers.dense({ units: 2, name: 'd' }).apply([a, a])).toThrow(new nt.ArgumentError("Dense 'd' takes one input, got a list of 2"));
    const concrete = nt.tensor([[1, 2, 3]]);
    expect(() => nt.layers.average({ name: 'avg' }).apply([concrete, nt.tensor([[1, 2]])])).toThrow(/Average 'avg': inputs should all have one shape, got \[1,3\], \[1,2\]/);
    concrete.dispose();
  });

  it('load Keras 3 files (Functional, inbound nodes as keras tensors) and refuse broken graphs, freeing what was built', async () => {
    const model = mergeGraph();
    randomizeWeights(model);
    const handler = memoryHandler();
    await model.save(handler);
    type Entry = { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: [string, number, number, object][][] };
    const saved = handler.saved!;
    const topology = () => JSON.parse(JSON.stringify(saved.modelTopology)) as { class_name: string; config: { layers: Entry[] } };
    const keras3 = topology();
    keras3.class_name = 'Functional';
    for (const layer of keras3.config.layers) {
      if (layer.class_name === 'InputLayer') {
        layer.config.batch_shape = layer.config.batch_input_shape;
        delete layer.config.batch_input_shape;
      }
      (layer as { inbound_nodes: unknown }).inbound_nodes = layer.inbound_nodes.map((node) => ({
        args: [node.map(([name, n, t]) => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [name, n, t] } }))],
        kwargs: {},
      }));
    }
    const loaded = nt.modelFromArtifacts({ ...saved, modelTopology: keras3 }, 'keras3.json');
    const xs = [nt.ones([2, 3]), nt.ones([2, 5]), nt.zeros([2, 3])];
    const [a, b] = [await values(model.predict(xs)), await values(loaded.predict(xs))];
    a.forEach((v, i) => expect(Array.from(b[i])).toEqual(Array.from(v)));
    nt.dispose(xs);
    loaded.dispose();

    const live = nt.memory().numTensors;
    const dangling = topology();
    dangling.config.layers.find((l) => l.name === 'head')!.inbound_nodes = [[['nowhere', 0, 0, {}]]];
    expect(() => nt.modelFromArtifacts({ ...saved, modelTopology: dangling }, 'broken.json')).toThrow(
      new ModelFormatError(`broken.json: layer 'head' inbound node 0 reads ["nowhere",0,0], which no layer of the file produces`),
    );
    const misfit = topology();
    misfit.config.layers.find((l) => l.name === 'sum')!.inbound_nodes = [[['shared', 0, 0, {}], ['b', 0, 0, {}]]];
    expect(() => nt.modelFromArtifacts({ ...saved, modelTopology: misfit }, 'misfit.json')).toThrow(
      /misfit.json: layer 'sum' \(Add\) cannot be applied to its inbound node 0: Add 'sum': inputs should all have one shape, got \[null,4\], \[null,5\]/,
    );
    expect(nt.memory().numTensors).toBe(live);
    model.dispose();
  });

  it('check inputs, targets and losses against the model', async () => {
    const model = mergeGraph();
    const x = nt.zeros([2, 3]);
    expect(() => model.predict(x)).toThrow(new nt.ArgumentError('merges.predict: expected a list of 3 tensors (one per input), got one tensor'));
    expect(() => model.predict([x, x, x])).toThrow(new nt.ShapeError("model 'merges': input 'b' expects [null,5], got [2,3]"));
    expect(() => model.compile({ optimizer: 'sgd', loss: ['mse'] })).toThrow(
      new nt.ArgumentError('merges.compile: got 1 losses for 2 output(s); give one loss, or one per output'),
    );
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(model.fit([x, nt.zeros([2, 5]), x], x, { verbose: 0 })).rejects.toThrow(/merges.fit: expected a list of 2 target tensors \(one per output\), got one tensor/);
    expect(() => nt.input({ shape: [0, 2] })).toThrow(nt.ShapeError);
    expect(() => nt.layers.dense({ units: 1 }).output).toThrow(/has not been applied to a symbolic tensor/);
    x.dispose();
    model.dispose();
  });
});
