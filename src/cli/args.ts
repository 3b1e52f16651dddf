// The command line of `npm start` (train-mnist): options, their defaults, `--tutorial` and the help.
import { MNIST_MODELS, type MnistModelKind } from '../examples/mnist-models.js';

/** Names `--model` accepts besides the zoo's kinds. */
export const MODEL_ALIASES: Readonly<Record<string, MnistModelKind>> = { cnn: 'keras-cnn' };

/**
 * What `--tutorial` fixes: the Keras CNN tutorial's program as Keras runs it (5 epochs, batch 32,
 * Adam 1e-3 with Keras's defaults, shuffled each epoch, evaluated on the test set).
 */
export const TUTORIAL = { model: 'keras-cnn', epochs: 5, batchSize: 32 } as const;

export interface Options {
  epochs: number;
  batchSize: number;
  /** Unset: chosen by the machine (see backend-choice.ts). */
  backend?: 'webgpu' | 'cpu';
  limit?: number;
  model: MnistModelKind;
  seed: number;
  save?: string;
  tutorial: boolean;
}

export const HELP = `Usage: npm start -- [options]

Trains a model on MNIST and evaluates it on the 10 000 test images.

Options:
  --model NAME        keras-cnn (default; alias cnn): the Keras tutorial CNN, 32/64/64 filters of 3×3
                      tfjs-cnn: the TF.js tutorial CNN, 8/16 filters of 5×5
                      mlp: 784-128-10;  rnn: SimpleRNN 64 over the 28 rows;  lstm: LSTM 128 over the rows (batch 4)
                      autoencoder: conv autoencoder trained with MSE, reports the reconstruction MSE
  --epochs N          passes over the training data (default 1)
  --batch-size N      examples per step (default 64; 4 for lstm)
  --tutorial          the Keras CNN tutorial as Keras runs it: keras-cnn, 5 epochs, batch 32
                      (Adam 1e-3); --model, --epochs, --batch-size and --limit conflict with it
  --backend NAME      webgpu or cpu (default: webgpu on a hardware GPU; on a software adapter
                      the faster of the two, measured once and cached; cpu without an adapter)
  --limit N           train on the first N training images only
  --seed N            seed of the weights and the shuffling (default 1)
  --save DIR          save the trained model to DIR (model.json + weights.bin)
  --help              show this help
`;

function modelKind(v: string | undefined): MnistModelKind {
  if (v !== undefined && v in MODEL_ALIASES) return MODEL_ALIASES[v];
  if (v !== undefined && Object.hasOwn(MNIST_MODELS, v)) return v as MnistModelKind;
  const names = [...Object.keys(MNIST_MODELS), ...Object.keys(MODEL_ALIASES).map((a) => `${a} (= ${MODEL_ALIASES[a]})`)];
  throw new Error(`--model expects one of ${names.join(', ')}; got ${v ?? 'nothing'}`);
}

/** Parses the command line; throws with a usage hint on anything unknown or conflicting. */
export function parseArgs(argv: readonly string[]): Options | 'help' {
  const opts: Options = { epochs: 1, batchSize: 64, model: 'keras-cnn', seed: 1, tutorial: false };
  const given = new Set<string>();
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag} expects an integer ≥ ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const flag = eq < 0 ? argv[i] : argv[i].slice(0, eq);
    const inline = eq < 0 ? undefined : argv[i].slice(eq + 1);
    const value = (): string | undefined => inline ?? argv[++i];
    given.add(flag);
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
      case '--model':
        opts.model = modelKind(value());
        break;
      case '--tutorial':
        if (inline !== undefined) throw new Error('--tutorial takes no value');
        opts.tutorial = true;
        break;
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
  if (!given.has('--batch-size')) opts.batchSize = MNIST_MODELS[opts.model].batchSize ?? opts.batchSize;
  if (opts.tutorial) {
    const conflicts = ['--model', '--epochs', '--batch-size', '--limit'].filter((f) => given.has(f));
    if (conflicts.length > 0) {
      throw new Error(
        `--tutorial fixes the model (keras-cnn), --epochs ${TUTORIAL.epochs}, --batch-size ${TUTORIAL.batchSize} and the full training set; drop ${conflicts.join(', ')} (or drop --tutorial)`,
      );
    }
    Object.assign(opts, TUTORIAL);
  }
  return opts;
}
