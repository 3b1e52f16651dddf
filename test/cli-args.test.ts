// `npm start`'s command line: defaults, the zoo's model names and the cnn alias, --tutorial and
// its conflicts, and the errors on bad values.
import { describe, expect, it } from 'vitest';
import { parseArgs, TUTORIAL } from '../src/cli/args.js';

describe('train-mnist arguments', () => {
  it('defaults: keras-cnn, 1 epoch of batch 64, seed 1, backend chosen by the machine', () => {
    expect(parseArgs([])).toEqual({ epochs: 1, batchSize: 64, model: 'keras-cnn', seed: 1, tutorial: false });
  });

  it('takes every zoo kind, and cnn as an alias of keras-cnn', () => {
    for (const kind of ['keras-cnn', 'tfjs-cnn', 'mlp', 'rnn', 'lstm', 'autoencoder']) expect(parseArgs(['--model', kind])).toMatchObject({ model: kind });
    expect(parseArgs(['--model=cnn'])).toMatchObject({ model: 'keras-cnn' });
  });

  it('a model trains with its zoo batch size unless --batch-size says otherwise (lstm: 4)', () => {
    expect(parseArgs(['--model', 'lstm'])).toMatchObject({ model: 'lstm', batchSize: 16 });
    expect(parseArgs(['--batch-size', '64', '--model', 'lstm'])).toMatchObject({ batchSize: 64 });
    expect(parseArgs(['--model', 'rnn'])).toMatchObject({ batchSize: 64 });
  });

  it('parses values given as --flag value and --flag=value', () => {
    expect(parseArgs(['--epochs', '3', '--batch-size=32', '--limit', '500', '--seed=0', '--backend', 'cpu', '--save', '/tmp/m'])).toEqual({
      epochs: 3,
      batchSize: 32,
      limit: 500,
      seed: 0,
      backend: 'cpu',
      save: '/tmp/m',
      model: 'keras-cnn',
      tutorial: false,
    });
  });

  it('--tutorial fixes keras-cnn, 5 epochs, batch 32; seed, backend and save stay free', () => {
    expect(parseArgs(['--tutorial'])).toMatchObject({ ...TUTORIAL, tutorial: true });
    expect(TUTORIAL).toEqual({ model: 'keras-cnn', epochs: 5, batchSize: 32 });
    expect(parseArgs(['--tutorial', '--seed', '7', '--backend', 'cpu'])).toMatchObject({ model: 'keras-cnn', epochs: 5, batchSize: 32, seed: 7, backend: 'cpu' });
  });

  it('--tutorial rejects the flags it fixes', () => {
    expect(() => parseArgs(['--tutorial', '--epochs', '2'])).toThrow(/--tutorial fixes .*drop --epochs/);
    expect(() => parseArgs(['--model', 'mlp', '--tutorial', '--batch-size', '64'])).toThrow(/drop --model, --batch-size/);
    expect(() => parseArgs(['--tutorial', '--limit', '100'])).toThrow(/drop --limit/);
    expect(() => parseArgs(['--tutorial=yes'])).toThrow(/takes no value/);
  });

  it('says what is wrong with a bad value or flag', () => {
    expect(() => parseArgs(['--model', 'resnet'])).toThrow(/--model expects one of keras-cnn, tfjs-cnn, .*cnn \(= keras-cnn\); got resnet/);
    expect(() => parseArgs(['--model'])).toThrow(/got nothing/);
    expect(() => parseArgs(['--epochs', '0'])).toThrow(/--epochs expects an integer ≥ 1, got 0/);
    expect(() => parseArgs(['--batch-size', '1.5'])).toThrow(/integer/);
    expect(() => parseArgs(['--backend', 'gpu'])).toThrow(/webgpu or cpu/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option '--fast'/);
    expect(parseArgs(['--epochs', '2', '--help'])).toBe('help');
  });
});
