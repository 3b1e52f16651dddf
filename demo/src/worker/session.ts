// The worker's model and everything done with it: training with live progress, validation
// with a confusion matrix (or, for the autoencoder, reconstructions and their MSE), prediction
// and saliency for one drawn digit, save and load, and moving the model to another backend.

import * as neurite from '../../../src/index.js';
import type { Mnist, MnistSplit } from '../../../src/data/mnist.js';
import { browserFiles, getHandler, type IOHandler, type ModelArtifacts } from '../../../src/io/index.js';
import type {
  BackendInfo,
  Evaluation,
  LoadSource,
  ModelSummary,
  Prediction,
  Saliency,
  SaveResult,
  SaveTarget,
  TrainConfig,
  TrainerEvent,
  WorkerMemory,
} from '../protocol.js';
import type { Gate } from './gate.js';
import { argMax, EvalAccumulator, ReconstructionAccumulator } from './metrics.js';
import { buildModel, describeModel, recognise, shapeOf, type ModelShape } from './models.js';
import { Throughput } from './throughput.js';

/** Test digits used for the validation after each epoch (the Evaluate button uses all). */
const VALIDATION_SIZE = 2000;
/** Digits per predict call when evaluating. */
const EVAL_BATCH = 500;
/** Batches between fit's reads of the running loss and accuracy. */
const LOG_EVERY = 4;
/** Batch events are sent at most this often, so the page is not flooded. */
const REPORT_MS = 250;

/** The worker's state: MNIST, the model (and its optimizer), and what the page may do with them. */
export class Session {
  private mnist: Mnist | null = null;
  private gridSize = 0;
  private reconstructions = 0;
  private model: neurite.Sequential | null = null;
  private optimizer: neurite.Optimizer | null = null;
  private shape: ModelShape = shapeOf('tfjs-cnn');
  /** Batches trained by this worker, over all runs (reported by memory()). */
  private steps = 0;

  constructor(
    private readonly gate: Gate,
    private readonly emit: (event: TrainerEvent) => void,
  ) {}

  setData(mnist: Mnist, gridSize: number, reconstructions: number): void {
    this.mnist = mnist;
    this.gridSize = gridSize;
    this.reconstructions = reconstructions;
  }

  // Pause, resume and stop arriving after training ended (a late click) do nothing.
  pause(): void {
    if (!this.gate.isTraining || this.gate.isStopped) return;
    this.gate.pause();
    this.emit({ type: 'state', state: 'paused', message: 'Paused.' });
  }

  resume(): void {
    if (!this.gate.isTraining || this.gate.isStopped) return;
    this.gate.resume();
    this.emit({ type: 'state', state: 'training', message: 'Training…' });
  }

  stop(): void {
    if (!this.gate.isTraining) return;
    this.gate.stop();
    if (this.model) this.model.stopTraining = true;
    this.emit({ type: 'state', state: 'stopping', message: 'Stopping after this batch…' });
  }

  /** Builds a fresh model and trains it with `config`, reporting progress as events. */
  async train(config: TrainConfig): Promise<{ stopped: boolean; summary: ModelSummary }> {
    const mnist = this.requireData();
    const end = this.gate.beginTraining();
    this.emit({ type: 'state', state: 'training', message: 'Training…' });
    try {
      const model = buildModel(config.model);
      this.replaceModel(model, shapeOf(config.model));
      this.optimizer = makeOptimizer(config);
      // A classifier learns the labels; the autoencoder learns the images themselves, per pixel
      // with binary cross-entropy: with MSE its sigmoid output mostly settles on an all-black image
      // (MSE 0.109, 8 of 10 seeds, 64–1024 steps) where sigmoid' ≈ 0 stops the gradient; the
      // cross-entropy's gradient has no sigmoid' factor. The page reports the reconstruction MSE.
      if (this.shape.task === 'classify') {
        model.compile({ optimizer: this.optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      } else {
        model.compile({ optimizer: this.optimizer, loss: 'binaryCrossentropy' });
      }
      await this.fit(model, mnist, config);
      return { stopped: this.gate.isStopped, summary: this.summary() };
    } finally {
      await end();
      this.emit({ type: 'state', state: 'idle' });
    }
  }

  private async fit(model: neurite.Sequential, mnist: Mnist, config: TrainConfig): Promise<void> {
    const n = mnist.train.count;
    const batches = Math.ceil(n / config.batchSize);
    const validationSamples = Math.min(VALIDATION_SIZE, mnist.test.count);
    const speed = new Throughput(n * config.epochs, config.epochs);
    // uint8 pixels stay on the host; fit uploads each batch as float32 in 0..1.
    const shape = [n, ...this.shape.inputShape];
    const train =
      this.shape.task === 'classify'
        ? neurite.data.arrays(mnist.train.images, shape, mnist.train.labels, { normalize: 1 / 255 })
        : selfTargets(neurite.data.arrays(mnist.train.images, shape, undefined, { normalize: 1 / 255 }));
    let epoch = 0;
    let lastReport = 0;
    await model.fit(train, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      shuffle: true,
      verbose: 0,
      // fit reads the running loss every LOG_EVERY batches and lets the host queue at most two
      // such intervals ahead of the GPU: a short interval keeps the charts live and makes
      // pause and stop take effect within a few batches, at the cost of one tiny readback each.
      logEvery: LOG_EVERY,
      callbacks: {
        onEpochBegin: (e: number) => {
          epoch = e;
          speed.skip();
        },
        onBatchEnd: async (batch: number, logs: Record<string, number> = {}) => {
          this.steps++;
          const rate = speed.batch(logs.size ?? config.batchSize);
          const now = performance.now();
          const done = epoch * n + Math.min(n, (batch + 1) * config.batchSize);
          if (now - lastReport > REPORT_MS || batch === batches - 1) {
            lastReport = now;
            this.emit({
              type: 'batch',
              epoch,
              epochs: config.epochs,
              batch: batch + 1,
              batches,
              samplesPerSecond: rate,
              secondsLeft: speed.secondsLeft(done, epoch, validationSamples),
              // Running means, read asynchronously by fit: absent until the first read.
              loss: logs.loss ?? NaN,
              accuracy: logs.acc ?? NaN,
            });
          }
          await this.between(model, speed);
        },
        onEpochEnd: async (e: number, logs: Record<string, number> = {}) => {
          const started = performance.now();
          const validation = await this.evaluateOn(mnist.test, validationSamples);
          speed.validated((performance.now() - started) / 1000);
          this.emit({ type: 'epoch', epoch: e, epochs: config.epochs, loss: logs.loss, accuracy: logs.acc, validation });
          await this.between(model, speed);
        },
      },
    });
  }

  /** Between batches: serve the page's requests, wait while paused, honour stop. */
  private async between(model: neurite.Sequential, speed: Throughput): Promise<void> {
    await this.gate.between();
    if (this.gate.isStopped) model.stopTraining = true;
    speed.skip();
  }

  /** Neurite's live tensors and backend bytes, and the steps trained so far. */
  memory(): WorkerMemory {
    const { numTensors, bytesInUse, bytesPooled } = neurite.memory();
    return { numTensors, bytesInUse, bytesPooled, steps: this.steps };
  }

  /** Loss, accuracy and confusion matrix (or reconstruction MSE) over all test digits. */
  async evaluate(): Promise<Evaluation> {
    const mnist = this.requireData();
    return this.evaluateOn(mnist.test, mnist.test.count);
  }

  private async evaluateOn(split: MnistSplit, count: number): Promise<Evaluation> {
    const model = this.requireModel();
    const { inputShape, task } = this.shape;
    const acc = task === 'classify' ? new EvalAccumulator(this.gridSize) : new ReconstructionAccumulator(this.reconstructions);
    for (let start = 0; start < count; start += EVAL_BATCH) {
      const end = Math.min(count, start + EVAL_BATCH);
      const images = split.images.subarray(start * 784, end * 784);
      const source = neurite.data.arrays(images, [end - start, ...inputShape], undefined, { normalize: 1 / 255 });
      const output = model.predict(source, { batchSize: EVAL_BATCH });
      const values = (await output.data()) as Float32Array;
      output.dispose();
      if (acc instanceof EvalAccumulator) acc.add(values, split.labels.subarray(start, end));
      else acc.add(values, images);
    }
    return acc.result();
  }

  async predict(pixels: Float32Array): Promise<Prediction> {
    const model = this.requireModel();
    if (this.shape.task !== 'classify') throw new neurite.ArgumentError('this model reconstructs digits; only a classifier predicts a drawn one');
    const x = neurite.tensor(pixels, [1, ...this.shape.inputShape]);
    const probs = model.predict(x);
    x.dispose();
    const values = Array.from((await probs.data()) as Float32Array);
    probs.dispose();
    return { probabilities: values, digit: argMax(values) };
  }

  /**
   * The prediction plus |∂ logit(predicted digit) / ∂ pixel|: the pre-softmax score, as in
   * Simonyan et al.'s saliency maps, since a confident softmax has near-zero gradients.
   */
  async saliency(pixels: Float32Array): Promise<Saliency> {
    const prediction = await this.predict(pixels);
    const model = this.requireModel();
    const x = neurite.tensor(pixels, [1, ...this.shape.inputShape]);
    const mask = neurite.tidy(() => neurite.oneHot(neurite.tensor([prediction.digit], [1], 'int32'), 10));
    const saliency = neurite.tidy(() => {
      const score = (input: neurite.Tensor) => neurite.sum(neurite.mul(logits(model, input), mask));
      return neurite.abs(neurite.grad(score)(x));
    });
    const values = (await saliency.data()) as Float32Array;
    neurite.dispose([x, mask, saliency]);
    return { ...prediction, saliency: Float32Array.from(values) };
  }

  async save(target: SaveTarget): Promise<SaveResult> {
    const model = this.requireModel();
    if (target.kind === 'indexeddb') {
      await model.save(`indexeddb://${target.name}`);
      return {};
    }
    return { artifacts: await toArtifacts(model) };
  }

  async load(source: LoadSource): Promise<ModelSummary> {
    const handler = source.kind === 'indexeddb' ? getHandler(`indexeddb://${source.name}`) : filesHandler(source.files);
    const model = sequentialOnly(await neurite.loadModel(handler));
    this.replaceModel(model, recognise(model));
    return this.summary();
  }

  /** Switches backend with `choose`, carrying the model over through its saved form. */
  async moveTo(choose: () => Promise<BackendInfo>): Promise<BackendInfo> {
    const artifacts = this.model ? await toArtifacts(this.model) : null;
    const info = await choose();
    if (artifacts) this.replaceModel(sequentialOnly(await neurite.loadModel(memoryHandler(artifacts))), this.shape);
    return info;
  }

  private replaceModel(model: neurite.Sequential, shape: ModelShape): void {
    this.model?.dispose();
    // compile() does not own an optimizer it was given, so its state is freed here.
    this.optimizer?.dispose();
    this.optimizer = null;
    this.model = model;
    this.shape = shape;
  }

  private summary(): ModelSummary {
    const model = this.requireModel();
    const { kind, task } = this.shape;
    return { kind, task, params: model.countParams(), description: describeModel(kind, model) };
  }

  private requireModel(): neurite.Sequential {
    if (!this.model) throw new Error('there is no model yet: train or load one first');
    return this.model;
  }

  private requireData(): Mnist {
    if (!this.mnist) throw new Error('MNIST is still loading');
    return this.mnist;
  }
}

/** A source whose targets are its inputs (the autoencoder's): each batch uploads x twice. */
function selfTargets(source: neurite.DataSource): neurite.DataSource {
  const pair = (prepare: () => neurite.Batch, again: () => neurite.Batch) => () => ({ xs: prepare().xs, ys: again().xs });
  return {
    size: source.size,
    exampleShape: source.exampleShape,
    hasLabels: true,
    take: (indices) => pair(source.take(indices), source.take(indices)),
    range: (start, end) => pair(source.range(start, end), source.range(start, end)),
    dispose: () => source.dispose(),
  };
}

function makeOptimizer(config: TrainConfig): neurite.Optimizer {
  const learningRate = config.learningRate;
  return config.optimizer === 'sgd'
    ? neurite.sgd({ learningRate })
    : config.optimizer === 'rmsprop'
      ? neurite.rmsprop({ learningRate })
      : neurite.adam({ learningRate });
}

/** The model's output before its last activation (the logits of the softmax layer). */
function logits(model: neurite.Sequential, x: neurite.Tensor): neurite.Tensor {
  const last = model.layers.length - 1;
  return model.layers.reduce((h, layer, i) => layer.apply(h, { preActivation: i === last }), x);
}

async function toArtifacts(model: neurite.Sequential): Promise<ModelArtifacts> {
  let saved: ModelArtifacts | null = null;
  await model.save({ save: async (a: ModelArtifacts) => void (saved = a) } satisfies IOHandler);
  if (!saved) throw new Error('saving the model produced nothing');
  return saved;
}

function memoryHandler(artifacts: ModelArtifacts): IOHandler {
  return { load: async () => artifacts };
}

/** The model.json and its weight files among what the user picked. */
function filesHandler(files: File[]): IOHandler {
  const json = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
  if (json.length !== 1) throw new Error(`pick one model .json file and its weight files (picked ${json.length} .json files)`);
  return browserFiles(json[0], files.filter((f) => f !== json[0]));
}

/** The demo trains and draws Sequential models; a functional file is refused with a clear error. */
function sequentialOnly(model: neurite.LoadedModel): neurite.Sequential {
  if (model instanceof neurite.Sequential) return model;
  model.dispose();
  throw new neurite.ArgumentError(`the demo runs Sequential models; '${model.name}' is a functional model`);
}
