// The typed contract between the page and the training worker: what the page may ask
// (TrainerApi, called through comlink) and what the worker reports back (TrainerEvent).

import type { CpuInfo } from '../../src/backend/adapter-info.js';
import type { MnistModelKind, MnistTask } from '../../src/examples/mnist-models.js';
import type { ModelArtifacts } from '../../src/io/index.js';

/**
 * Models the page offers: the MNIST zoo of src/examples/mnist-models.ts. All take 28×28
 * grayscale digits; classifiers output 10 probabilities, the autoencoder the image itself.
 */
export type ModelKind = MnistModelKind;
export type ModelTask = MnistTask;
export type OptimizerKind = 'adam' | 'sgd' | 'rmsprop';
export type BackendChoice = 'webgpu' | 'cpu';

/** Settings for one training run. */
export interface TrainConfig {
  model: ModelKind;
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerKind;
}

/** A model the page offers, as the worker built it from the zoo (its select shows `title`). */
export interface ModelOption {
  kind: ModelKind;
  /** The zoo's truthful name, e.g. "Keras tutorial CNN (32/64/64 filters of 3×3)". */
  title: string;
  task: ModelTask;
  params: number;
}

/** Which backend the worker runs on, and why it is not the one asked for. */
export interface BackendInfo {
  backend: BackendChoice;
  /** The WebGPU adapter, e.g. "google swiftshader (fallback adapter)". */
  adapter?: string;
  /** True when the WebGPU adapter is a software one that emulates a GPU on the CPU (SwiftShader, llvmpipe). */
  software?: boolean;
  /** On the CPU backend: which kernels run (`detail` e.g. "WebAssembly SIMD"). */
  cpu?: CpuInfo;
  /** Set when WebGPU was asked for but the worker fell back to the CPU. */
  fallbackReason?: string;
}

/** Options for starting the worker. */
export interface InitOptions {
  backend: BackendChoice;
  /**
   * Whether the page has navigator.gpu. A page where WebGPU was switched off gets the CPU,
   * even if the worker could still reach a GPU.
   */
  pageHasWebGpu: boolean;
  /** Keep only the first `limit` examples of each MNIST split. */
  limit?: number;
  /** Base URL of the four `NAME.gz` MNIST files. */
  dataUrl: string;
  /** How many test digits the prediction grid shows. */
  gridSize: number;
  /** How many test digits an autoencoder's evaluation reconstructs for the page. */
  reconstructions: number;
}

/** The test digits shown in the grid: `count` images (28×28 bytes each) and labels. */
export interface GridImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** What the worker answers to init: its backend and the models it can train. */
export interface InitResult {
  backend: BackendInfo;
  models: ModelOption[];
}

/** A classifier's loss, accuracy and the confusion matrix over the validation (test) set. */
export interface ClassifyEvaluation {
  task: 'classify';
  loss: number;
  accuracy: number;
  /** 10×10 counts, row = true digit, column = predicted digit. */
  confusion: number[];
  /** Predicted digit for each grid image. */
  gridPredictions: number[];
  samples: number;
}

/** An autoencoder's loss and mean squared error over the validation (test) set, and its first reconstructions. */
export interface ReconstructEvaluation {
  task: 'reconstruct';
  /** The training loss on the test digits: per-pixel binary cross-entropy, pixels in 0..1. */
  loss: number;
  /** Mean over test digits and pixels of (reconstruction − pixel)². */
  mse: number;
  /** The first `count` test digits as reconstructed: count × 784 values in 0..1. */
  reconstructions: Float32Array;
  count: number;
  samples: number;
}

export type Evaluation = ClassifyEvaluation | ReconstructEvaluation;

/** What the model says about one drawn digit. */
export interface Prediction {
  /** Softmax probabilities of the digits 0..9. */
  probabilities: number[];
  digit: number;
}

/** A prediction plus |d score(digit) / d pixel| for the 28×28 input. */
export interface Saliency extends Prediction {
  saliency: Float32Array;
}

/** A summary of the model the worker holds. */
export interface ModelSummary {
  kind: ModelKind | 'loaded';
  task: ModelTask;
  params: number;
  description: string;
}

/** Where to save: the browser's IndexedDB, or two files the page downloads. */
export type SaveTarget = { kind: 'indexeddb'; name: string } | { kind: 'downloads'; name: string };

/** Where to load from. Files are those picked in an <input type=file multiple>. */
export type LoadSource = { kind: 'indexeddb'; name: string } | { kind: 'files'; files: File[] };

/** For 'downloads' the worker returns the model, since only a page can start a download. */
export interface SaveResult {
  artifacts?: ModelArtifacts;
}

/** The worker's memory, for a soak run (bench/soak.mjs): Neurite's `memory()` plus progress. */
export interface WorkerMemory {
  /** Live tensors, variables included. */
  numTensors: number;
  /** Bytes held by live tensors on the current backend (GPU buffers on WebGPU). */
  bytesInUse: number;
  /** Bytes the backend keeps pooled for reuse. */
  bytesPooled: number;
  /** Training steps (batches) this worker has run, over all runs. */
  steps: number;
}

export type TrainerEvent =
  | { type: 'data-progress'; loadedBytes: number; totalBytes: number }
  | { type: 'data-ready'; train: number; test: number; grid: GridImages }
  | { type: 'data-error'; message: string }
  | {
      type: 'batch';
      /** 0-based epoch. */
      epoch: number;
      epochs: number;
      /** 1-based batch within the epoch. */
      batch: number;
      batches: number;
      samplesPerSecond: number;
      secondsLeft: number;
      loss: number;
      accuracy: number;
    }
  /** `accuracy` is NaN for a reconstruction model. */
  | { type: 'epoch'; epoch: number; epochs: number; loss: number; accuracy: number; validation: Evaluation }
  | { type: 'state'; state: TrainingState; message?: string };

export type TrainingState = 'idle' | 'training' | 'paused' | 'stopping';

/** The worker's API, exposed with comlink. Every method may be called while training runs. */
export interface TrainerApi {
  /** Picks the backend (falling back to the CPU) and starts loading MNIST in the background. */
  init(options: InitOptions, onEvent: (event: TrainerEvent) => void): Promise<InitResult>;
  /** Switches backend; a trained model is carried over. */
  setBackend(backend: BackendChoice): Promise<BackendInfo>;
  /** Builds a fresh model and trains it; resolves when training ends (finished or stopped). */
  start(config: TrainConfig): Promise<{ stopped: boolean; summary: ModelSummary }>;
  pause(): void;
  resume(): void;
  stop(): void;
  evaluate(): Promise<Evaluation>;
  /** `pixels`: 784 values in 0..1, an MNIST-style 28×28 digit (white on black). */
  predict(pixels: Float32Array): Promise<Prediction>;
  saliency(pixels: Float32Array): Promise<Saliency>;
  save(target: SaveTarget): Promise<SaveResult>;
  load(source: LoadSource): Promise<ModelSummary>;
  /** Memory now; during training it is read between two batches, like any other request. */
  memory(): Promise<WorkerMemory>;
}
