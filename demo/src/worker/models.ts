// The models the page offers: the MNIST zoo of src/examples/mnist-models.ts (the same networks
// `npm start` trains), each under its zoo title. This file only builds them, lists them for the
// page, and recognises a loaded model as one of them.

import { MNIST_MODELS, type MnistModelKind } from '../../../src/examples/mnist-models.js';
import type { Sequential } from '../../../src/index.js';
import type { ModelKind, ModelOption, ModelTask } from '../protocol.js';

/** What the worker needs to know of a model: its input shape and what it learns. */
export interface ModelShape {
  kind: ModelKind | 'loaded';
  inputShape: readonly number[];
  task: ModelTask;
}

/** The page's order: the two CNNs first (the default is one of them), the autoencoder last. */
const ORDER: readonly MnistModelKind[] = ['keras-cnn', 'tfjs-cnn', 'mlp', 'rnn', 'lstm', 'autoencoder'];

/** Builds an untrained model of `kind`, with fresh random weights. */
export function buildModel(kind: ModelKind): Sequential {
  const spec = MNIST_MODELS[kind];
  if (!spec) throw new Error(`unknown model '${String(kind)}'`);
  return spec.build(Math.floor(Math.random() * 2 ** 31));
}

export function shapeOf(kind: ModelKind): ModelShape {
  const { inputShape, task } = MNIST_MODELS[kind];
  return { kind, inputShape, task };
}

/** Each model's layer classes and parameter count, to recognise loaded models; built once. */
let signatures: { kind: ModelKind; layers: string; params: number }[] | null = null;

/** The models for the page's select, with their parameter counts (each built once, then freed). */
export function catalogue(): ModelOption[] {
  signatures ??= ORDER.map((kind) => {
    const model = buildModel(kind);
    model.build(); // creates the weights from the input shape, so they can be counted
    const entry = { kind, layers: layerClasses(model), params: model.countParams() };
    model.dispose();
    return entry;
  });
  return signatures.map(({ kind, params }) => ({ kind, title: MNIST_MODELS[kind].title, task: MNIST_MODELS[kind].task, params }));
}

/** One line about a model, e.g. "MLP (784-128-10) · 3 layers · 101,770 parameters". */
export function describeModel(kind: ModelKind | 'loaded', model: Sequential): string {
  const name = kind === 'loaded' ? 'Loaded model' : MNIST_MODELS[kind].title;
  const n = model.layers.length;
  return `${name} · ${n} layer${n === 1 ? '' : 's'} · ${model.countParams().toLocaleString('en-US')} parameters`;
}

/**
 * Which of the page's models a loaded one is (same layers, same parameter count); otherwise
 * 'loaded', its input read row by row after a recurrent first layer, and a reconstruction
 * model when its last layer is not Dense.
 */
export function recognise(model: Sequential): ModelShape {
  catalogue();
  const layers = layerClasses(model);
  const params = model.countParams();
  const match = signatures!.find((s) => s.layers === layers && s.params === params);
  if (match) return shapeOf(match.kind);
  const first = model.layers[0]?.className ?? '';
  const last = model.layers[model.layers.length - 1]?.className ?? '';
  return {
    kind: 'loaded',
    inputShape: /RNN|LSTM|GRU/.test(first) ? [28, 28] : [28, 28, 1],
    task: last === 'Dense' ? 'classify' : 'reconstruct',
  };
}

function layerClasses(model: Sequential): string {
  return model.layers.map((l) => l.className).join(',');
}
