// Tests of their own for small public APIs that were only exercised in passing: sign, floor,
// fill, onesLike, the mae loss, modelFromArtifacts and Callback subclasses, each against values
// computed here, on every backend.
import { beforeAll, describe, expect, it } from 'vitest';
import * as nt from '../src/index.js';
import { getLoss } from '../src/nn/losses.js';
import { BACKENDS, RTOL, useBackend } from './helpers/backends.js';
import { covering } from './helpers/coverage.js';
import { expectAllClose, expectCloseAtScale } from './helpers/close.js';
import { numericGradient, sizeOf } from './helpers/numeric.js';
import { freshRng, uniform } from './helpers/random.js';

const t32 = (v: ArrayLike<number>, shape: number[]) => nt.tensor(Float32Array.from(v), shape);

/** Values with the edge cases of rounding and signs: zeros, integers, halves, near-integers. */
function edgyValues(n: number): Float64Array {
  const edges = [0, -0, 1, -1, 2, -2, 0.5, -0.5, 2.999999, -2.000001, 1e-30, -1e-30, 1e20, -1e20];
  return Float64Array.from({ length: n }, (_, i) => Math.fround(i < edges.length ? edges[i] : (freshRng()() - 0.5) * 20));
}

/** Every run of a model's `fit` is one tiny regression problem on fresh values. */
function tinyModel(): nt.Sequential {
  const model = nt.sequential({ layers: [nt.layers.dense({ units: 2, inputShape: [3], activation: 'tanh' }), nt.layers.dense({ units: 1 })] });
  model.compile({ optimizer: nt.sgd({ learningRate: 0.1 }), loss: 'mse' });
  return model;
}

describe.each(BACKENDS)('small public APIs on %s', (backend) => {
  const rtol = RTOL[backend];
  beforeAll(() => useBackend(backend));

  it('sign and floor match Math on edge values and random ones, and pass no gradient', async () => {
    await covering({ forward: ['sign', 'floor'] }, async () => {
      for (const [op, ref] of [
        [nt.sign, Math.sign],
        [nt.floor, Math.floor],
      ] as const) {
        const v = edgyValues(37);
        const x = t32(v, [37]);
        const y = op(x);
        expect(y.shape).toEqual([37]);
        expect(y.dtype).toBe('float32');
        expectAllClose(await y.data(), v.map(ref), { rtol: 0, atol: 0 }, op.name);
        // Piecewise constant: no gradient flows through it, so d Σ op(x)·x = op(x).
        const g = nt.grad((z) => nt.sum(nt.mul(op(z), z)))(x);
        expectAllClose(await g.data(), v.map(ref), { rtol: 0, atol: 0 }, `${op.name} gradient`);
        nt.dispose([x, y, g]);
      }
    });
  });

  it.each([
    [[], 2.5, 'float32'],
    [[3, 1, 5], -0.75, 'float32'],
    [[4, 7], 3, 'int32'],
    [[2, 0, 3], 1, 'float32'],
  ] as const)('fill(%j, %d, %s) has that shape, dtype and value everywhere', async (shape, value, dtype) => {
    const y = nt.fill(shape, value, dtype);
    expect(y.shape).toEqual(shape);
    expect(y.dtype).toBe(dtype);
    const data = await y.data();
    expect(data.length).toBe(sizeOf(shape));
    expect(Array.from(data).every((d) => d === value)).toBe(true);
    y.dispose();
  });

  it('fill rejects a shape that is not a list of non-negative integers, naming fill', () => {
    expect(() => nt.fill([2, -1], 1)).toThrow(nt.ShapeError);
    expect(() => nt.fill([2.5], 1)).toThrow(/^fill: invalid shape \[2\.5\]/);
  });

  it.each(['float32', 'int32'] as const)('onesLike of a %s tensor: ones of its shape and dtype, with no gradient to the input', async (dtype) => {
    const shape = [2, 3, 5];
    const x = dtype === 'int32' ? nt.tensor(Int32Array.from({ length: 30 }, (_, i) => i - 15), shape) : t32(uniform(30), shape);
    let y = x;
    // onesLike is fill, an elementwise kernel of no inputs: the generic 'map' op.
    await covering({ forward: ['map'] }, () => void (y = nt.onesLike(x)));
    expect(y.shape).toEqual(shape);
    expect(y.dtype).toBe(dtype);
    expect(Array.from(await y.data())).toEqual(new Array(30).fill(1));
    if (dtype === 'float32') {
      const g = nt.grad((z) => nt.sum(nt.mul(nt.onesLike(z), 3)))(x);
      expect(Array.from(await g.data())).toEqual(new Array(30).fill(0));
      g.dispose();
    }
    nt.dispose([x, y]);
  });

  it.each(['mae', 'meanAbsoluteError', 'mean_absolute_error'])("the loss '%s': mean |ŷ − y| and its gradient, against float64", async (name) => {
    const loss = getLoss(name);
    expect(loss.name).toBe('meanAbsoluteError');
    const [rows, cols] = [5, 3];
    const y = uniform(rows * cols, -1, 1);
    // Predictions kept away from the labels, so the kink of |·| is never within the difference step.
    const p = y.map((v, i) => Math.fround(v + (i % 2 ? 1 : -1) * (0.1 + freshRng()())));
    const ref = (pv: Float64Array) => pv.reduce((s, v, i) => s + Math.abs(v - y[i]), 0) / pv.length;
    const [yt, pt] = [t32(y, [rows, cols]), t32(p, [rows, cols])];
    const value = loss.fn(yt, pt);
    expectCloseAtScale(await value.data(), Float64Array.of(ref(p)), rtol, 'mae value');
    const g = nt.grad((q) => loss.fn(yt, q))(pt);
    expectCloseAtScale(await g.data(), numericGradient(ref, p), rtol, 'mae gradient');
    nt.dispose([yt, pt, value, g]);
  });

  it('dropout zeroes elements and scales the rest by 1/(1 − rate); its gradient is the same mask; a seed repeats it', async () => {
    await covering({ forward: ['dropout'], gradient: ['dropout'] }, async () => {
      const rate = 0.3;
      const v = uniform(203, 0.5, 1.5);
      const w = uniform(203, -1, 1);
      const [x, wt] = [t32(v, [7, 29]), t32(w, [7, 29])];
      const y = nt.dropout(x, { rate, seed: 11 });
      const again = nt.dropout(x, { rate, seed: 11 });
      const g = nt.grad((z) => nt.sum(nt.mul(nt.dropout(z, { rate, seed: 11 }), wt)))(x);
      const [yv, av, gv] = [await y.data(), await again.data(), await g.data()];
      expect(Array.from(av)).toEqual(Array.from(yv));
      const kept = Array.from(yv, (u) => u !== 0);
      expect(kept.filter(Boolean).length).toBeGreaterThan(100);
      expect(kept.filter(Boolean).length).toBeLessThan(190);
      expectCloseAtScale(yv, v.map((u, i) => (kept[i] ? u / (1 - rate) : 0)), rtol, 'dropout values');
      expectCloseAtScale(gv, w.map((u, i) => (kept[i] ? u / (1 - rate) : 0)), rtol, 'dropout gradient');
      nt.dispose([x, wt, y, again, g]);
    });
  });

  it('randomUniform: the shape, values in [minval, maxval), spread over the range, the same for the same seed', async () => {
    await covering({ forward: ['randomUniform'] }, async () => {
      const a = nt.randomUniform([31, 17], { minval: -2, maxval: 3, seed: 5 });
      const b = nt.randomUniform([31, 17], { minval: -2, maxval: 3, seed: 5 });
      const [av, bv] = [await a.data(), await b.data()];
      expect(a.shape).toEqual([31, 17]);
      expect(Array.from(bv)).toEqual(Array.from(av));
      expect(Array.from(av).every((u) => u >= -2 && u < 3)).toBe(true);
      // 527 uniform values: each fifth of the range holds about 105 (5 standard deviations: ±46).
      for (let k = 0; k < 5; k++) {
        const inBin = Array.from(av).filter((u) => u >= -2 + k && u < -1 + k).length;
        expect(Math.abs(inBin - 527 / 5)).toBeLessThan(46);
      }
      nt.dispose([a, b]);
    });
  });

  it('compile with the mae loss: evaluate reports mean |ŷ − y| of the predictions, with [batch] labels for [batch, 1] outputs', async () => {
    const model = nt.sequential({ layers: [nt.layers.dense({ units: 1, inputShape: [4] })] });
    model.compile({ optimizer: 'sgd', loss: 'mae' });
    const x = t32(uniform(7 * 4), [7, 4]);
    const yv = uniform(7);
    const y = t32(yv, [7]);
    const pred = await model.predict(x).data();
    const value = (await model.evaluate(x, y)) as nt.Tensor;
    expectCloseAtScale(await value.data(), Float64Array.of(Array.from(pred).reduce((s, v, i) => s + Math.abs(v - yv[i]), 0) / 7), rtol, 'evaluate');
    nt.dispose([x, y, value]);
    model.dispose();
  });

  it('modelFromArtifacts rebuilds a saved model: same weights and predictions; corrupt weight data is a ModelFormatError naming the source', async () => {
    const original = tinyModel();
    let artifacts: nt.ModelArtifacts | undefined;
    await original.save({ save: async (a) => void (artifacts = a) });
    const copy = nt.modelFromArtifacts(artifacts!, 'memory://tiny');
    const x = t32(uniform(6 * 3), [6, 3]);
    const [a, b] = [original.predict(x) as nt.Tensor, copy.predict(x) as nt.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    const [wa, wb] = [original.getWeights(), copy.getWeights()];
    for (let i = 0; i < wa.length; i++) expect(Array.from(await wb[i].data())).toEqual(Array.from(await wa[i].data()));
    const truncated = { ...artifacts!, weightData: artifacts!.weightData.slice(0, artifacts!.weightData.byteLength - 4) };
    expect(() => nt.modelFromArtifacts(truncated, 'memory://tiny')).toThrow(nt.ModelFormatError);
    expect(() => nt.modelFromArtifacts(truncated, 'memory://tiny')).toThrow(/memory:\/\/tiny/);
    nt.dispose([x, a, b, ...wa, ...wb]);
    original.dispose();
    copy.dispose();
  });

  it('a Callback subclass gets the model and params before training, its hooks in order (awaited), and can stop training', async () => {
    const events: string[] = [];
    class Recorder extends nt.Callback {
      async onTrainBegin() {
        events.push(`trainBegin epochs=${this.params?.epochs} steps=${this.params?.steps} batch=${this.params?.batchSize} samples=${this.params?.samples} model=${this.model !== null}`);
      }
      onEpochBegin(epoch: number) {
        events.push(`epochBegin ${epoch}`);
      }
      async onBatchEnd(batch: number, logs?: nt.Logs) {
        await new Promise((r) => setTimeout(r, 1));
        events.push(`batchEnd ${batch} size=${logs?.size}`);
      }
      onEpochEnd(epoch: number, logs?: nt.Logs) {
        events.push(`epochEnd ${epoch} loss=${Number.isFinite(logs?.loss)}`);
        if (epoch === 1) this.model!.stopTraining = true;
      }
      onTrainEnd() {
        events.push('trainEnd');
      }
    }
    const model = tinyModel();
    const x = t32(uniform(10 * 3), [10, 3]);
    const y = t32(uniform(10), [10, 1]);
    const history = await model.fit(x, y, { epochs: 5, batchSize: 4, shuffle: false, verbose: 0, callbacks: new Recorder() });
    const epoch = (e: number) => [`epochBegin ${e}`, 'batchEnd 0 size=4', 'batchEnd 1 size=4', 'batchEnd 2 size=2', `epochEnd ${e} loss=true`];
    expect(events).toEqual(['trainBegin epochs=5 steps=3 batch=4 samples=10 model=true', ...epoch(0), ...epoch(1), 'trainEnd']);
    expect(history.history.loss).toHaveLength(2);
    nt.dispose([x, y]);
    model.dispose();
  });
});
