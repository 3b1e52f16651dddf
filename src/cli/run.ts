// The training run of `npm start`: loads MNIST, builds the zoo model, trains and evaluates it,
// and reports test accuracy (classifiers) or the reconstruction MSE beside the mean-image
// baseline (the autoencoder). train-mnist.ts is the entry that calls `main`.
import { sync, type Tensor } from '../index.js';
import { loadMnistNode } from '../data/mnist.js';
import { MNIST_MODELS } from '../examples/mnist-models.js';
import { HELP, parseArgs, type Options } from './args.js';
import { chooseBackend } from './choose-backend.js';
import { compileFor, meanImage, mnistSource, mseAgainst } from './mnist-task.js';

/** What a run measured. */
export interface RunResult {
  backend: string;
  trainCount: number;
  testCount: number;
  steps: number;
  seconds: number;
  /** Training loss of each epoch. */
  losses: number[];
  testLoss: number;
  /** Classifiers only. */
  testAccuracy?: number;
  /** The autoencoder only: MSE of predicting every test image as the mean training image. */
  baselineMse?: number;
}

export interface RunOptions {
  /** Progress bar and summary (default true). */
  verbose?: boolean;
  /** Evaluate on the first N test images only (tests). */
  testLimit?: number;
  log?: (line: string) => void;
}

/** Trains and evaluates as `opts` say. */
export async function run(opts: Options, { verbose = true, testLimit, log = console.log }: RunOptions = {}): Promise<RunResult> {
  const spec = MNIST_MODELS[opts.model];
  const backend = await chooseBackend(opts.backend, spec, opts.batchSize, opts.seed);
  log(backend);
  const mnist = await loadMnistNode();
  const count = Math.min(opts.limit ?? mnist.train.count, mnist.train.count);
  const testCount = Math.min(testLimit ?? mnist.test.count, mnist.test.count);
  const train = mnistSource(spec, mnist.train.images, mnist.train.labels, count);
  const test = mnistSource(spec, mnist.test.images, mnist.test.labels, testCount);
  if (opts.tutorial) log(`Tutorial: the Keras CNN tutorial as Keras runs it: ${opts.epochs} epochs of batch ${opts.batchSize}, Adam 1e-3 (β1 0.9, β2 0.999, ε 1e-7), shuffled each epoch`);
  log(`MNIST: training ${spec.title} on ${count} images, testing on ${testCount}${spec.task === 'reconstruct' ? ' (targets: the images)' : ''}`);

  const model = spec.build(opts.seed);
  const optimizer = compileFor(model, spec);
  try {
    if (verbose) model.summary();
    const steps = Math.ceil(count / opts.batchSize) * opts.epochs;
    const t0 = performance.now();
    const history = await model.fit(train, { epochs: opts.epochs, batchSize: opts.batchSize, seed: opts.seed, verbose: verbose ? 1 : 0, logEvery: 4 });
    await sync();
    const seconds = (performance.now() - t0) / 1000;
    log(`Trained ${steps} steps of batch ${opts.batchSize} in ${seconds.toFixed(1)} s: ${((seconds / steps) * 1000).toFixed(1)} ms/step, ${((count * opts.epochs) / seconds).toFixed(1)} samples/s`);

    const t1 = performance.now();
    const evaluated = await model.evaluate(test, { batchSize: 256 });
    const list = Array.isArray(evaluated) ? evaluated : [evaluated as Tensor];
    const [testLoss, acc] = await Promise.all(list.map(async (t) => (await t.data())[0]));
    list.forEach((t) => t.dispose());
    const evalSeconds = ((performance.now() - t1) / 1000).toFixed(1);
    const result: RunResult = { backend, trainCount: count, testCount, steps, seconds, losses: [...history.history.loss], testLoss };
    if (spec.task === 'reconstruct') {
      result.baselineMse = mseAgainst(meanImage(mnist.train.images, count), mnist.test.images, testCount);
      log(`Test: reconstruction MSE ${testLoss.toFixed(4)} on ${testCount} images (${evalSeconds} s); baseline (every image predicted as the mean training image): ${result.baselineMse.toFixed(4)}`);
    } else {
      result.testAccuracy = acc;
      log(`Test: loss ${testLoss.toFixed(4)}, accuracy ${(acc * 100).toFixed(2)}% on ${testCount} images (${evalSeconds} s)`);
    }
    if (opts.save) {
      await model.save(`file://${opts.save}`);
      log(`Saved to ${opts.save}/model.json`);
    }
    return result;
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/** The command line's entry: parses `argv`, prints the help or runs. */
export async function main(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv);
  if (opts === 'help') {
    process.stdout.write(HELP);
    return;
  }
  await run(opts);
}
