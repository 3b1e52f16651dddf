// The training loop behind `fit`, `evaluate` and `trainOnBatch`. One step is: forward + loss
// (+ regularisation) under one tape, gradients, then an atomic optimizer update. Loss and
// metric sums stay on the device and are read asynchronously every `logEvery` batches, so
// the GPU never waits for a readback mid-epoch; each step also keeps a device-side flag
// that turns later updates into no-ops once a loss is non-finite (see `guardedStep`). On WebGPU
// the same reads bring back the weights, the copy a lost device falls back on (device-loss.ts).
import { variableGrads } from '../autograd.js';
import { flush } from '../backend/registry.js';
import { batchIndices } from '../data/batches.js';
import { randomSeed } from '../data/random.js';
import { engine } from '../engine.js';
import { ArgumentError, NeuriteError } from '../errors.js';
import { scalar, variable } from '../ops/create.js';
import { E } from '../ops/elementwise/expr.js';
import { map } from '../ops/elementwise/map.js';
import { concat, reshape } from '../ops/transform.js';
import type { TypedArray } from '../dtype.js';
import { keep } from '../scope.js';
import type { Tensor, Variable } from '../tensor.js';
import { CallbackList, type CallbackHooks, type Logs, type TrainingParams } from './callbacks.js';
import { batchInputs, batchTargets, disposeBatch, type Batch, type DataSource } from './data.js';
import type { BaseModel, ModelInputs } from './model-base.js';
import { ProgressBar } from './progress.js';
import { isDeviceLoss, recoverFromDeviceLoss, type FitPosition } from './device-loss.js';
import { HostCopy } from './host-copy.js';
import { moveToCurrentBackend } from './relocate.js';

/** Options of `model.fit`. */
export interface FitArgs {
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Examples per gradient step (default 32). */
  batchSize?: number;
  /** Visit examples in a new random order each epoch (default true). */
  shuffle?: boolean;
  /** Hold out this fraction of the examples (the last ones, before shuffling) for validation. */
  validationSplit?: number;
  /** Validation examples: [x, y] tensors (lists of tensors for several inputs or outputs) or a data source. */
  validationData?: readonly [ModelInputs, ModelInputs] | DataSource;
  /** Callbacks (instances of Callback, or objects with some of the hooks). */
  callbacks?: CallbackHooks | readonly CallbackHooks[];
  /** 0: silent; 1: a progress bar per epoch (default); 2: one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Seed of the shuffling (epoch e uses seed + e), for reproducible runs. Random by default. */
  seed?: number;
  /** Epoch to start counting from (to resume a run). */
  initialEpoch?: number;
  /**
   * Batches between asynchronous reads of the running loss and metrics (default 8). Reads
   * are awaited one interval later, which also bounds how far the host runs ahead of the GPU.
   */
  logEvery?: number;
  /**
   * On WebGPU, read the weights back with the running loss every `logEvery` batches (and once at
   * the start), so that a lost device leaves the model with the last copy (default true).
   */
  keepHostCopy?: boolean;
}

/** What `fit` returns, as TF.js's History: per-epoch logs by name. */
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
  params: TrainingParams;
}

/**
 * Thrown when a training loss is NaN or ±Infinity. Training stops; the weights (and batch-norm
 * statistics) are those after the last step whose loss was finite, because every step after
 * the bad one was turned into a no-op on the device.
 */
export class NonFiniteLossError extends NeuriteError {
  constructor(
    message: string,
    /** 0-based epoch of the bad step. */
    readonly epoch: number,
    /** 0-based batch (within the epoch) of the bad step. */
    readonly batch: number,
    /** 0-based step counted over the whole call. */
    readonly step: number,
    /** The epochs completed before it. */
    readonly history?: History,
  ) {
    super(message);
  }
}

/**
 * Device-side running state of a training run: variables, so that a step updates them by
 * assignment and a step plan (src/graph/step-plans.ts) can replay that update.
 */
export class StepState {
  /** 1 while every loss so far was finite, then 0 for good: the guard of each update. */
  readonly ok: Variable;
  /** Steps whose loss was finite, counted from the start; the first bad step is this index. */
  readonly good: Variable;
  /** Σ loss·batch of the epoch so far. */
  readonly lossSum: Variable;
  /** Σ metric·batch of the epoch so far, per metric. */
  readonly metricSums: Variable[];
  steps = 0;
  samples = 0;

  constructor(readonly metrics: number) {
    const make = (value: number) => engine.tidy(() => variable(scalar(value), { trainable: false }));
    this.ok = make(1);
    this.good = make(0);
    this.lossSum = make(0);
    this.metricSums = Array.from({ length: metrics }, () => make(0));
  }

  /** Starts over: every loss finite so far, no steps taken. */
  reset(): void {
    engine.tidy(() => {
      this.ok.assign(scalar(1));
      this.good.assign(scalar(0));
    });
    this.steps = 0;
    this.resetEpoch();
  }

  resetEpoch(): void {
    engine.tidy(() => [this.lossSum, ...this.metricSums].forEach((v) => v.assign(scalar(0))));
    this.samples = 0;
  }

  /**
   * Starts reading [lossSum, ...metricSums, good] in one readback, with the values of `extra`
   * (fit's host copy of the weights) in the same transfer.
   */
  read(extra: readonly Variable[] = []): Promise<StateRead> {
    const steps = this.steps;
    const samples = this.samples;
    const sums = [this.lossSum, ...this.metricSums, this.good];
    // readAll submits the copy before it first awaits: later steps' work is queued after it.
    return engine.readAll([...sums, ...extra]).then((all) => ({
      values: Float32Array.from(all.slice(0, sums.length), (v) => v[0]),
      extra: all.slice(sums.length),
      steps,
      samples,
    }));
  }

  dispose(): void {
    [this.ok, this.good, this.lossSum, ...this.metricSums].forEach((t) => t.dispose());
  }
}

/** What StepState.read returns: the sums, the extra values, and the counts when the read started. */
export interface StateRead {
  /** [lossSum, ...metricSums, good]. */
  values: Float32Array;
  extra: TypedArray[];
  steps: number;
  samples: number;
}

const accumulate = E.add(E.input(0), E.mul(E.input(1), E.attr(0)));
const select = E.select(E.input(0), E.input(1), E.input(2));

/**
 * One training step on a batch, entirely on the device and without a readback:
 * loss and gradients, then the update committed only where `ok` = (all losses so far finite).
 * When this step's loss is non-finite, the optimizer keeps every weight, slot and its step
 * counter (applyGradients' commitIf), and state the forward pass changed is set back to its
 * value before the step, so the model remains that of the last good step. Zero-copy "before"
 * values: views of the variables' storage, which updates replace rather than overwrite.
 * Runs through the model's step plans: replayed once the step of this batch shape is recorded.
 */
export function guardedStep(model: BaseModel, batch: Batch, state: StepState): void {
  const xs = batchInputs(batch);
  const ys = batchTargets(batch);
  model.stepPlans.run(`train:${state.metrics}`, model.planSignature(), [...xs, ...ys], () => {
    deviceStep(model, xs, ys, state);
    return [];
  });
  state.steps++;
  state.samples += xs[0].shape[0];
}

/** The device work of guardedStep: everything it computes, by assignment to variables. */
function deviceStep(model: BaseModel, xs: readonly Tensor[], ys: readonly Tensor[], state: StepState): void {
  const n = xs[0].shape[0];
  const all = model.weights;
  const trainable = model.trainableWeights;
  const before = all.map((v) => engine.view(v, v.shape));
  let outputs: Tensor[] = [];
  const { value: loss, grads } = variableGrads(() => {
    const r = model.computeLoss(xs, ys, true);
    outputs = r.outputs.map((t) => keep(t));
    return r.loss;
  }, trainable);
  try {
    const ok = map('lossIsFinite', E.mul(E.input(0), E.isFinite(E.input(1))), [state.ok, loss]);
    if (trainable.length > 0) model.optimizer!.applyGradients(trainable, grads, { commitIf: ok });
    const updated = new Set<Tensor>(trainable);
    all.forEach((v, i) => {
      // State the forward pass changed (batchNormalization's moving averages); variables it did
      // not touch (frozen layers) still hold the same storage.
      if (!updated.has(v) && v.storage !== before[i].storage) v.assign(map('guardWeight', select, [ok, v, before[i]]));
    });
    model.metricValues(ys, outputs).forEach((m, i) => state.metricSums[i].assign(map('metricSum', accumulate, [state.metricSums[i], m], [n])));
    state.good.assign(map('goodSteps', E.add(E.input(0), E.input(1)), [state.good, ok]));
    state.lossSum.assign(map('lossSum', accumulate, [state.lossSum, loss], [n]));
    state.ok.assign(ok);
  } finally {
    outputs.forEach((t) => t.dispose());
  }
}

/**
 * Sums of loss and metrics (times batch sizes) over a source, on the device: [loss, ...metrics].
 * `sums` holds them (zeroed here); each batch adds to it through the model's step plans.
 */
export function evaluateSums(model: BaseModel, source: DataSource, batchSize: number, sums: readonly Variable[]): void {
  engine.tidy(() => sums.forEach((v) => v.assign(scalar(0))));
  for (let start = 0; start < source.size; start += batchSize) {
    const end = Math.min(source.size, start + batchSize);
    const batch = engine.tidy(() => source.range(start, end)());
    const xs = batchInputs(batch);
    const ys = batchTargets(batch);
    try {
      model.stepPlans.run(`evaluate:${sums.length}`, model.planSignature(), [...xs, ...ys], () => {
        const r = model.computeLoss(xs, ys, false);
        const values = [r.loss, ...model.metricValues(ys, r.outputs)];
        values.forEach((v, i) => sums[i].assign(map('evalSum', accumulate, [sums[i], v], [end - start])));
        return [];
      });
    } finally {
      disposeBatch(batch);
    }
  }
}

/**
 * Starts reading the state, with the weights of the host copy in the same transfer; the copy is
 * refreshed as soon as the read lands (a read the loop never awaits, because the device was lost
 * first, fails quietly here and loudly where it is awaited).
 */
function readState(state: StepState, copy: HostCopy | null): Promise<StateRead> {
  const read = state.read(copy?.variables);
  read.then((r) => copy?.update(r.extra, r.steps), () => undefined);
  return read;
}

function toLogs(names: string[], values: ArrayLike<number>, count: number, prefix = ''): Logs {
  const logs: Logs = {};
  names.forEach((k, i) => (logs[prefix + k] = count > 0 ? values[i] / count : Number.NaN));
  return logs;
}

function checkArgs(args: FitArgs, size: number): Required<Pick<FitArgs, 'epochs' | 'batchSize' | 'logEvery' | 'initialEpoch'>> {
  const epochs = args.epochs ?? 1;
  const batchSize = args.batchSize ?? 32;
  const logEvery = args.logEvery ?? 8;
  const initialEpoch = args.initialEpoch ?? 0;
  for (const [k, v, min] of [['epochs', epochs, 1], ['batchSize', batchSize, 1], ['logEvery', logEvery, 1], ['initialEpoch', initialEpoch, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ArgumentError(`fit: ${k} should be an integer ≥ ${min}, got ${v}`);
  }
  if (initialEpoch >= epochs) throw new ArgumentError(`fit: initialEpoch ${initialEpoch} should be below epochs ${epochs}`);
  if (size === 0) throw new ArgumentError('fit: the training data is empty');
  return { epochs, batchSize, logEvery, initialEpoch };
}

/** Runs `fit` on prepared sources (see BaseModel.fit for the public entry). */
export async function fitLoop(model: BaseModel, train: DataSource, val: DataSource | null, args: FitArgs): Promise<History> {
  const { epochs, batchSize, logEvery, initialEpoch } = checkArgs(args, train.size);
  const names = model.logNames();
  const params: TrainingParams = {
    epochs,
    initialEpoch,
    samples: train.size,
    steps: Math.ceil(train.size / batchSize),
    batchSize,
    metrics: [...names, ...(val ? names.map((k) => `val_${k}`) : [])],
  };
  const hooks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? [...args.callbacks] : [args.callbacks as CallbackHooks];
  const verbose = args.verbose ?? 1;
  if (verbose > 0) hooks.push(new ProgressBar({ verbose: verbose as 1 | 2 }));
  const callbacks = new CallbackList(hooks, model, params);
  const history: History = { epoch: [], history: {}, params };
  const seed = args.seed ?? randomSeed();
  await moveToCurrentBackend(model, 'fit');
  const backend = engine.backend;
  const copy = HostCopy.forBackend(backend, model.weights, args.keepHostCopy ?? true);
  const at: FitPosition = { epoch: initialEpoch, batch: 0, step: 0 };
  model.stopTraining = false;
  let failure: NonFiniteLossError | null = null;
  try {
    const state = model.trainingState();
    state.reset();
    await copy?.take();
    await callbacks.trainBegin();
    for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
      at.epoch = epoch;
      await callbacks.epochBegin(epoch);
      const firstStep = state.steps;
      const result = await runEpoch(model, train, state, callbacks, { batchSize, logEvery, shuffle: args.shuffle ?? true, seed: seed + epoch, names, copy, at });
      if (result.good < state.steps) {
        const step = result.good;
        const batch = step - firstStep;
        failure = new NonFiniteLossError(
          `fit: the loss became non-finite (NaN or ±Infinity) at epoch ${epoch + 1}, batch ${batch + 1} (step ${step + 1} of this fit call); ` +
            `training stopped and the weights are those after the last finite step${step > 0 ? ` (step ${step})` : ' (the initial weights)'}. ` +
            'Lower the learning rate, normalise the inputs, or check the labels.',
          epoch,
          batch,
          step,
          history,
        );
        break;
      }
      const logs: Logs = result.logs;
      if (val) {
        const sums = model.evaluationSums();
        evaluateSums(model, val, batchSize, sums);
        const packed = engine.tidy(() => concat(sums.map((t) => reshape(t, [1]))));
        const values = await packed.data();
        packed.dispose();
        Object.assign(logs, toLogs(names, values, val.size, 'val_'));
      }
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      await callbacks.epochEnd(epoch, logs);
    }
  } catch (e) {
    if (isDeviceLoss(e, backend)) throw recoverFromDeviceLoss(model, backend, copy, at, history);
    throw e;
  } finally {
    await callbacks.trainEnd(history.epoch.length ? lastLogs(history) : {});
  }
  if (failure) throw failure;
  return history;
}

function lastLogs(history: History): Logs {
  return Object.fromEntries(Object.entries(history.history).map(([k, v]) => [k, v[v.length - 1]]));
}

interface EpochOptions {
  batchSize: number;
  logEvery: number;
  shuffle: boolean;
  seed: number;
  names: string[];
  /** The host copy of the weights to refresh at each read, if one is kept. */
  copy: HostCopy | null;
  /** Where the loop is, for the error of a lost device. */
  at: FitPosition;
}

/**
 * One pass over `train`. The next batch's host-side gather runs right after the current step
 * is submitted, i.e. while the device computes it. Stops early (leaving the rest of the epoch)
 * once a read shows a non-finite loss or a callback sets stopTraining.
 */
async function runEpoch(
  model: BaseModel,
  train: DataSource,
  state: StepState,
  callbacks: CallbackList,
  { batchSize, logEvery, shuffle, seed, names, copy, at }: EpochOptions,
): Promise<{ logs: Logs; good: number }> {
  state.resetEpoch();
  const order = [...batchIndices(train.size, batchSize, { shuffle, seed })];
  let running: Logs = {};
  let pending: Promise<StateRead> | null = null;
  let nonFinite = false;
  const absorb = ({ values, steps, samples }: StateRead) => {
    running = toLogs(names, values, samples);
    // The last value counts the finite steps; fewer than the steps taken means one was not.
    if (values[values.length - 1] < steps) nonFinite = true;
  };
  let prepared: (() => Batch) | null = train.take(order[0]);
  // Submit the setup work now, so each step's submits count only that step's dispatches.
  flush();
  for (let b = 0; b < order.length; b++) {
    at.batch = b;
    at.step = state.steps;
    if (callbacks.hasBatchHooks) await callbacks.batchBegin(b, { batch: b, size: order[b].length });
    const batch = engine.tidy(() => prepared!());
    try {
      guardedStep(model, batch, state);
    } finally {
      disposeBatch(batch);
    }
    flush();
    prepared = b + 1 < order.length ? train.take(order[b + 1]) : null;
    if ((b + 1) % logEvery === 0 && b + 1 < order.length) {
      // Await the previous interval's read (long done, normally) and start this one.
      if (pending) absorb(await pending);
      pending = readState(state, copy);
      if (nonFinite) break;
    }
    if (callbacks.hasBatchHooks) await callbacks.batchEnd(b, { batch: b, size: order[b].length, ...running });
    if (model.stopTraining) break;
  }
  if (pending) await pending;
  const final = await readState(state, copy);
  return { logs: toLogs(names, final.values, final.samples), good: final.values[final.values.length - 1] };
}
