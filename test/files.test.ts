// Files that go wrong: a save killed mid-write leaves the old model loadable and whole (a child
// process saving a 4 MB model in a loop is SIGKILLed at random moments); setWeights with a bad
// list changes no weight; a broken MNIST/IDX file is named by its path in the error.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { IdxFormatError } from '../src/data/idx.js';
import { loadMnistNode } from '../src/data/mnist.js';
import { BACKENDS, useBackend } from './helpers/backends.js';
import { freshRng, uniform } from './helpers/random.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'neurite-files-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Every weight value of the model at `dir`, which must load. */
async function loadedValues(dir: string): Promise<Float32Array[]> {
  const model = await nt.loadModel(`file://${dir}`);
  try {
    return await Promise.all(model.weights.map((w) => w.data() as Promise<Float32Array>));
  } finally {
    model.dispose();
  }
}

/** The one value every element of `weights` holds, or NaN when they differ (a mix of two saves). */
function uniformValue(weights: Float32Array[]): number {
  const first = weights[0][0];
  return weights.every((w) => w.every((v) => v === first)) ? first : Number.NaN;
}

describe('saving in Node is atomic', () => {
  /** 1024 units: a 4 MB kernel, so a save takes long enough to be killed in the middle. */
  const UNITS = 1024;
  let child: string;

  beforeAll(async () => {
    // Plain Node cannot run the TypeScript sources: bundle the child once, as Node ESM.
    const outDir = join(root, 'child');
    await build({
      configFile: false,
      logLevel: 'silent',
      build: { ssr: 'test/helpers/save-loop.ts', outDir, emptyOutDir: true, target: 'node20', rollupOptions: { external: ['webgpu'], output: { entryFileNames: 'save-loop.mjs' } } },
    });
    child = join(outDir, 'save-loop.mjs');
  });

  /** Starts the saving child on `dir`, kills it `delayMs` after its first completed save, and returns the last version it reported. */
  function killMidSave(dir: string, delayMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, [child, dir, String(UNITS)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let last = -1;
      let output = '';
      let errors = '';
      proc.stderr.on('data', (d) => (errors += d));
      proc.stdout.on('data', (d: Buffer) => {
        output += String(d);
        // Complete lines only: a chunk may end inside a number.
        const versions = [...output.slice(0, output.lastIndexOf('\n') + 1).matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
        if (last < 0 && versions.length) setTimeout(() => proc.kill('SIGKILL'), delayMs);
        last = Math.max(last, ...versions);
      });
      // 'close', not 'exit': every line the child wrote before it died has been read by then.
      proc.on('close', (code, signal) => {
        if (signal === 'SIGKILL') resolve(last);
        else reject(new Error(`the saving child exited with ${code} before it was killed: ${errors}`));
      });
    });
  }

  it('a process killed at random moments while saving leaves a model that loads whole: the old one or a new one', async () => {
    const dir = join(root, 'atomic');
    const old = nt.sequential({ layers: [nt.layers.dense({ inputShape: [UNITS], units: UNITS, seed: 1 })] });
    old.setWeights(old.getWeights().map((w) => nt.fill(w.shape, -1)));
    await old.save(`file://${dir}`);
    old.dispose();
    const random = freshRng();
    let killedWhileWriting = 0;
    for (let round = 0; round < 4; round++) {
      const delay = Math.floor(random() * 120);
      const lastReported = await killMidSave(dir, delay);
      const leftovers = (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
      if (leftovers.length) killedWhileWriting++;
      // Whatever the moment of the kill, model.json and the weights form one complete save.
      const value = uniformValue(await loadedValues(dir));
      expect(value, `round ${round} (killed ${delay} ms after the first save; leftovers ${leftovers.join(', ') || 'none'})`).toBeGreaterThanOrEqual(-1);
      expect(value).toBeLessThanOrEqual(lastReported + 1);
      await Promise.all(leftovers.map((f) => rm(join(dir, f))));
    }
    console.info(`[files] ${killedWhileWriting} of 4 kills left temporary files (landed mid-write)`);
  });
});

describe.each(BACKENDS)('setWeights on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('a list with one bad value (shape, dtype, disposed, count) changes no weight and names what is wrong', async () => {
    const model = nt.sequential({ layers: [nt.layers.dense({ inputShape: [3], units: 5, seed: 2 }), nt.layers.dense({ units: 2, seed: 3 })] });
    nt.dispose(model.getWeights()); // builds the model, so `weights` lists all four
    const before = await Promise.all(model.weights.map((w) => w.data()));
    const fresh = () => model.weights.map((w) => nt.tensor(Float32Array.from(uniform(w.size)), w.shape));
    const cases: [string, (values: nt.Tensor[]) => nt.Tensor[], RegExp][] = [
      ['a wrong shape last', (v) => [...v.slice(0, 3), nt.zeros([3])], /Sequential '.*': weight '.*bias' is \[2\], got \[3\]/],
      ['an int32 value last', (v) => [...v.slice(0, 3), nt.zeros([2], 'int32')], /weight '.*bias' is float32, got int32/],
      ['a disposed value last', (v) => (v[3].dispose(), v), /setWeights: tensor #\d+ of shape \[2\] was disposed/],
      ['one value too few', (v) => v.slice(0, 3), /setWeights got 3 tensors, expected 4/],
    ];
    for (const [what, spoil, message] of cases) {
      const values = spoil(fresh());
      expect(() => model.setWeights(values), what).toThrow(message);
      const after = await Promise.all(model.weights.map((w) => w.data()));
      after.forEach((w, i) => expect(Array.from(w), `${what}: weight ${i}`).toEqual(Array.from(before[i])));
      nt.dispose(values);
    }
    model.dispose();
  });
});

describe('MNIST files', () => {
  /** A valid IDX header for `count` MNIST images, followed by `bytes` of pixels. */
  function imagesFile(count: number, bytes: number): Uint8Array {
    const out = new Uint8Array(16 + bytes);
    const view = new DataView(out.buffer);
    view.setUint32(0, 0x0803);
    [count, 28, 28].forEach((d, i) => view.setUint32(4 + 4 * i, d));
    return out;
  }

  it('a truncated images file is named by its full path', async () => {
    const dir = await mkdtemp(join(root, 'mnist-'));
    const labels = new Uint8Array(8 + 2);
    new DataView(labels.buffer).setUint32(0, 0x0801);
    new DataView(labels.buffer).setUint32(4, 2);
    for (const name of ['train-labels-idx1-ubyte', 't10k-labels-idx1-ubyte']) await writeFile(join(dir, name), labels);
    await writeFile(join(dir, 't10k-images-idx3-ubyte'), imagesFile(2, 2 * 784));
    await writeFile(join(dir, 'train-images-idx3-ubyte'), imagesFile(2, 784 + 100));
    const error = (await loadMnistNode(dir).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(IdxFormatError);
    expect(error.message).toContain(`IDX ${join(dir, 'train-images-idx3-ubyte')}:`);
    expect(error.message).toMatch(/truncated|short|expected/);
  });
});
