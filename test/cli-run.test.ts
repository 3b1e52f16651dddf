// Small real runs of `npm start`'s paths on the CPU backend: the autoencoder (images as targets,
// MSE below the mean-image baseline) and the LSTM (loss falls), on a few hundred images; and the
// pieces they rest on: data.arrays with targets: 'inputs', and the baseline's arithmetic.
import { describe, expect, it } from 'vitest';
import { data, memory, setBackend } from '../src/index.js';
import { parseArgs, type Options } from '../src/cli/args.js';
import { meanImage, mseAgainst } from '../src/cli/mnist-task.js';
import { run } from '../src/cli/run.js';

const quiet = { verbose: false, log: () => {} };

function opts(argv: string[]): Options {
  const o = parseArgs(argv);
  if (o === 'help') throw new Error('help');
  return o;
}

describe("data.arrays with targets: 'inputs'", () => {
  it('gives each batch its own scaled inputs as targets', async () => {
    await setBackend('cpu');
    const x = Uint8Array.from({ length: 3 * 4 }, (_, i) => i * 10);
    const source = data.arrays(x, [3, 2, 2], undefined, { normalize: 0.1, targets: 'inputs' });
    expect(source.hasLabels).toBe(true);
    const batch = source.take(Int32Array.from([2, 0]))();
    const xs = batch.xs as import('../src/index.js').Tensor;
    const ys = batch.ys as import('../src/index.js').Tensor;
    expect(ys.shape).toEqual([2, 2, 2]);
    expect(Array.from(await ys.data())).toEqual(Array.from(await xs.data()));
    expect(Array.from(await ys.data()).map((v) => Math.round(v))).toEqual([8, 9, 10, 11, 0, 1, 2, 3]);
    xs.dispose();
    ys.dispose();
    const sub = data.subset(source, 1, 3);
    expect(sub.hasLabels).toBe(true);
    const b2 = sub.range(0, 1)();
    expect(Array.from(await (b2.ys as import('../src/index.js').Tensor).data()).map((v) => Math.round(v))).toEqual([4, 5, 6, 7]);
    data.subset(source, 0, 0);
    (b2.xs as import('../src/index.js').Tensor).dispose();
    (b2.ys as import('../src/index.js').Tensor).dispose();
    expect(() => data.arrays(x, [3, 2, 2], new Uint8Array(3), { targets: 'inputs' })).toThrow(/leave y out/);
    expect(() => data.arrays(x, [3, 2, 2], undefined, { targets: 'labels' as 'inputs' })).toThrow(/targets should be 'inputs'/);
  });
});

describe('mean-image baseline', () => {
  it('is the MSE of predicting every image as the mean image', () => {
    const images = new Uint8Array(2 * 784);
    images.fill(255, 0, 784); // one white image, one black
    const mean = meanImage(images, 2);
    expect(mean[0]).toBeCloseTo(0.5);
    expect(mseAgainst(mean, images, 2)).toBeCloseTo(0.25);
    expect(mseAgainst(meanImage(images, 1), images, 1)).toBe(0);
  });
});

describe('train-mnist runs (CPU backend, a few hundred images)', () => {
  it('autoencoder: trains on the images as targets, reconstruction MSE below the mean-image baseline', async () => {
    const before = memory().numTensors;
    const result = await run(opts(['--model', 'autoencoder', '--backend', 'cpu', '--limit', '1024', '--epochs', '2', '--batch-size', '16']), { ...quiet, testLimit: 500 });
    expect(result.testAccuracy).toBeUndefined();
    expect(result.losses).toHaveLength(2);
    expect(result.losses[1]).toBeLessThan(result.losses[0]);
    expect(result.baselineMse).toBeGreaterThan(0.05);
    expect(result.testLoss).toBeLessThan(result.baselineMse!);
    expect(memory().numTensors).toBe(before);
  });

  it('lstm: takes [28, 28] rows, its loss falls and it learns', async () => {
    const result = await run(opts(['--model', 'lstm', '--backend', 'cpu', '--limit', '320', '--epochs', '2', '--batch-size', '32']), { ...quiet, testLimit: 128 });
    expect(result.losses[1]).toBeLessThan(result.losses[0]);
    expect(result.testAccuracy).toBeGreaterThan(0.2);
  });
});
