// Times training on the current backend: the model and batch size about to be trained, on a
// synthetic batch (uniform pixels, arbitrary labels), after warm-up steps that compile its
// kernels and step plans. Short by design (about a second of timed steps) and it frees what it
// made: the model, its optimizer and the batch.
import { dispose, sync, tensor, type Tensor } from '../index.js';
import type { MnistModelSpec } from '../examples/mnist-models.js';
import { compileFor } from './mnist-task.js';

export interface MeasureOptions {
  /** Untimed steps first (default 2). */
  warmup?: number;
  /** Timed steps go on until this many seconds have passed (default 1)… */
  seconds?: number;
  /** …and at least `minSteps` (default 2), at most `maxSteps` (default 30) were timed. */
  minSteps?: number;
  maxSteps?: number;
}

/** Samples per second of training `spec` with batches of `batchSize` on the current backend. */
export async function measureTraining(spec: MnistModelSpec, batchSize: number, seed: number, options: MeasureOptions = {}): Promise<number> {
  const { warmup = 2, seconds = 1, minSteps = 2, maxSteps = 30 } = options;
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  let state = seed >>> 0 || 1;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pixels = Float32Array.from({ length: batchSize * size }, random);
  const model = spec.build(seed);
  const optimizer = compileFor(model, spec);
  const batch: Tensor[] = [];
  try {
    const x = tensor(pixels, [batchSize, ...spec.inputShape]);
    batch.push(x);
    const y =
      spec.task === 'reconstruct'
        ? tensor(pixels.slice(), [batchSize, ...spec.inputShape])
        : tensor(Int32Array.from({ length: batchSize }, (_, i) => i % 10), [batchSize], 'int32');
    batch.push(y);
    for (let i = 0; i < warmup; i++) await model.trainOnBatch(x, y);
    await sync();
    const t0 = performance.now();
    let steps = 0;
    while (steps < maxSteps && (steps < minSteps || performance.now() - t0 < seconds * 1000)) {
      await model.trainOnBatch(x, y);
      steps++;
    }
    await sync();
    return (steps * batchSize) / ((performance.now() - t0) / 1000);
  } finally {
    dispose(batch);
    model.dispose();
    optimizer.dispose();
  }
}
