// Training callbacks: the hooks fit calls (epoch and batch begin/end, train begin/end),
// earlyStopping, and the list that runs them in order, awaiting any that return a promise.
// Batch logs are read from the device asynchronously every few batches, so they may lag.
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Scalar values by name: 'loss', 'acc', 'val_loss', … */
export type Logs = Record<string, number>;

/** What fit tells callbacks about the run. */
export interface TrainingParams {
  epochs: number;
  initialEpoch: number;
  /** Training examples per epoch. */
  samples: number;
  /** Batches per epoch. */
  steps: number;
  batchSize: number;
  /** Names of the logged values, validation ones included. */
  metrics: string[];
}

/** The part of a model callbacks may use. */
export interface CallbackModel {
  /** Set to true to end fit after the current epoch (or batch). */
  stopTraining: boolean;
  getWeights(): Tensor[];
  setWeights(weights: readonly Tensor[]): void;
}

/** The hooks, each optional; any may return a promise, which fit awaits. */
export interface CallbackHooks {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  /** `logs` holds the epoch's mean loss and metrics, and the validation ones (val_…). */
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  /**
   * Called after each batch is queued. `logs.batch` and `logs.size` are exact; `loss` and the
   * metrics are the epoch's running means as of the latest asynchronous read, which may lag
   * by up to two read intervals (fit's `logEvery`), so a step never waits for a readback.
   */
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}

/** Base class of callbacks that need the model or the run's parameters. */
export class Callback {
  /** The model being trained (set by fit before onTrainBegin). */
  model: CallbackModel | null = null;
  /** The run's parameters (set by fit before onTrainBegin). */
  params: TrainingParams | null = null;

  setModel(model: CallbackModel): void {
    this.model = model;
  }

  setParams(params: TrainingParams): void {
    this.params = params;
  }
}

/** Runs a list of callbacks (Callback instances or plain hook objects) in order. */
export class CallbackList {
  private readonly items: CallbackHooks[];

  constructor(items: readonly CallbackHooks[], model: CallbackModel, params: TrainingParams) {
    this.items = [...items];
    for (const c of this.items) {
      if (c instanceof Callback) {
        c.setModel(model);
        c.setParams(params);
      }
    }
  }

  async trainBegin(logs: Logs = {}): Promise<void> {
    for (const c of this.items) await c.onTrainBegin?.(logs);
  }
  async trainEnd(logs: Logs = {}): Promise<void> {
    for (const c of this.items) await c.onTrainEnd?.(logs);
  }
  async epochBegin(epoch: number, logs: Logs = {}): Promise<void> {
    for (const c of this.items) await c.onEpochBegin?.(epoch, logs);
  }
  async epochEnd(epoch: number, logs: Logs): Promise<void> {
    for (const c of this.items) await c.onEpochEnd?.(epoch, { ...logs });
  }
  /** Batch hooks run without awaiting when no callback defines them (the common case). */
  get hasBatchHooks(): boolean {
    return this.items.some((c) => c.onBatchBegin || c.onBatchEnd);
  }
  async batchBegin(batch: number, logs: Logs): Promise<void> {
    for (const c of this.items) await c.onBatchBegin?.(batch, { ...logs });
  }
  async batchEnd(batch: number, logs: Logs): Promise<void> {
    for (const c of this.items) await c.onBatchEnd?.(batch, { ...logs });
  }
}

/** Options of `callbacks.earlyStopping`. */
export interface EarlyStoppingArgs {
  /** The logged value watched (default 'val_loss'). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** 'min', 'max', or 'auto': max for accuracy-like names, min otherwise (default). */
  mode?: 'auto' | 'min' | 'max';
  /** Stop unless the value beats this. */
  baseline?: number;
  /**
   * At the end of training, set the weights back to those of the best epoch (Keras 3
   * behaviour). The best weights are kept as views of the variables' storage, not copies.
   */
  restoreBestWeights?: boolean;
  /** Print a line when stopping. */
  verbose?: 0 | 1;
}

/** Stops training when the monitored value stops improving. */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  readonly baseline?: number;
  private readonly better: (a: number, b: number) => boolean;
  private readonly verbose: number;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The best value seen. */
  best = Infinity;
  /** The epoch of the best value (-1 before any). */
  bestEpoch = -1;
  /** The epoch training was stopped at (-1 if it was not). */
  stoppedEpoch = -1;
  private bestWeights: Tensor[] | null = null;
  private warned = false;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new ArgumentError(`earlyStopping: patience should be a non-negative integer, got ${args.patience}`);
    }
    const mode = args.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new ArgumentError(`earlyStopping: mode should be 'auto', 'min' or 'max', got '${mode}'`);
    const maximize = mode === 'max' || (mode === 'auto' && /acc/.test(this.monitor));
    this.better = maximize ? (a, b) => a - this.minDelta > b : (a, b) => a + this.minDelta < b;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
    this.baseline = args.baseline;
    this.verbose = args.verbose ?? 0;
    this.resetBest(maximize);
  }

  private resetBest(maximize: boolean): void {
    this.best = this.baseline ?? (maximize ? -Infinity : Infinity);
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.bestEpoch = -1;
    this.resetBest(this.better(1, 0));
    this.dropBestWeights();
  }

  onEpochEnd(epoch: number, logs: Logs = {}): void {
    const current = logs[this.monitor];
    if (current === undefined) {
      if (!this.warned) console.warn(`earlyStopping: '${this.monitor}' is not in the logs (${Object.keys(logs).join(', ')}); not stopping early`);
      this.warned = true;
      return;
    }
    if (this.better(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights && this.model) {
        this.dropBestWeights();
        this.bestWeights = this.model.getWeights();
      }
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) this.stop(epoch);
  }

  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights && this.model) this.model.setWeights(this.bestWeights);
    this.dropBestWeights();
    if (this.stoppedEpoch >= 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
  }

  private stop(epoch: number): void {
    this.stoppedEpoch = epoch;
    if (this.model) this.model.stopTraining = true;
  }

  private dropBestWeights(): void {
    this.bestWeights?.forEach((t) => t.dispose());
    this.bestWeights = null;
  }
}

/** Stops training when the monitored value has not improved for `patience` epochs. */
export function earlyStopping(args: EarlyStoppingArgs = {}): EarlyStopping {
  return new EarlyStopping(args);
}
