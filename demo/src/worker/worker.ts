// The training worker: owns the backend, the MNIST arrays and the model, and exposes the
// TrainerApi to the page through comlink. Requests made while training runs are served
// between two batches (see Gate), so the page can draw and predict during training.

import * as Comlink from 'comlink';
import type { Mnist } from '../../../src/data/mnist.js';
import type { BackendChoice, BackendInfo, InitOptions, TrainerApi, TrainerEvent } from '../protocol.js';
import { chooseBackend, setPageHasWebGpu } from './backend.js';
import { gridImages, loadMnist } from './data.js';
import { Gate } from './gate.js';
import { catalogue } from './models.js';
import { Session } from './session.js';

let emit: (event: TrainerEvent) => void = () => undefined;
let dataPromise: Promise<Mnist> | null = null;
let gridSize = 24;
let reconstructions = 8;
const gate = new Gate();
const session = new Session(gate, (e) => emit(e));

async function data(): Promise<Mnist> {
  if (!dataPromise) throw new Error('the worker was not initialised');
  return dataPromise;
}

const api: TrainerApi = {
  async init(options: InitOptions, onEvent) {
    emit = (e) => void onEvent(e);
    gridSize = options.gridSize;
    reconstructions = options.reconstructions;
    setPageHasWebGpu(options.pageHasWebGpu);
    const info = await chooseBackend(options.backend);
    dataPromise = loadMnist(options.dataUrl, options.limit, (loadedBytes, totalBytes) =>
      emit({ type: 'data-progress', loadedBytes, totalBytes }),
    );
    dataPromise.then(
      (mnist) => {
        session.setData(mnist, gridSize, reconstructions);
        emit({ type: 'data-ready', train: mnist.train.count, test: mnist.test.count, grid: gridImages(mnist, gridSize) });
      },
      (err: Error) => emit({ type: 'data-error', message: err.message }),
    );
    return { backend: info, models: catalogue() };
  },
  setBackend: (backend: BackendChoice): Promise<BackendInfo> => gate.run(() => session.moveTo(() => chooseBackend(backend))),
  async start(config) {
    await data();
    return session.train(config);
  },
  pause: () => session.pause(),
  resume: () => session.resume(),
  stop: () => session.stop(),
  evaluate: () => gate.run(() => session.evaluate()),
  predict: (pixels) => gate.run(() => session.predict(pixels)),
  saliency: (pixels) => gate.run(() => session.saliency(pixels)),
  save: (target) => gate.run(() => session.save(target)),
  load: (source) => gate.run(() => session.load(source)),
  // Through the gate, so a sample never sees a step's intermediate tensors.
  memory: () => gate.run(async () => session.memory()),
};

Comlink.expose(api);
