// The demo page: starts the training worker (comlink), wires the controls, and routes the
// worker's events to the views. All tensor work happens in the worker; the page stays smooth.

import * as Comlink from 'comlink';
import { defaultModel } from './model-choice.js';
import { readParams } from './params.js';
import type { BackendChoice, BackendInfo, ModelOption, ModelSummary, ModelTask, TrainConfig, TrainerEvent, TrainingState } from './protocol.js';
import { DrawPanel } from './ui/draw-panel.js';
import { count, formatDuration, megabytes } from './ui/format.js';
import { ModelPanel } from './ui/model-panel.js';
import { showTaskCards } from './ui/task-panels.js';
import { TrainingView } from './ui/training-view.js';
import { WorkerEnded, WorkerHost, type WorkerApi } from './worker-host.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** How many test digits the grid shows. */
const GRID_SIZE = 24;
/** How many test digits the autoencoder's view reconstructs. */
const RECONSTRUCTIONS = 8;

const params = readParams(location.search);
const host = new WorkerHost((message) => void restartWorker(message, true));
const worker = host.api;

const state = {
  data: false,
  model: false,
  /** What the model held by the worker learns: classifiers are predicted from drawings. */
  task: 'classify' as ModelTask,
  training: 'idle' as TrainingState,
  backendBusy: false,
  /** The models the worker offers (its answer to init). */
  models: [] as ModelOption[],
  /** Set once the URL or the user picked a model: the backend's default no longer applies. */
  modelChosen: false,
  /** The latest backend, for the default model. */
  backend: null as BackendInfo | null,
};

const controls = {
  backend: $<HTMLSelectElement>('backend'),
  model: $<HTMLSelectElement>('model'),
  epochs: $<HTMLInputElement>('epochs'),
  batchSize: $<HTMLInputElement>('batch-size'),
  learningRate: $<HTMLInputElement>('learning-rate'),
  optimizer: $<HTMLSelectElement>('optimizer'),
};
const buttons = {
  train: $<HTMLButtonElement>('train'),
  pause: $<HTMLButtonElement>('pause'),
  stop: $<HTMLButtonElement>('stop'),
  evaluate: $<HTMLButtonElement>('evaluate'),
  reset: $<HTMLButtonElement>('reset'),
};
const message = $<HTMLElement>('message');
const dataStatus = $<HTMLElement>('data-status');
const backendStatus = $<HTMLElement>('backend-status');
const modelReason = $<HTMLElement>('model-reason');
const taskCards = {
  main: $<HTMLElement>('main'),
  classify: [$<HTMLElement>('acc-card'), $<HTMLElement>('digits-card'), $<HTMLElement>('confusion-card')],
  reconstruct: [$<HTMLElement>('recon-card')],
};

const view = new TrainingView({
  progress: $('progress'),
  progressText: $('progress-text'),
  speedText: $('speed-text'),
  metricsText: $('metrics-text'),
  validationText: $('validation-text'),
  lossChart: $('loss-chart'),
  accuracyChart: $('accuracy-chart'),
  digitGrid: $('digit-grid'),
  confusion: $('confusion'),
  reconstructions: $('reconstructions'),
  reconstructionText: $('recon-text'),
}, GRID_SIZE, RECONSTRUCTIONS);

const draw = new DrawPanel(
  {
    pad: $('pad'),
    overlay: $('saliency'),
    modelInput: $('model-input'),
    probabilities: $('probabilities'),
    text: $('prediction-text'),
    clear: $('clear'),
    showSaliency: $('show-saliency'),
  },
  {
    ready: () => state.model && state.task === 'classify',
    notReady: () =>
      state.model
        ? 'This model reconstructs digits rather than classifying them: train a classifier to predict drawings.'
        : 'Train or load a model, then draw.',
    predict: (pixels) => worker.predict(Comlink.transfer(pixels, [pixels.buffer])),
    saliency: (pixels) => worker.saliency(Comlink.transfer(pixels, [pixels.buffer])),
  },
);

const modelPanel = new ModelPanel(
  { summary: $('model-summary'), saveIdb: $('save-idb'), download: $('download'), loadIdb: $('load-idb'), loadFiles: $('load-files') },
  worker,
  say,
  (summary) => {
    view.finish('Using a loaded model.', 'Evaluate it on the test digits, or draw.');
    modelReady(summary);
  },
);

/** Shows a line in the status area (errors in red, and kept on several lines). */
function say(text: string, error = false): void {
  message.textContent = text;
  message.classList.toggle('error', error);
}

function render(): void {
  const { training } = state;
  const idle = training === 'idle';
  buttons.train.disabled = !idle || !state.data || state.backendBusy;
  buttons.pause.disabled = idle || training === 'stopping';
  buttons.pause.textContent = training === 'paused' ? 'Resume' : 'Pause';
  buttons.stop.disabled = idle || training === 'stopping';
  buttons.evaluate.disabled = !idle || !state.model || !state.data;
  for (const c of Object.values(controls)) c.disabled = !idle || (c === controls.backend && state.backendBusy);
  modelPanel.setState(state.model, !idle || state.backendBusy);
}

function showBackend(info: BackendInfo): void {
  state.backend = info;
  controls.backend.value = info.backend;
  backendStatus.classList.toggle('fallback', info.fallbackReason !== undefined);
  backendStatus.dataset.backend = info.backend;
  if (info.cpu) backendStatus.dataset.kernels = info.cpu.kernels;
  else delete backendStatus.dataset.kernels;
  const kernels = info.cpu?.detail ?? 'exact, slower than WebGPU';
  backendStatus.textContent =
    info.backend === 'webgpu'
      ? `WebGPU · ${info.adapter}${info.software ? ' · software adapter' : ''}`
      : info.fallbackReason !== undefined
        ? `CPU (fallback) · ${kernels} · WebGPU is not available: ${info.fallbackReason}`
        : `CPU · ${kernels}`;
  backendStatus.title = backendStatus.textContent;
  applyDefaultModel();
}

/** Fills the model select with the worker's models (once), under their zoo titles. */
function showModels(models: ModelOption[]): void {
  if (state.models.length > 0) return;
  state.models = models;
  controls.model.replaceChildren(
    ...models.map((m) => {
      const option = new Option(`${m.title} · ${count(m.params)} parameters`, m.kind);
      option.dataset.task = m.task;
      return option;
    }),
  );
  const asked = params.model;
  if (asked !== undefined && models.some((m) => m.kind === asked)) {
    controls.model.value = asked;
    state.modelChosen = true;
    modelReason.textContent = 'Model chosen by the link (?model=).';
  } else if (asked !== undefined) {
    say(`Unknown model '${asked}' in the link; expected one of ${models.map((m) => m.kind).join(', ')}.`, true);
  }
  titleModelSelect();
}

/** Until the URL or the user picks a model, selects the backend's default and says why. */
function applyDefaultModel(): void {
  if (state.modelChosen || !state.backend || state.models.length === 0) return;
  const choice = defaultModel(state.backend, state.models);
  controls.model.value = choice.kind;
  modelReason.textContent = choice.reason;
  modelReason.dataset.default = choice.kind;
  titleModelSelect();
}

/** The select is narrow for the zoo's titles: its tooltip gives the chosen one in full. */
function titleModelSelect(): void {
  controls.model.title = controls.model.selectedOptions[0]?.text ?? '';
}

function selectedTask(): ModelTask {
  return state.models.find((m) => m.kind === controls.model.value)?.task ?? 'classify';
}

function showTask(task: ModelTask): void {
  state.task = task;
  showTaskCards(taskCards, task);
}

function modelReady(summary: ModelSummary): void {
  state.model = true;
  showTask(summary.task);
  modelPanel.showSummary(summary);
  render();
  draw.refresh();
}

function onEvent(e: TrainerEvent): void {
  switch (e.type) {
    case 'data-progress':
      dataStatus.textContent = `MNIST: loading… ${megabytes(e.loadedBytes)}${e.totalBytes ? ` of ${megabytes(e.totalBytes)}` : ''}`;
      break;
    case 'data-ready':
      state.data = true;
      view.setGridImages(e.grid);
      dataStatus.textContent = `MNIST: ${count(e.train)} training and ${count(e.test)} test digits.`;
      render();
      break;
    case 'data-error':
      dataStatus.textContent = 'MNIST could not be loaded.';
      say(e.message, true);
      break;
    case 'state':
      state.training = e.state;
      if (e.message) say(e.message);
      render();
      break;
    default:
      view.onEvent(e);
      if (e.type === 'epoch') draw.refresh();
  }
}

function readConfig(): TrainConfig {
  const num = (el: HTMLInputElement, fallback: number) => (Number.isFinite(el.valueAsNumber) && el.valueAsNumber > 0 ? el.valueAsNumber : fallback);
  return {
    model: controls.model.value as TrainConfig['model'],
    optimizer: controls.optimizer.value as TrainConfig['optimizer'],
    epochs: Math.round(num(controls.epochs, 1)),
    batchSize: Math.round(num(controls.batchSize, 64)),
    learningRate: num(controls.learningRate, 0.001),
  };
}

async function train(): Promise<void> {
  const config = readConfig();
  view.reset(config.epochs);
  showTask(selectedTask());
  // The worker builds the model now; drawings are predicted between batches as it learns.
  state.model = true;
  draw.refresh();
  modelPanel.showText(`Training a new ${controls.model.selectedOptions[0].text}…`);
  const started = performance.now();
  try {
    const { stopped, summary } = await worker.start(config);
    const seconds = (performance.now() - started) / 1000;
    view.finish(`${stopped ? 'Stopped' : 'Training finished'} after ${formatDuration(seconds)}.`);
    say(stopped ? 'Training stopped; the model keeps what it learned so far.' : 'Done: draw a digit, or save the model.');
    modelReady(summary);
  } catch (err) {
    // A reset already said what happened and started a fresh worker.
    if (err instanceof WorkerEnded) return;
    view.finish('Training failed.');
    say((err as Error).message, true);
  }
}

/** Rethrows anything but the WorkerEnded of a call the worker could not answer. */
function unlessEnded(err: unknown): void {
  if (!(err instanceof WorkerEnded)) throw err;
}

async function evaluate(): Promise<void> {
  say('Evaluating on the test digits…');
  buttons.evaluate.disabled = true;
  try {
    const result = await worker.evaluate();
    view.showEvaluation(result, 'now');
    say('Evaluated.');
  } catch (err) {
    if (err instanceof WorkerEnded) return;
    say((err as Error).message, true);
  } finally {
    render();
  }
}

async function switchBackend(choice: BackendChoice): Promise<void> {
  state.backendBusy = true;
  render();
  backendStatus.textContent = `Switching to ${choice === 'webgpu' ? 'WebGPU' : 'the CPU'}…`;
  try {
    showBackend(await worker.setBackend(choice));
  } catch (err) {
    say((err as Error).message, true);
  } finally {
    state.backendBusy = false;
    render();
    draw.refresh();
  }
}

function applyParams(): void {
  const t = params.train;
  controls.backend.value = params.backend;
  controls.epochs.value = String(t.epochs);
  controls.batchSize.value = String(t.batchSize);
  controls.learningRate.value = String(t.learningRate);
  controls.optimizer.value = t.optimizer;
}

/** Starts a worker and has it pick the backend and load MNIST; the page waits for data-ready. */
async function initWorker(): Promise<void> {
  host.start();
  const dataUrl = new URL('./mnist/', location.href).href;
  try {
    const { backend, models } = await worker.init(
      {
        backend: controls.backend.value as BackendChoice,
        pageHasWebGpu: 'gpu' in navigator,
        limit: params.limit,
        dataUrl,
        gridSize: GRID_SIZE,
        reconstructions: RECONSTRUCTIONS,
      },
      Comlink.proxy(onEvent),
    );
    showModels(models);
    showBackend(backend);
  } catch (err) {
    if (err instanceof WorkerEnded) return;
    backendStatus.textContent = 'The worker failed to start.';
    say((err as Error).message, true);
  }
}

/**
 * Ends the worker, even mid-step (Reset, or after it crashed), and starts a fresh one: the page
 * goes back to its state before any training; a model not saved is lost with the worker.
 */
async function restartWorker(reason: string, error = false): Promise<void> {
  host.stop(reason);
  Object.assign(state, { data: false, model: false, training: 'idle', backendBusy: false });
  view.finish('Reset.');
  modelPanel.showText('No model: the worker was restarted.');
  render();
  draw.refresh();
  say(reason, error);
  await initWorker();
}

async function start(): Promise<void> {
  applyParams();
  render();
  buttons.train.addEventListener('click', () => void train());
  // A worker ended meanwhile has nothing to pause or stop: its reset said so already.
  buttons.pause.addEventListener('click', () => void (state.training === 'paused' ? worker.resume() : worker.pause()).catch(unlessEnded));
  buttons.stop.addEventListener('click', () => void worker.stop().catch(unlessEnded));
  buttons.evaluate.addEventListener('click', () => void evaluate());
  buttons.reset.addEventListener('click', () => void restartWorker('Reset: the worker was ended and a fresh one started; train or load a model.'));
  controls.backend.addEventListener('change', () => void switchBackend(controls.backend.value as BackendChoice));
  controls.model.addEventListener('change', () => {
    // The user's choice wins over the backend's default from now on.
    state.modelChosen = true;
    titleModelSelect();
    modelReason.textContent = '\u00a0';
    delete modelReason.dataset.default;
  });
  await initWorker();
}

declare global {
  interface Window {
    /** For scripts driving the page (bench/soak.mjs): the worker's memory, through the typed API. */
    neuriteDemo?: { memory: WorkerApi['memory'] };
  }
}
window.neuriteDemo = { memory: () => worker.memory() };

void start();
